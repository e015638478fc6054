namespace FederatedPrompts.Client;

/// <summary>One client's loop: who it is until the coordinator says, its folders, how it calls, and the gates it shares with clients of the same process.</summary>
public sealed record ClientLoopOptions
{
    /// <summary>The name events carry until enrolment returns the coordinator's (the certificate's identity).</summary>
    public required string Identity { get; init; }
    /// <summary>This client's own state (privacy ledger), so a restarted client composes ε over all its rounds.</summary>
    public required string StateDirectory { get; init; }
    /// <summary>Downloaded models, one folder per model identity; may be shared by clients on one machine. Required when the local work uses the model.</summary>
    public string? CacheDirectory { get; init; }
    public CallPolicy Calls { get; init; } = new();
    /// <summary>
    /// Seeds the jitter of waits and retries. Clients must not poll in lock step, so a client process draws one; the
    /// in-process host seeds it per client, so a benchmark's polling has the same shape every time.
    /// </summary>
    public int JitterSeed { get; init; } = Random.Shared.Next();
    /// <summary>Clients sharing a process hold this while they enrol (TLS handshakes), so a thousand do not stampede the listener; null: none.</summary>
    public SemaphoreSlim? EnrolGate { get; init; }
    /// <summary>Clients sharing a process take turns at local work through this gate (each job already uses every core); null: none.</summary>
    public SemaphoreSlim? LocalWorkGate { get; init; }
}

/// <summary>How a client calls the coordinator: retries after transient failures, deadlines, and the jitter of its waits.</summary>
public sealed record CallPolicy
{
    /// <summary>Give up after this many consecutive failed attempts to reach the coordinator.</summary>
    public int MaxAttempts { get; init; } = 30;
    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// Deadline of each control call (enrol, round task, upload, heartbeat): a reply lost on the way is retried like any
    /// transient failure instead of waiting forever. Model downloads and inference calls have none (they may be long).
    /// </summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>A WAIT is honoured for retry_after × (1 − jitter/2 … 1 + jitter/2), so clients told the same wait do not call back together.</summary>
    public double WaitJitter { get; init; } = 0.5;

    /// <summary>ArgumentException naming the first setting out of range.</summary>
    public void Validate()
    {
        if (MaxAttempts < 1) throw new ArgumentException($"MaxAttempts must be at least 1, not {MaxAttempts}");
        if (FirstBackoff <= TimeSpan.Zero || MaxBackoff < FirstBackoff) throw new ArgumentException($"backoff must grow from a positive first wait ({FirstBackoff}) to a maximum at least as long ({MaxBackoff})");
        if (CallTimeout <= TimeSpan.Zero) throw new ArgumentException($"CallTimeout must be positive, not {CallTimeout}");
        if (WaitJitter is < 0 or > 1) throw new ArgumentException($"WaitJitter must be in [0, 1], not {WaitJitter}");
    }
}

/// <summary>What a client reports as it goes (the CLI shows it; simulations log it per client).</summary>
public sealed record ClientEvent(string ClientId, int Round, string What);
