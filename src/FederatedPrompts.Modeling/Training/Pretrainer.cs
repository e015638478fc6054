using System.Diagnostics;
using System.Text.Json;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Training;

public sealed record PretrainOptions
{
    public int Steps { get; init; } = 1000;
    public int BatchSize { get; init; } = 16;
    public int ContextLength { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public double MinLearningRateFraction { get; init; } = 0.1;
    public int WarmupSteps { get; init; } = 50;
    public double WeightDecay { get; init; } = 0.01;
    public double GradientClip { get; init; } = 1.0;
    public int EvalEvery { get; init; } = 100;
    /// <summary>Held-out perplexity is measured on at most this many tokens (non-overlapping windows).</summary>
    public int EvalTokens { get; init; } = 8192;
    public int CheckpointEvery { get; init; } = 250;
    public int Seed { get; init; } = 1;
}

public sealed record PerplexityPoint(int Step, double Perplexity);

public sealed record PretrainProgress(int Step, int TotalSteps, double TrainLoss, double TokensPerSecond, PerplexityPoint? HeldOut);

/// <summary>What a (possibly resumed) run has done so far; saved beside each checkpoint.</summary>
public sealed record PretrainState
{
    public int Step { get; init; }
    public long TrainTokens { get; init; }
    public double TrainSeconds { get; init; }
    public List<PerplexityPoint> HeldOutCurve { get; init; } = new();
    public List<double> TrainLosses { get; init; } = new();
    public double TokensPerSecond => TrainSeconds > 0 ? TrainTokens / TrainSeconds : 0;
}

/// <summary>
/// Next-token pretraining of a causal LM on a token stream, with held-out perplexity, periodic checkpoints
/// and exact resume: the batch of step s depends only on (seed, s), so a resumed run sees the same batches
/// it would have seen uninterrupted.
/// </summary>
public sealed class Pretrainer(CausalLM model, PretrainOptions options)
{
    public const string CheckpointFolder = "checkpoint";
    const string StateFile = "trainer_state.json", OptimizerFile = "optimizer.bin";

    /// <summary>Concatenates documents into one stream, each followed by the end-of-text token when the tokenizer has one.</summary>
    public static int[] Tokenize(IEnumerable<string> documents, ITextTokenizer tokenizer)
    {
        var stream = new List<int>();
        foreach (var doc in documents)
        {
            stream.AddRange(tokenizer.Encode(doc));
            if (tokenizer.EosId is int eos) stream.Add(eos);
        }
        return stream.ToArray();
    }

    /// <summary>
    /// Trains from <paramref name="state"/> (new or loaded by <see cref="TryLoadCheckpoint"/>) up to the configured
    /// step count. <paramref name="saveFolder"/> writes the model (and tokenizer) to a folder; it is called for
    /// every checkpoint, under <c>outputDir/checkpoint</c>.
    /// </summary>
    public PretrainState Train(int[] train, int[] heldOut, PretrainState state, string outputDir,
        Action<string> saveFolder, IProgress<PretrainProgress>? progress = null, CancellationToken cancel = default)
    {
        int context = options.ContextLength;
        if (train.Length <= context + 1)
            throw new ArgumentException($"the training text has {train.Length} tokens, fewer than one window of {context + 1}");
        if (heldOut.Length <= context + 1)
            throw new ArgumentException($"the held-out text has {heldOut.Length} tokens, fewer than one window of {context + 1}");
        if (context > model.Config.MaxPositions)
            throw new ArgumentException($"context length {context} exceeds the model's {model.Config.MaxPositions} positions");

        var device = model.parameters().First().device;
        using var optimizer = optim.AdamW(model.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        string checkpointDir = Path.Combine(outputDir, CheckpointFolder);
        if (state.Step > 0 && File.Exists(Path.Combine(checkpointDir, OptimizerFile)))
            optimizer.load_state_dict(Path.Combine(checkpointDir, OptimizerFile));

        var curve = new List<PerplexityPoint>(state.HeldOutCurve);
        var losses = new List<double>(state.TrainLosses);
        long tokens = state.TrainTokens;
        double seconds = state.TrainSeconds;
        var clock = new Stopwatch();
        int step = state.Step;
        PretrainState Snapshot() => new() { Step = step, TrainTokens = tokens, TrainSeconds = seconds, HeldOutCurve = curve, TrainLosses = losses };

        if (step == 0)
            curve.Add(new PerplexityPoint(0, HeldOutPerplexity(heldOut, device)));

        while (step < options.Steps)
        {
            cancel.ThrowIfCancellationRequested();
            model.train();
            clock.Restart();
            double loss;
            using (var scope = NewDisposeScope())
            {
                foreach (var group in optimizer.ParamGroups) group.LearningRate = LearningRateAt(step);
                var (inputs, targets) = Batch(train, step, device);
                optimizer.zero_grad();
                var logits = model.Logits(inputs);
                var lossTensor = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1));
                lossTensor.backward();
                nn.utils.clip_grad_norm_(model.parameters(), options.GradientClip);
                optimizer.step();
                loss = lossTensor.item<float>();
            }
            seconds += clock.Elapsed.TotalSeconds;
            tokens += (long)options.BatchSize * context;
            losses.Add(loss);
            step++;

            PerplexityPoint? point = null;
            if (step % options.EvalEvery == 0 || step == options.Steps)
                curve.Add(point = new PerplexityPoint(step, HeldOutPerplexity(heldOut, device)));
            if (step % options.CheckpointEvery == 0 || step == options.Steps)
                SaveCheckpoint(checkpointDir, Snapshot(), optimizer, saveFolder);
            progress?.Report(new PretrainProgress(step, options.Steps, loss, tokens / Math.Max(seconds, 1e-9), point));
        }
        return Snapshot();
    }

    /// <summary>Cosine decay to <see cref="PretrainOptions.MinLearningRateFraction"/> after a linear warm-up.</summary>
    public double LearningRateAt(int step)
    {
        if (step < options.WarmupSteps) return options.LearningRate * (step + 1) / options.WarmupSteps;
        double progress = (double)(step - options.WarmupSteps) / Math.Max(1, options.Steps - options.WarmupSteps);
        double floor = options.MinLearningRateFraction;
        return options.LearningRate * (floor + (1 - floor) * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress))));
    }

    (Tensor inputs, Tensor targets) Batch(int[] stream, int step, Device device)
    {
        int context = options.ContextLength, batch = options.BatchSize;
        var random = new Random(HashCode.Combine(options.Seed, step, 0x5eed));
        var inputs = new long[batch * context];
        var targets = new long[batch * context];
        for (int b = 0; b < batch; b++)
        {
            int offset = random.Next(stream.Length - context - 1);
            for (int t = 0; t < context; t++)
            {
                inputs[b * context + t] = stream[offset + t];
                targets[b * context + t] = stream[offset + t + 1];
            }
        }
        return (tensor(inputs, device: device).reshape(batch, context), tensor(targets, device: device).reshape(batch, context));
    }

    /// <summary>exp(mean next-token NLL) over non-overlapping windows of the held-out stream.</summary>
    public double HeldOutPerplexity(int[] heldOut, Device device)
    {
        model.eval();
        int context = options.ContextLength;
        int windows = Math.Max(1, Math.Min((heldOut.Length - 1) / context, options.EvalTokens / context));
        double totalNll = 0;
        long count = 0;
        using var noGrad = no_grad();
        for (int start = 0; start < windows; start += options.BatchSize)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(options.BatchSize, windows - start);
            var inputs = new long[n * context];
            var targets = new long[n * context];
            for (int w = 0; w < n; w++)
                for (int t = 0; t < context; t++)
                {
                    inputs[w * context + t] = heldOut[(start + w) * context + t];
                    targets[w * context + t] = heldOut[(start + w) * context + t + 1];
                }
            var logits = model.Logits(tensor(inputs, device: device).reshape(n, context));
            var nll = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), tensor(targets, device: device),
                reduction: nn.Reduction.Sum);
            totalNll += nll.to_type(ScalarType.Float64).item<double>();
            count += n * context;
        }
        return Math.Exp(totalNll / count);
    }

    void SaveCheckpoint(string checkpointDir, PretrainState state, TorchSharp.Modules.OptimizerHelper optimizer, Action<string> saveFolder)
    {
        // Write beside, then swap: a crash mid-save leaves the previous checkpoint intact.
        string staging = checkpointDir + ".staging";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        saveFolder(staging);
        optimizer.save_state_dict(Path.Combine(staging, OptimizerFile));
        File.WriteAllText(Path.Combine(staging, StateFile), JsonSerializer.Serialize(state, JsonOptions));
        if (Directory.Exists(checkpointDir)) Directory.Delete(checkpointDir, recursive: true);
        Directory.Move(staging, checkpointDir);
    }

    /// <summary>The state saved in <c>outputDir/checkpoint</c>, or null when there is none to resume.</summary>
    public static PretrainState? TryLoadCheckpoint(string outputDir)
    {
        string path = Path.Combine(outputDir, CheckpointFolder, StateFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<PretrainState>(File.ReadAllText(path), JsonOptions) : null;
    }

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
