using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Coordinator.Storage;

public enum RunState { Created, Running, Transferring, Finished, Failed }

public enum RoundState { Open, Collecting, Aggregating, Closed }

public sealed record RunRecord(string RunId, RunConfig Config, RunState State, int CurrentRound, DateTimeOffset CreatedAt, string? Error);

public sealed record ClientRecord(string ClientId, PromptMode Mode, int ExampleCount, DateTimeOffset EnrolledAt, DateTimeOffset LastSeen, string Activity);

/// <summary>
/// One round: its state, the clients sampled (of every mode), its timings, and per mode of the run the global prompt it
/// started from and, once closed, the one it produced with its held-out accuracy and aggregation notes.
/// </summary>
public sealed record RoundRecord(
    int Round, RoundState State, IReadOnlyList<string> Sampled, DateTimeOffset OpenedAt, DateTimeOffset? Deadline, DateTimeOffset? ClosedAt,
    IReadOnlyDictionary<PromptMode, ModeRound> Modes);

/// <summary>One mode's part of a round: the global prompt in, and once the round is closed the prompt out, its accuracy and notes.</summary>
public sealed record ModeRound(Prompt PromptIn, Prompt? PromptOut = null, double? Accuracy = null, string? NotesJson = null);

/// <summary>An accepted update; <see cref="Bytes"/> is the size its prompt had on the wire.</summary>
public sealed record UpdateRecord(string ClientId, int Round, Prompt Prompt, int ExampleCount, LocalWorkMetrics Metrics, DpSpend? Privacy,
    DateTimeOffset ReceivedAt, long Bytes)
{
    public PromptMode Mode => Prompt.Mode;
}

/// <summary>A finished run's published prompt of one mode: soft, the large model's after POST transfer (with the transfer's outcome); discrete, the last global prompt.</summary>
public sealed record RunResult(PromptMode Mode, Prompt Prompt, string? TransferJson);

/// <summary>The updates accepted in one round from clients of one mode.</summary>
public sealed record RoundUploads(int Round, PromptMode Mode, int Count);

/// <summary>A client's accepted updates: how many, and the privacy spend its last update reported (null without DP).</summary>
public sealed record ClientUploads(string ClientId, int Count, DpSpend? LastSpend);
