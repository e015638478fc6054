using FederatedPrompts.Modeling.Models;
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
    /// <summary>AdamW's decoupled weight decay; <see cref="TrainingOptimizer"/> applies it to matrices and embeddings, not to biases and norm weights.</summary>
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

/// <summary>One finished pretraining step; <see cref="TrainingProgress{TPoint}.HeldOut"/> is the held-out perplexity where measured.</summary>
public sealed record PretrainProgress : TrainingProgress<PerplexityPoint>;

/// <summary>What a (possibly resumed) pretraining run has done so far; saved beside each checkpoint.</summary>
public sealed record PretrainState : TrainingState<PerplexityPoint>;

/// <summary>
/// Next-token pretraining of a causal LM on a token stream with the project's <see cref="TrainingLoop{TPoint, TState, TProgress}"/>
/// (schedule, clipping, checkpoints, exact resume): the batch loss is next-token cross-entropy
/// (<see cref="ChunkedCrossEntropy"/>) and the held-out measurement is perplexity.
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
        Action<string> saveFolder, IProgress<PretrainProgress>? progress = null, CancellationToken cancel = default) =>
        new TrainingLoop<PerplexityPoint, PretrainState, PretrainProgress>(model, options,
                (inputs, targets) => ChunkedCrossEntropy.MeanLoss(model, inputs, targets, backward: true),
                (held, step, device) => new PerplexityPoint(step, HeldOutPerplexity(held, device)))
            .Run(train, heldOut, state, outputDir, saveFolder, progress, cancel);

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
