using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Training;

/// <summary>
/// Input/target windows cut from a token stream, shared by every trainer of the project. Training batches are
/// seeded by (seed, step) alone, so a resumed run sees exactly the batches an uninterrupted run would.
/// </summary>
public static class TokenWindows
{
    /// <summary>The training batch of <paramref name="step"/>: random windows [B,C] and their next tokens [B,C].</summary>
    public static (Tensor Inputs, Tensor Targets) TrainBatch(int[] stream, PretrainOptions options, int step, Device device)
    {
        int context = options.ContextLength;
        var random = new Random(HashCode.Combine(options.Seed, step, 0x5eed));
        var offsets = Enumerable.Range(0, options.BatchSize).Select(_ => random.Next(stream.Length - context - 1)).ToArray();
        return Windows(stream, offsets, context, device);
    }

    /// <summary>
    /// Non-overlapping held-out windows covering at most <see cref="PretrainOptions.EvalTokens"/> tokens (at least one
    /// window), in batches of <see cref="PretrainOptions.BatchSize"/>.
    /// </summary>
    public static IEnumerable<(Tensor Inputs, Tensor Targets)> HeldOutBatches(int[] heldOut, PretrainOptions options, Device device)
    {
        int context = options.ContextLength;
        int windows = Math.Max(1, Math.Min((heldOut.Length - 1) / context, options.EvalTokens / context));
        for (int start = 0; start < windows; start += options.BatchSize)
        {
            int n = Math.Min(options.BatchSize, windows - start);
            yield return Windows(heldOut, Enumerable.Range(start, n).Select(w => w * context).ToArray(), context, device);
        }
    }

    /// <summary>Rejects streams too short for one window and contexts longer than the model's positions.</summary>
    public static void Check(int[] train, int[] heldOut, int context, int maxPositions)
    {
        if (train.Length <= context + 1)
            throw new ArgumentException($"the training text has {train.Length} tokens, fewer than one window of {context + 1}");
        if (heldOut.Length <= context + 1)
            throw new ArgumentException($"the held-out text has {heldOut.Length} tokens, fewer than one window of {context + 1}");
        if (context > maxPositions)
            throw new ArgumentException($"context length {context} exceeds the model's {maxPositions} positions");
    }

    static (Tensor Inputs, Tensor Targets) Windows(int[] stream, int[] offsets, int context, Device device)
    {
        var inputs = new long[offsets.Length * context];
        var targets = new long[offsets.Length * context];
        for (int b = 0; b < offsets.Length; b++)
            for (int t = 0; t < context; t++)
            {
                inputs[b * context + t] = stream[offsets[b] + t];
                targets[b * context + t] = stream[offsets[b] + t + 1];
            }
        return (tensor(inputs, device: device).reshape(offsets.Length, context), tensor(targets, device: device).reshape(offsets.Length, context));
    }
}
