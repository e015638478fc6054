using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Post.Privacy;
using FederatedPrompts.Post.Tuning;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;

namespace FederatedPrompts.Client.Transport;

/// <summary>
/// The client's one mapping between wire messages and its domain values. Reading is where the coordinator's answers
/// are checked: a malformed or unknown value fails here with an <see cref="InvalidDataException"/> naming it, before
/// the loop or any local work sees it.
/// </summary>
static class ClientMessages
{
    public static Mode ToMessage(PromptMode mode) => mode switch
    {
        PromptMode.Soft => Mode.Soft,
        PromptMode.Discrete => Mode.Discrete,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a federation mode"),
    };

    static PromptMode ToMode(Mode mode) => mode switch
    {
        Mode.Soft => PromptMode.Soft,
        Mode.Discrete => PromptMode.Discrete,
        _ => throw new InvalidDataException($"the coordinator names mode {mode}, which this client does not know"),
    };

    public static Enrolment ToEnrolment(EnrolReply reply)
    {
        Require(reply.ClientId.Length > 0 && reply.RunId.Length > 0, "the enrolment names no client or no run");
        var model = reply.Model ?? throw new InvalidDataException($"the enrolment in {reply.RunId} carries no model manifest");
        var task = reply.Task ?? throw new InvalidDataException($"the enrolment in {reply.RunId} carries no task");
        var manifest = new ModelManifest(model.ModelIdentity, model.TokenizerIdentity, model.Files.Select(f => new ModelFile(f.Name, f.Size, f.Sha256)).ToList());
        var spec = new RunTaskSpec(
            new PromptTemplate(task.Template),
            new Verbalizer(task.Labels.Select(l => new KeyValuePair<string, IReadOnlyList<string>>(l.Label, l.Words.ToList()))),
            task.PublicExamples.Count == 0 ? null
                : new TaskDataset(task.PublicExamples.Select(e => new LabeledExample(e.Text, e.Label)), "the coordinator's public examples"));
        return new Enrolment(reply.ClientId, reply.RunId, ToMode(reply.Mode), manifest, spec,
            TimeSpan.FromSeconds(Math.Max(1, reply.HeartbeatSeconds)), InferenceLimitsOf(reply.Limits));
    }

    /// <summary>The coordinator's limits where it stated them (<see cref="InferenceLimits"/>' values where not, as a coordinator older than the field).</summary>
    static InferenceRequestLimits InferenceLimitsOf(Limits? limits) => new(
        limits?.MaxTextsPerRequest is > 0 and var texts ? texts : InferenceLimits.MaxTextsPerRequest,
        limits?.MaxTextBytes is > 0 and var bytes ? bytes : InferenceLimits.MaxTextBytes,
        // Three quarters of the largest message leaves room for the prompt and the framing.
        limits?.MaxMessageBytes is > 0 and var message ? Math.Min(InferenceLimits.MaxRequestTextBytes, message * 3L / 4) : InferenceLimits.MaxRequestTextBytes);

    public static NextStep ToNextStep(RoundTaskReply reply) => reply.Action switch
    {
        RoundTaskReply.Types.Action.Wait => new NextStep.Wait(TimeSpan.FromMilliseconds(reply.RetryAfterMs), reply.Reason),
        RoundTaskReply.Types.Action.Train => new NextStep.Train(ToAssignment(reply)),
        RoundTaskReply.Types.Action.Finished => new NextStep.Finished(reply.Round, reply.Reason),
        var other => throw new InvalidDataException($"round task action {other} is not one this client knows"),
    };

    static RoundAssignment ToAssignment(RoundTaskReply reply)
    {
        int round = reply.Round;
        Require(round >= 1 && round <= reply.TotalRounds, $"round {round} of {reply.TotalRounds} is not a round of the run");
        Require(reply.GlobalPromptVersion.Length > 0, $"round {round} names no global prompt version");
        LocalWorkSettings work = reply.Work?.KindCase switch
        {
            LocalWork.KindOneofCase.Soft => ToSettings(round, reply.Work.Soft, reply.GlobalPrompt),
            LocalWork.KindOneofCase.Discrete => ToSettings(round, reply.Work.Discrete, reply.GlobalPrompt),
            _ => throw new InvalidDataException($"round {round} names no local work"),
        };
        return new RoundAssignment(reply.RunId, round, reply.TotalRounds, reply.GlobalPromptVersion, reply.Work.Seed, reply.Deadline?.ToDateTimeOffset(), work);
    }

    static SoftWorkSettings ToSettings(int round, SoftWork work, PromptValue? global)
    {
        Require(work.Epochs >= 1 && work.BatchSize >= 1, $"round {round}: epochs {work.Epochs} and batch size {work.BatchSize} must be at least 1");
        Require(work.LearningRate > 0 && double.IsFinite(work.LearningRate), $"round {round}: learning rate {work.LearningRate} must be positive and finite");
        DpPolicy? dp = null;
        if (work.Dp is { } policy)
        {
            Require(policy.ClipNorm > 0 && double.IsFinite(policy.ClipNorm), $"round {round}: DP clip norm {policy.ClipNorm} must be positive and finite");
            Require(policy.Epsilon > 0 && double.IsFinite(policy.Epsilon), $"round {round}: DP ε {policy.Epsilon} must be positive and finite");
            Require(policy.Delta is >= 0 and < 1, $"round {round}: DP δ {policy.Delta} must be in [0, 1) (0: the client's 1/N)");
            AccountantKind accountant;
            try
            {
                accountant = policy.Accountant.Length == 0 ? AccountantKind.Rdp : PrivacyAccountants.Parse(policy.Accountant, "DP accountant");
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"round {round}: {e.Message}", e);
            }
            dp = new DpPolicy(policy.ClipNorm, policy.Epsilon, policy.Delta > 0 ? policy.Delta : null, accountant);
        }
        PromptOptimizer optimizer;
        try
        {
            optimizer = TuneOptions.ParseOptimizer(work.Optimizer);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"round {round}: {e.Message}", e);
        }
        return new SoftWorkSettings(Prompt(round, global, PromptMessages.ToSoftPrompt), work.Epochs, work.BatchSize, work.LearningRate, optimizer, dp);
    }

    static DiscreteWorkSettings ToSettings(int round, DiscreteWork work, PromptValue? global)
    {
        Require(work.Iterations >= 1 && work.PositionsPerIteration >= 1 && work.CandidatesPerPosition >= 1 && work.LocalBatchSize >= 1,
            $"round {round}: iterations, positions per iteration, candidates per position and local batch size must be at least 1");
        Require(work.PublicPerLabel >= 0, $"round {round}: public examples per label must not be negative, not {work.PublicPerLabel}");
        Require(work.QueryBudget >= 1, $"round {round}: the query budget must be at least 1, not {work.QueryBudget}");
        // Empty: what the field's absence meant before it existed, the downloaded model's input embeddings.
        string? neighbours = work.NeighbourEmbeddings.Length == 0 ? null : work.NeighbourEmbeddings;
        Require(neighbours is null || TokenSpaces.Names.Contains(neighbours),
            $"round {round}: neighbour embeddings \"{neighbours}\" are not one of {string.Join(", ", TokenSpaces.Names)}");
        return new DiscreteWorkSettings(Prompt(round, global, PromptMessages.ToDiscretePrompt), work.Iterations, work.PositionsPerIteration,
            work.CandidatesPerPosition, work.LocalBatchSize, work.PublicPerLabel, work.UseFeedback, work.QueryBudget, neighbours);
    }

    static T Prompt<T>(int round, PromptValue? message, Func<PromptValue, T> read)
    {
        try
        {
            return read(message ?? new PromptValue());
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"round {round}: the global prompt is not one this work can start from: {e.Message}", e);
        }
    }

    public static UploadRequest ToUploadRequest(RoundAssignment round, LocalUpdate update, int exampleCount) => new()
    {
        RunId = round.RunId, Round = round.Round, BasePromptVersion = round.GlobalPromptVersion, ExampleCount = exampleCount,
        Prompt = update switch
        {
            SoftUpdate soft => PromptMessages.ToMessage(soft.Prompt),
            DiscreteUpdate discrete => PromptMessages.ToMessage(discrete.Prompt),
            _ => throw new ArgumentException($"an update of kind {update.GetType().Name} has no wire form"),
        },
        Metrics = ToMessage(update.Metrics),
        Privacy = update is SoftUpdate { Privacy: { } privacy } ? ToMessage(privacy) : null,
    };

    static LocalMetrics ToMessage(LocalWorkMetrics m) => new()
    {
        AccuracyBefore = m.AccuracyBefore, AccuracyAfter = m.AccuracyAfter, FinalLoss = m.FinalLoss, Steps = m.Steps,
        Queries = m.Queries, TokensSent = m.TokensSent, Seconds = m.Seconds,
    };

    static PrivacySpend ToMessage(DpSpend p) => new()
    {
        ClipNorm = p.ClipNorm, NoiseMultiplier = p.NoiseMultiplier, SampleRate = p.SampleRate, Steps = p.Steps, Delta = p.Delta,
        EpsilonRound = p.EpsilonRound, EpsilonTotal = p.EpsilonTotal,
    };

    static void Require(bool ok, string problem)
    {
        if (!ok) throw new InvalidDataException(problem);
    }
}
