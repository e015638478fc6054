using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Training;

/// <summary>
/// Input/target windows cut from a token stream, shared by every trainer of the project. Training batches are
/// seeded by (seed, step) alone, so a resumed run sees exactly the batches an uninterrupted run would.
/// </summary>
public static class TokenWindows
{
    /// <summary>
    /// The training batch of <paramref name="step"/>: random windows [B,C] and their next tokens [B,C]. With
    /// <see cref="PretrainOptions.WindowsAtDocuments"/> each window starts at a document separator, so it opens with
    /// end-of-text and a whole document, as a prompted input opens with BOS (the same token in GPT-2) and its text.
    /// </summary>
    public static (Tensor Inputs, Tensor Targets) TrainBatch(TokenStream stream, PretrainOptions options, int step, Device device)
    {
        var random = new Random(BatchSeed(options.Seed, step));
        var offsets = new long[options.BatchSize];
        long lastStart = stream.Length - options.ContextLength - 1;
        int starts = options.WindowsAtDocuments ? DocumentStartsUpTo(stream, lastStart) : 0;
        for (int b = 0; b < offsets.Length; b++)
            offsets[b] = options.WindowsAtDocuments ? stream.Separators[random.Next(starts)] : random.NextInt64(lastStart);
        return Windows(stream, offsets, options.ContextLength, device);
    }

    /// <summary>How many separators lie at or before <paramref name="lastStart"/> (a window from there still fits); at least one.</summary>
    static int DocumentStartsUpTo(TokenStream stream, long lastStart) => stream.SeparatorsUpTo(lastStart) is > 0 and var count ? count
        : throw new ArgumentException($"no document separator lies where a window of the stream's {stream.Length} tokens can start " +
                                      "(windows at documents need a tokenizer with an end-of-text token and a document before the last window)");

    /// <summary>
    /// The seed of one step's batch. A fixed mix (SplitMix64's finaliser), not <see cref="HashCode"/>, whose seed changes with every
    /// process: a run resumed by a new process must draw the same windows.
    /// </summary>
    public static int BatchSeed(int seed, int step)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)step) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    /// <summary>
    /// Non-overlapping held-out windows covering at most <see cref="PretrainOptions.EvalTokens"/> tokens (at least one
    /// window), in batches of <see cref="PretrainOptions.BatchSize"/>.
    /// </summary>
    public static IEnumerable<(Tensor Inputs, Tensor Targets)> HeldOutBatches(TokenStream heldOut, PretrainOptions options, Device device)
    {
        int context = options.ContextLength;
        long windows = Math.Max(1, Math.Min((heldOut.Length - 1) / context, options.EvalTokens / context));
        for (long start = 0; start < windows; start += options.BatchSize)
        {
            long n = Math.Min(options.BatchSize, windows - start);
            var offsets = new long[n];
            for (int w = 0; w < n; w++) offsets[w] = (start + w) * context;
            yield return Windows(heldOut, offsets, context, device);
        }
    }

    /// <summary>Rejects streams too short for one window and contexts longer than the model's positions.</summary>
    public static void Check(TokenStream train, TokenStream heldOut, int context, int maxPositions)
    {
        if (train.Length <= context + 1)
            throw new ArgumentException($"the training text has {train.Length} tokens, fewer than one window of {context + 1}");
        if (heldOut.Length <= context + 1)
            throw new ArgumentException($"the held-out text has {heldOut.Length} tokens, fewer than one window of {context + 1}");
        if (context > maxPositions)
            throw new ArgumentException($"context length {context} exceeds the model's {maxPositions} positions");
    }

    static (Tensor Inputs, Tensor Targets) Windows(TokenStream stream, long[] offsets, int context, Device device)
    {
        var inputs = new long[offsets.Length * context];
        var targets = new long[offsets.Length * context];
        var window = new int[context + 1];
        for (int b = 0; b < offsets.Length; b++)
        {
            stream.Read(offsets[b], window);
            for (int t = 0; t < context; t++)
            {
                inputs[b * context + t] = window[t];
                targets[b * context + t] = window[t + 1];
            }
        }
        return (tensor(inputs, device: device).reshape(offsets.Length, context), tensor(targets, device: device).reshape(offsets.Length, context));
    }
}
