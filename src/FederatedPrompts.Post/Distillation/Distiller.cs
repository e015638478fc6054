using System.Diagnostics;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Post.Distillation;

public sealed record DistillOptions
{
    /// <summary>Steps, batches, AdamW with warm-up + cosine, evaluation and checkpoint cadence: as in pretraining.</summary>
    public PretrainOptions Training { get; init; } = new();
    public DistillationWeights Weights { get; init; } = new();
    /// <summary>
    /// Keeps the student's LM head at the teacher's. With tied embeddings the head is the token embedding, so this also freezes
    /// the input embeddings: soft prompts then live in exactly the teacher's embedding space.
    /// </summary>
    public bool FreezeHead { get; init; }
}

/// <summary>Held-out measurement of the student: its perplexity and the T²-scaled KL to the teacher.</summary>
public sealed record DistillEvalPoint(int Step, double StudentPerplexity, double KdLoss);

public sealed record DistillProgress(int Step, int TotalSteps, double TrainLoss, double TokensPerSecond, DistillEvalPoint? HeldOut);

/// <summary>What a (possibly resumed) distillation has done so far; saved beside each checkpoint.</summary>
public sealed record DistillState
{
    public int Step { get; init; }
    public long TrainTokens { get; init; }
    public double TrainSeconds { get; init; }
    public List<DistillEvalPoint> HeldOutCurve { get; init; } = new();
    /// <summary>The weighted total loss of each step.</summary>
    public List<double> TrainLosses { get; init; } = new();
    public double TokensPerSecond => TrainSeconds > 0 ? TrainTokens / TrainSeconds : 0;
}

/// <summary>
/// Distils a teacher into a student on a public token stream with <see cref="DistillationLoss"/>. The teacher only runs
/// forward (eval mode, no gradients). Batches, learning-rate schedule and checkpoints are the pretrainer's
/// (<see cref="TokenWindows"/>, <see cref="LearningRateSchedule"/>, <see cref="TrainingCheckpoint"/>), so resume is exact.
/// </summary>
public sealed class Distiller
{
    readonly CausalLM _teacher, _student;
    readonly DistillOptions _options;
    readonly TorchSharp.Modules.Parameter[] _trainable;

    public Distiller(CausalLM teacher, CausalLM student, DistillOptions options)
    {
        if (teacher.HiddenSize != student.HiddenSize || teacher.VocabSize != student.VocabSize)
            throw new ArgumentException($"student (hidden {student.HiddenSize}, vocabulary {student.VocabSize}) does not match " +
                                        $"teacher (hidden {teacher.HiddenSize}, vocabulary {teacher.VocabSize})");
        (_teacher, _student, _options) = (teacher, student, options);
        string head = StudentBuilder.HeadParameterName(student.Config);
        foreach (var (name, parameter) in student.named_parameters())
            parameter.requires_grad = !(options.FreezeHead && name == head);
        teacher.eval();
        _trainable = student.parameters().Where(p => p.requires_grad).ToArray();
    }

    /// <summary>
    /// Trains the student from <paramref name="state"/> (new or loaded by <see cref="TryLoadCheckpoint"/>) up to the
    /// configured step count; <paramref name="saveFolder"/> writes the student (and tokenizer) for each checkpoint.
    /// </summary>
    public DistillState Train(TokenStream train, TokenStream heldOut, DistillState state, string outputDir,
        Action<string> saveFolder, IProgress<DistillProgress>? progress = null, CancellationToken cancel = default)
    {
        var options = _options.Training;
        TokenWindows.Check(train, heldOut, options.ContextLength, _student.Config.MaxPositions);
        var device = _student.parameters().First().device;
        using var optimizer = optim.AdamW(_trainable, options.LearningRate, weight_decay: options.WeightDecay);
        TrainingCheckpoint.RestoreOptimizer(outputDir, state.Step, optimizer);

        var curve = new List<DistillEvalPoint>(state.HeldOutCurve);
        var losses = new List<double>(state.TrainLosses);
        long tokens = state.TrainTokens;
        double seconds = state.TrainSeconds;
        var clock = new Stopwatch();
        int step = state.Step;
        DistillState Snapshot() => new() { Step = step, TrainTokens = tokens, TrainSeconds = seconds, HeldOutCurve = curve, TrainLosses = losses };

        if (step == 0) curve.Add(Evaluate(heldOut, 0, device));

        while (step < options.Steps)
        {
            cancel.ThrowIfCancellationRequested();
            _student.train();
            clock.Restart();
            double loss;
            using (var scope = NewDisposeScope())
            {
                foreach (var group in optimizer.ParamGroups) group.LearningRate = LearningRateSchedule.At(options, step);
                var (inputs, targets) = TokenWindows.TrainBatch(train, options, step, device);
                optimizer.zero_grad();
                var terms = Loss(inputs, targets);
                terms.Total.backward();
                nn.utils.clip_grad_norm_(_trainable, options.GradientClip);
                optimizer.step();
                loss = terms.Total.item<float>();
            }
            seconds += clock.Elapsed.TotalSeconds;
            tokens += (long)options.BatchSize * options.ContextLength;
            losses.Add(loss);
            step++;

            DistillEvalPoint? point = null;
            if (step % options.EvalEvery == 0 || step == options.Steps)
                curve.Add(point = Evaluate(heldOut, step, device));
            if (step % options.CheckpointEvery == 0 || step == options.Steps)
                TrainingCheckpoint.Save(outputDir, Snapshot(), optimizer, saveFolder);
            progress?.Report(new DistillProgress(step, options.Steps, loss, tokens / Math.Max(seconds, 1e-9), point));
        }
        _student.eval();
        return Snapshot();
    }

    /// <summary>The distillation loss of the student on one batch; the teacher's outputs carry no graph.</summary>
    public DistillationLossTerms Loss(Tensor inputs, Tensor targets)
    {
        Tensor teacherHidden, teacherLogits;
        using (no_grad())
        {
            teacherHidden = _teacher.HiddenStates(_teacher.EmbedTokens(inputs));
            teacherLogits = _teacher.LmHead(teacherHidden);
        }
        var studentHidden = _student.HiddenStates(_student.EmbedTokens(inputs));
        var studentLogits = _student.LmHead(studentHidden);
        return DistillationLoss.Compute(teacherLogits, studentLogits, teacherHidden, studentHidden, targets, _options.Weights);
    }

    /// <summary>Student perplexity and T²·KL to the teacher over the held-out windows (token-weighted means).</summary>
    public DistillEvalPoint Evaluate(TokenStream heldOut, int step, Device device)
    {
        _student.eval();
        double nll = 0, kd = 0;
        long count = 0;
        using var noGrad = no_grad();
        foreach (var (inputs, targets) in TokenWindows.HeldOutBatches(heldOut, _options.Training, device))
        {
            using (inputs) using (targets) using (var scope = NewDisposeScope())
            {
                var terms = Loss(inputs, targets);
                long n = targets.numel();
                nll += terms.Lm.to_type(ScalarType.Float64).item<double>() * n;
                kd += terms.Kd.to_type(ScalarType.Float64).item<double>() * n;
                count += n;
            }
        }
        return new DistillEvalPoint(step, Math.Exp(nll / count), kd / count);
    }

    /// <summary>The state saved in <c>outputDir/checkpoint</c>, or null when there is none to resume.</summary>
    public static DistillState? TryLoadCheckpoint(string outputDir) => TrainingCheckpoint.TryLoadState<DistillState>(outputDir);
}
