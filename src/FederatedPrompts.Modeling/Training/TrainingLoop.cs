using System.Diagnostics;
using FederatedPrompts.Modeling.Models;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Training;

/// <summary>What a (possibly resumed) training run has done so far; saved beside each checkpoint.</summary>
/// <typeparam name="TPoint">One held-out measurement, as the trainer defines it.</typeparam>
public abstract record TrainingState<TPoint>
{
    public int Step { get; init; }
    public long TrainTokens { get; init; }
    public double TrainSeconds { get; init; }
    public List<TPoint> HeldOutCurve { get; init; } = new();
    /// <summary>The loss of each step, as the trainer's <see cref="TrainingLoop.BatchLoss"/> returned it.</summary>
    public List<double> TrainLosses { get; init; } = new();
    public double TokensPerSecond => TrainSeconds > 0 ? TrainTokens / TrainSeconds : 0;
}

/// <summary>One finished training step.</summary>
public abstract record TrainingProgress<TPoint> where TPoint : class
{
    public int Step { get; init; }
    public int TotalSteps { get; init; }
    public double TrainLoss { get; init; }
    public double TokensPerSecond { get; init; }
    /// <summary>The held-out measurement taken after this step; null on the steps between evaluations.</summary>
    public TPoint? HeldOut { get; init; }
}

public static class TrainingLoop
{
    /// <summary>
    /// The version of the training recipe: what <see cref="TrainingLoop{TPoint, TState, TProgress}"/> and
    /// <see cref="TrainingOptimizer"/> make of given options. Models cached by their options (the built-in teacher and
    /// student of <c>fedprompt simulate</c>) put it in their key, so that a change of recipe trains them again instead of
    /// handing out a model trained the old way. 1: weight decay on every parameter; 2: none on biases and norm weights.
    /// </summary>
    public const int RecipeVersion = 2;

    /// <summary>The loss of one training batch, back-propagated into the trainable parameters; returns its value.</summary>
    public delegate double BatchLoss(Tensor inputs, Tensor targets);
}

/// <summary>
/// The training loop of the project's trainers (pretraining and distillation). Each step takes the batch of (seed, step)
/// (<see cref="TokenWindows"/>), sets the learning rate of <see cref="LearningRateSchedule"/>, back-propagates the trainer's
/// loss, clips the gradient norm to <see cref="PretrainOptions.GradientClip"/> and steps AdamW (<see cref="TrainingOptimizer"/>).
/// The held-out stream is evaluated at step 0, every <see cref="PretrainOptions.EvalEvery"/> steps and at the last; a checkpoint
/// is written every <see cref="PretrainOptions.CheckpointEvery"/> steps and at the last. Batches depend only on (seed, step) and
/// the checkpoint holds the optimizer's moments, so a resumed run ends with the weights of an uninterrupted one. A trainer
/// brings only what is its own: the loss of a batch (<paramref name="batchLoss"/>) and the held-out measurement
/// (<paramref name="evaluate"/>: held-out stream, step, device → point).
/// </summary>
/// <param name="model">The model trained: its parameters that require gradients are the ones optimized.</param>
public sealed class TrainingLoop<TPoint, TState, TProgress>(CausalLM model, PretrainOptions options, TrainingLoop.BatchLoss batchLoss,
    Func<TokenStream, int, Device, TPoint> evaluate)
    where TPoint : class
    where TState : TrainingState<TPoint>, new()
    where TProgress : TrainingProgress<TPoint>, new()
{
    /// <summary>
    /// Trains from <paramref name="state"/> (new, or loaded by <see cref="TrainingCheckpoint.TryLoadState{TState}"/>) up to the
    /// configured step count; <paramref name="saveFolder"/> writes the model (and tokenizer) into a folder, called for every
    /// checkpoint under <c>outputDir/checkpoint</c>. Leaves the model in eval mode.
    /// </summary>
    public TState Run(TokenStream train, TokenStream heldOut, TState state, string outputDir, Action<string> saveFolder,
        IProgress<TProgress>? progress, CancellationToken cancel)
    {
        int context = options.ContextLength;
        TokenWindows.Check(train, heldOut, context, model.Config.MaxPositions);
        var device = model.parameters().First().device;
        var trainable = model.parameters().Where(p => p.requires_grad).ToArray();
        using var optimizer = TrainingOptimizer.Create(trainable, options);
        TrainingCheckpoint.RestoreOptimizer(outputDir, state.Step, optimizer);

        var curve = new List<TPoint>(state.HeldOutCurve);
        var losses = new List<double>(state.TrainLosses);
        long tokens = state.TrainTokens;
        double seconds = state.TrainSeconds;
        var clock = new Stopwatch();
        int step = state.Step;
        TState Snapshot() => new() { Step = step, TrainTokens = tokens, TrainSeconds = seconds, HeldOutCurve = curve, TrainLosses = losses };

        if (step == 0) curve.Add(evaluate(heldOut, 0, device));

        while (step < options.Steps)
        {
            cancel.ThrowIfCancellationRequested();
            model.train();   // evaluation leaves the model in eval mode
            clock.Restart();
            double loss;
            using (var scope = NewDisposeScope())
            {
                foreach (var group in optimizer.ParamGroups) group.LearningRate = LearningRateSchedule.At(options, step);
                var (inputs, targets) = TokenWindows.TrainBatch(train, options, step, device);
                optimizer.zero_grad();
                loss = batchLoss(inputs, targets);
                nn.utils.clip_grad_norm_(trainable, options.GradientClip);
                optimizer.step();
            }
            seconds += clock.Elapsed.TotalSeconds;
            tokens += (long)options.BatchSize * context;
            losses.Add(loss);
            step++;

            TPoint? point = null;
            if (step % options.EvalEvery == 0 || step == options.Steps)
                curve.Add(point = evaluate(heldOut, step, device));
            if (step % options.CheckpointEvery == 0 || step == options.Steps)
                TrainingCheckpoint.Save(outputDir, Snapshot(), optimizer, saveFolder);
            progress?.Report(new TProgress
            {
                Step = step, TotalSteps = options.Steps, TrainLoss = loss, TokensPerSecond = tokens / Math.Max(seconds, 1e-9), HeldOut = point,
            });
        }
        model.eval();
        return Snapshot();
    }
}
