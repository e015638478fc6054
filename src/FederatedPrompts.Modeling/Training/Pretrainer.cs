using System.Diagnostics;
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
    /// <summary>
    /// Start every training window at a document separator instead of anywhere. A window cut inside a document shows the
    /// model text whose opening it cannot see; where the opening decides what follows (a genre's marker), that teaches
    /// a blend of the genres that no whole document has.
    /// </summary>
    public bool WindowsAtDocuments { get; init; }
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
    public const string CheckpointFolder = TrainingCheckpoint.Folder;

    /// <summary>
    /// Trains from <paramref name="state"/> (new or loaded by <see cref="TryLoadCheckpoint"/>) up to the configured
    /// step count. <paramref name="saveFolder"/> writes the model (and tokenizer) to a folder; it is called for
    /// every checkpoint, under <c>outputDir/checkpoint</c>.
    /// </summary>
    public PretrainState Train(TokenStream train, TokenStream heldOut, PretrainState state, string outputDir,
        Action<string> saveFolder, IProgress<PretrainProgress>? progress = null, CancellationToken cancel = default)
    {
        int context = options.ContextLength;
        TokenWindows.Check(train, heldOut, context, model.Config.MaxPositions);

        var device = model.parameters().First().device;
        using var optimizer = optim.AdamW(model.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        TrainingCheckpoint.RestoreOptimizer(outputDir, state.Step, optimizer);

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
                var (inputs, targets) = TokenWindows.TrainBatch(train, options, step, device);
                optimizer.zero_grad();
                loss = ChunkedCrossEntropy.MeanLoss(model, inputs, targets, backward: true);
                nn.utils.clip_grad_norm_(model.parameters(), options.GradientClip);
                optimizer.step();
            }
            seconds += clock.Elapsed.TotalSeconds;
            tokens += (long)options.BatchSize * context;
            losses.Add(loss);
            step++;

            PerplexityPoint? point = null;
            if (step % options.EvalEvery == 0 || step == options.Steps)
                curve.Add(point = new PerplexityPoint(step, HeldOutPerplexity(heldOut, device)));
            if (step % options.CheckpointEvery == 0 || step == options.Steps)
                TrainingCheckpoint.Save(outputDir, Snapshot(), optimizer, saveFolder);
            progress?.Report(new PretrainProgress(step, options.Steps, loss, tokens / Math.Max(seconds, 1e-9), point));
        }
        return Snapshot();
    }

    /// <summary>Cosine decay to <see cref="PretrainOptions.MinLearningRateFraction"/> after a linear warm-up.</summary>
    public double LearningRateAt(int step) => LearningRateSchedule.At(options, step);

    /// <summary>exp(mean next-token NLL) over non-overlapping windows of the held-out stream.</summary>
    public double HeldOutPerplexity(TokenStream heldOut, Device device)
    {
        model.eval();
        double totalNll = 0;
        long count = 0;
        using var noGrad = no_grad();
        foreach (var (inputs, targets) in TokenWindows.HeldOutBatches(heldOut, options, device))
        {
            using (inputs) using (targets)
            {
                totalNll += ChunkedCrossEntropy.MeanLoss(model, inputs, targets, backward: false) * targets.numel();
                count += targets.numel();
            }
        }
        return Math.Exp(totalNll / count);
    }

    /// <summary>The state saved in <c>outputDir/checkpoint</c>, or null when there is none to resume.</summary>
    public static PretrainState? TryLoadCheckpoint(string outputDir) => TrainingCheckpoint.TryLoadState<PretrainState>(outputDir);
}
