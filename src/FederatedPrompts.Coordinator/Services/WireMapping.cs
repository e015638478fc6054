using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Post.Privacy;
using FederatedPrompts.Post.Tuning;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Google.Protobuf.WellKnownTypes;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>
/// The one place where the coordinator's domain types meet federation.proto's messages: the services map a request to
/// domain values on the way in and a result to a message on the way out; nothing behind them sees a message. A malformed
/// message becomes an INVALID_ARGUMENT refusal naming what is wrong.
/// </summary>
static class WireMapping
{
    public static PromptMode ModeOf(Mode mode) => mode switch
    {
        Mode.Soft => PromptMode.Soft,
        Mode.Discrete => PromptMode.Discrete,
        _ => throw new RejectionException(RejectionKind.Invalid, $"mode {mode} is not soft or discrete"),
    };

    public static Mode ToWire(PromptMode mode) => mode == PromptMode.Soft ? Mode.Soft : Mode.Discrete;

    /// <summary>The prompt of an upload (null when the message has none: the engine refuses that with its own message).</summary>
    public static Prompt? PromptOf(PromptValue? message) => message is null or { KindCase: PromptValue.KindOneofCase.None } ? null : Invalid(() => PromptMessages.ToPrompt(message));

    public static LocalWorkMetrics? MetricsOf(LocalMetrics? m) =>
        m is null ? null : new(m.AccuracyBefore, m.AccuracyAfter, m.FinalLoss, m.Steps, m.Queries, m.TokensSent, m.Seconds);

    public static DpSpend? SpendOf(PrivacySpend? p) =>
        p is null ? null : new(p.ClipNorm, p.NoiseMultiplier, p.SampleRate, p.Steps, p.Delta, p.EpsilonRound, p.EpsilonTotal);

    public static RoundTaskReply ToWire(ClientTask task, string runId, int totalRounds, int retryAfterMs)
    {
        var reply = new RoundTaskReply
        {
            Action = task.Action switch
            {
                TaskAction.Wait => RoundTaskReply.Types.Action.Wait,
                TaskAction.Train => RoundTaskReply.Types.Action.Train,
                _ => RoundTaskReply.Types.Action.Finished,
            },
            RunId = runId, Round = task.Round, TotalRounds = totalRounds, RetryAfterMs = retryAfterMs, Reason = task.Reason,
        };
        if (task.Training is { } training)
        {
            reply.GlobalPrompt = PromptMessages.ToMessage(training.GlobalPrompt);
            reply.GlobalPromptVersion = training.PromptVersion;
            reply.Deadline = Timestamp.FromDateTimeOffset(training.Deadline);
            reply.Work = ToWire(training.Work);
        }
        return reply;
    }

    static Protocol.V1.LocalWork ToWire(Rounds.LocalWork work)
    {
        var message = new Protocol.V1.LocalWork { Seed = work.Seed };
        switch (work)
        {
            case Rounds.LocalWork.Soft { Settings: var soft }:
                message.Soft = new SoftWork
                {
                    Epochs = soft.Epochs, BatchSize = soft.BatchSize, LearningRate = soft.LearningRateInUse(),
                    Optimizer = soft.OptimizerInUse() == PromptOptimizer.Sgd ? "sgd" : "adam",
                };
                if (soft.Dp is { } dp) message.Soft.Dp = new DpPolicy
                {
                    ClipNorm = dp.ClipNorm, Epsilon = dp.Epsilon, Delta = dp.Delta ?? 0, Accountant = PrivacyAccountants.Name(dp.AccountantInUse),
                };
                break;
            case Rounds.LocalWork.Discrete { Settings: var d }:
                message.Discrete = new DiscreteWork
                {
                    Iterations = d.Iterations, PositionsPerIteration = d.PositionsPerIteration, CandidatesPerPosition = d.CandidatesPerPosition,
                    LocalBatchSize = d.LocalBatchSize, PublicPerLabel = d.PublicPerLabel, UseFeedback = d.UseFeedback, QueryBudget = d.QueryBudget,
                    NeighbourEmbeddings = d.NeighbourEmbeddings,
                };
                break;
        }
        return message;
    }

    /// <summary>The run's template, label words and the public examples sent to clients.</summary>
    public static TaskSpec ToWire(RunTask task)
    {
        var spec = new TaskSpec { Template = task.Template.Pattern };
        foreach (var label in task.Verbalizer.Labels)
            spec.Labels.Add(new LabelWords { Label = label, Words = { task.Verbalizer.WordsFor(label) } });
        foreach (var example in task.PublicExamples)
            spec.PublicExamples.Add(new PublicExample { Text = example.Text, Label = example.Label });
        return spec;
    }

    public static ModelManifest ToWire(ModelFolder folder)
    {
        var manifest = new ModelManifest { ModelIdentity = folder.ModelIdentity, TokenizerIdentity = folder.TokenizerIdentity };
        foreach (var file in folder.Files) manifest.Files.Add(new ModelFile { Name = file.Name, Size = file.Size, Sha256 = file.Sha256 });
        return manifest;
    }

    static T Invalid<T>(Func<T> read)
    {
        try { return read(); }
        catch (ArgumentException e) { throw new RejectionException(RejectionKind.Invalid, e.Message); }
    }
}
