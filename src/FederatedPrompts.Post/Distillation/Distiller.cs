using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Training;
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

/// <summary>One finished distillation step; <see cref="TrainingProgress{TPoint}.HeldOut"/> is the held-out measurement where taken.</summary>
public sealed record DistillProgress : TrainingProgress<DistillEvalPoint>;

/// <summary>What a (possibly resumed) distillation has done so far (its train losses are the weighted total); saved beside each checkpoint.</summary>
public sealed record DistillState : TrainingState<DistillEvalPoint>;

/// <summary>
/// Distils a teacher into a student on a public token stream with the project's <see cref="TrainingLoop{TPoint, TState, TProgress}"/>
/// (batches, schedule, optimizer, checkpoints, exact resume): the batch loss is <see cref="DistillationLoss"/> and the held-out
/// measurement is the student's perplexity and KD loss. The teacher only runs forward (eval mode, no gradients).
/// </summary>
public sealed class Distiller
{
    readonly CausalLM _teacher, _student;
    readonly DistillOptions _options;

    public Distiller(CausalLM teacher, CausalLM student, DistillOptions options)
    {
        if (teacher.HiddenSize != student.HiddenSize || teacher.VocabSize != student.VocabSize)
            throw new ArgumentException($"student (hidden {student.HiddenSize}, vocabulary {student.VocabSize}) does not match " +
                                        $"teacher (hidden {teacher.HiddenSize}, vocabulary {teacher.VocabSize})");
        (_teacher, _student, _options) = (teacher, student, options);
        // The training loop optimizes the parameters that require gradients: a frozen head is left out.
        string head = StudentBuilder.HeadParameterName(student.Config);
        foreach (var (name, parameter) in student.named_parameters())
            parameter.requires_grad = !(options.FreezeHead && name == head);
        teacher.eval();
    }

    /// <summary>
    /// Trains the student from <paramref name="state"/> (new or loaded by <see cref="TryLoadCheckpoint"/>) up to the
    /// configured step count; <paramref name="saveFolder"/> writes the student (and tokenizer) for each checkpoint.
    /// </summary>
    public DistillState Train(TokenStream train, TokenStream heldOut, DistillState state, string outputDir,
        Action<string> saveFolder, IProgress<DistillProgress>? progress = null, CancellationToken cancel = default) =>
        new TrainingLoop<DistillEvalPoint, DistillState, DistillProgress>(_student, _options.Training, BackPropagatedLoss, Evaluate)
            .Run(train, heldOut, state, outputDir, saveFolder, progress, cancel);

    /// <summary>The weighted total loss of one training batch, back-propagated into the student.</summary>
    double BackPropagatedLoss(Tensor inputs, Tensor targets)
    {
        var total = Loss(inputs, targets).Total;
        total.backward();
        return total.item<float>();
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
