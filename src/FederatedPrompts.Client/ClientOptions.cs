using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Protocol.V1;

namespace FederatedPrompts.Client;

/// <summary>One organization's client: its private data (never sent, except discrete mode's inference texts), mode and folders.</summary>
public sealed record ClientOptions
{
    public required TaskDataset PrivateData { get; init; }
    public required Mode Mode { get; init; }
    /// <summary>Downloaded models, one folder per model identity; shared by clients on one machine.</summary>
    public required string CacheDirectory { get; init; }
    /// <summary>This client's own state (privacy ledger), so a restarted client composes ε over all its rounds.</summary>
    public required string StateDirectory { get; init; }
    /// <summary>Give up after this many consecutive failed attempts to reach the coordinator.</summary>
    public int MaxAttempts { get; init; } = 30;
    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// Deadline of each control call (enrol, round task, upload, heartbeat): a reply lost on the way is retried like any
    /// transient failure instead of waiting forever. Model downloads and inference calls have none (they may be long).
    /// </summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Clients sharing a process (simulate --in-process) take turns at local work through this gate; null: none.</summary>
    public SemaphoreSlim? LocalWorkGate { get; init; }
    /// <summary>Local examples scored for the accuracy before/after metrics (all when fewer).</summary>
    public int MetricExamples { get; init; } = 200;
}

/// <summary>What a client reports as it goes (the CLI shows it; simulations aggregate it).</summary>
public sealed record ClientEvent(string ClientId, int Round, string What);
