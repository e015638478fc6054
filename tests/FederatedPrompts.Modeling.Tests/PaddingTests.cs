using FederatedPrompts.Modeling.Models;
using TorchSharp;
using static FederatedPrompts.Modeling.Tests.ModelTestSupport;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

/// <summary>A padded batch gives, at every real position, the logits of the same sequence run alone.</summary>
public class PaddingTests
{
    public static TheoryData<string, bool> Cases => new()
    {
        { "gpt2", true }, { "gpt2", false }, { "llama", true }, { "llama", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Padded_batch_matches_unpadded_sequences(string family, bool leftPadding)
    {
        var config = family == "gpt2"
            ? ReferenceForwardTests.Gpt2()
            : ReferenceForwardTests.Llama(heads: 4, kvHeads: 2, ropeScaling: null);
        var model = HfCheckpoint.Create(config, seed: 5);
        Randomize(model, seed: 6);
        int[][] sequences = [RandomIds(9, config.VocabSize, seed: 1), RandomIds(5, config.VocabSize, seed: 2), RandomIds(1, config.VocabSize, seed: 3)];
        int length = sequences.Max(s => s.Length);
        const int padId = 0;

        var ids = new long[sequences.Length, length];
        var mask = new long[sequences.Length, length];
        var offsets = sequences.Select(s => leftPadding ? length - s.Length : 0).ToArray();
        for (int b = 0; b < sequences.Length; b++)
            for (int t = 0; t < length; t++)
            {
                int index = t - offsets[b];
                bool real = index >= 0 && index < sequences[b].Length;
                ids[b, t] = real ? sequences[b][index] : padId;
                mask[b, t] = real ? 1 : 0;
            }

        using var _ = inference_mode();
        using var batchLogits = model.Logits(tensor(ids), tensor(mask));
        Assert.False(batchLogits.isnan().any().item<bool>(), "padded positions must not produce NaN");
        for (int b = 0; b < sequences.Length; b++)
        {
            using var real = batchLogits[b].narrow(0, offsets[b], sequences[b].Length);
            double difference = MaxAbsDifference(Logits(model, sequences[b]), Rows(real));
            Assert.True(difference < 1e-4, $"sequence {b}: max difference {difference:E3}");
        }
    }
}
