using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

public class ChunkedCrossEntropyTests
{
    static readonly string[] Documents = ["the cat sat on the mat and the dog sat on the log", "a bird flew over the house and a fish swam in the sea"];

    [Fact]
    public void Sliced_loss_and_gradients_equal_the_whole_batch_cross_entropy()
    {
        var tokenizer = Cl100kSubsetTokenizer.Train(Documents, 300);
        using var model = HfCheckpoint.Create(new GptShape(Layers: 2, Hidden: 16, Heads: 2, Context: 8).ToConfig(tokenizer.VocabSize, tokenizer), seed: 3);
        var generator = new TorchSharp.torch.Generator(11);
        var ids = randint(0, tokenizer.VocabSize, [3, 9], generator: generator);
        var (inputs, targets) = (ids[.., ..^1], ids[.., 1..]);

        model.zero_grad();
        var whole = nn.functional.cross_entropy(model.Logits(inputs).reshape(-1, tokenizer.VocabSize), targets.reshape(-1));
        whole.backward();
        var expected = model.parameters().Select(p => p.grad!.clone()).ToList();

        // 24 positions in slices of 5: four whole slices and a remainder of 4, so slicing and the last short slice both count.
        model.zero_grad();
        double sliced = ChunkedCrossEntropy.MeanLoss(model, inputs, targets, backward: true, slicePositions: 5);

        Assert.Equal(whole.item<float>(), sliced, 5);
        var actual = model.parameters().Select(p => p.grad!).ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(allclose(actual[i], expected[i], rtol: 1e-4, atol: 1e-6), $"parameter {i}: gradients differ by up to {(actual[i] - expected[i]).abs().max().item<float>()}");
        // A batch that fits one slice takes the uncut path: the same loss and gradients.
        model.zero_grad();
        Assert.Equal(whole.item<float>(), ChunkedCrossEntropy.MeanLoss(model, inputs, targets, backward: true, slicePositions: 100), 5);
        foreach (var (p, e) in model.parameters().Zip(expected)) Assert.True(allclose(p.grad!, e, rtol: 1e-4, atol: 1e-6));
        actual = model.parameters().Select(p => p.grad!).ToList();
        // Without backward it only measures, and leaves the gradients alone.
        Assert.Equal(sliced, ChunkedCrossEntropy.MeanLoss(model, inputs, targets, backward: false, slicePositions: 7), 5);
        Assert.True(allclose(actual[0], expected[0], rtol: 1e-4, atol: 1e-6));
    }

    [Fact]
    public void Slices_hold_at_most_8_M_logits_and_keep_a_small_vocabulary_batch_whole()
    {
        Assert.Equal(166, ChunkedCrossEntropy.SlicePositions(50257));
        Assert.Equal(2048, ChunkedCrossEntropy.SlicePositions(4096));
        Assert.Equal(1, ChunkedCrossEntropy.SlicePositions(int.MaxValue));
    }
}
