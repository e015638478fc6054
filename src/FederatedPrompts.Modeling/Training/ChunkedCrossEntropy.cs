using FederatedPrompts.Modeling.Models;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Training;

/// <summary>
/// Next-token cross-entropy computed over slices of positions, so that only one slice's vocabulary-wide logits exist at
/// a time. With GPT-2's vocabulary one batch of 16 × 64 positions has 206 MB of logits, held several times over by the
/// softmax, its gradient and the head's backward: most of a pretraining step's memory. Here the trunk runs once, its
/// output is cut from the graph, each slice's loss is back-propagated into that cut (and the head) at once, and the
/// trunk's backward then starts from the gathered gradient. Loss and gradients are those of the whole batch (sum over
/// slices of sums, divided by the token count), up to float rounding.
/// </summary>
public static class ChunkedCrossEntropy
{
    /// <summary>Logit elements per slice: 8 M floats (32 MB); a 4,096-token vocabulary keeps a 2,048-position batch whole.</summary>
    public const long LogitsPerSlice = 8L << 20;

    /// <summary>Positions per slice for a vocabulary of this size (at least one).</summary>
    public static long SlicePositions(int vocabSize) => Math.Max(1, LogitsPerSlice / vocabSize);

    /// <summary>
    /// Mean next-token NLL of <paramref name="targets"/> after <paramref name="inputs"/> (both [B, T]); with
    /// <paramref name="backward"/> also accumulates its gradient into the model's parameters. <paramref name="slicePositions"/>
    /// (default <see cref="SlicePositions"/> of the model's vocabulary) is how many positions share one slice.
    /// </summary>
    public static double MeanLoss(CausalLM model, Tensor inputs, Tensor targets, bool backward, long? slicePositions = null)
    {
        using var scope = NewDisposeScope();
        var hidden = model.HiddenStates(model.EmbedTokens(inputs)).reshape(-1, model.HiddenSize);
        var flatTargets = targets.reshape(-1);
        long count = flatTargets.shape[0], slice = slicePositions ?? SlicePositions(model.VocabSize);
        // One slice needs no cut: its backward runs through the whole graph at once, as an unsliced loss's would.
        bool sliced = backward && count > slice;
        var cut = sliced ? hidden.detach().requires_grad_(true) : hidden;
        double total = 0;
        for (long start = 0; start < count; start += slice)
        {
            using var sliceScope = NewDisposeScope();
            long length = Math.Min(slice, count - start);
            var logits = model.LmHead(cut.narrow(0, start, length));
            var loss = nn.functional.cross_entropy(logits, flatTargets.narrow(0, start, length), reduction: nn.Reduction.Sum) / count;
            if (backward) loss.backward();
            total += loss.to_type(ScalarType.Float64).item<double>();
        }
        if (sliced) hidden.backward([cut.grad!]);
        return total;
    }
}
