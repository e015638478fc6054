using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Post.Privacy;
using FederatedPrompts.Post.Tuning;

namespace FederatedPrompts.Client;

/// <summary>The coordinator's answer to "what now?": wait, train on a round, or stop.</summary>
public abstract record NextStep
{
    NextStep() { }

    /// <summary>Nothing for this client now (no round open, not sampled, or its update is in): ask again after <see cref="After"/>.</summary>
    public sealed record Wait(TimeSpan After, string Reason) : NextStep;

    public sealed record Train(RoundAssignment Round) : NextStep;

    /// <summary>The run is over.</summary>
    public sealed record Finished(int Round, string Reason) : NextStep;
}

/// <summary>
/// One round's task for this client: the local work to do (with the global prompt it starts from), the seed of this
/// client's work in this round, and the version of the global prompt its update must name.
/// </summary>
public sealed record RoundAssignment(string RunId, int Round, int TotalRounds, string GlobalPromptVersion, int Seed, DateTimeOffset? Deadline, LocalWorkSettings Work);

/// <summary>What a round asks a client to do, by mode.</summary>
public abstract record LocalWorkSettings
{
    public abstract PromptMode Mode { get; }
}

/// <summary>Tune <see cref="GlobalPrompt"/> on the private examples (POST's client step); with <see cref="Dp"/>, DP-SGD.</summary>
public sealed record SoftWorkSettings(SoftPrompt GlobalPrompt, int Epochs, int BatchSize, double LearningRate, PromptOptimizer Optimizer, DpPolicy? Dp)
    : LocalWorkSettings
{
    public override PromptMode Mode => PromptMode.Soft;
}

/// <summary>
/// DP-SGD as the run asks for it: clip norm, the total ε a client may spend over all rounds, and δ (null: 1/N of the
/// client's own example count).
/// </summary>
public sealed record DpPolicy(double ClipNorm, double Epsilon, double? Delta, AccountantKind Accountant);

/// <summary>
/// Search from <see cref="GlobalPrompt"/> through the coordinator's black box (FedDTPT's client step), sending at most
/// <see cref="QueryBudget"/> inputs. <see cref="NeighbourEmbeddings"/> names the token space the proposer finds
/// neighbours in (null: the downloaded model's input embeddings).
/// </summary>
public sealed record DiscreteWorkSettings(
    DiscretePrompt GlobalPrompt, int Iterations, int PositionsPerIteration, int CandidatesPerPosition, int LocalBatchSize, int PublicPerLabel,
    bool UseFeedback, long QueryBudget, string? NeighbourEmbeddings) : LocalWorkSettings
{
    public override PromptMode Mode => PromptMode.Discrete;
}
