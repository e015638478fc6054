namespace FederatedPrompts.Coordinator.Rounds;

/// <summary>Why the coordinator refuses a client's or operator's request; the gRPC services map each to a status code.</summary>
public enum RejectionKind
{
    /// <summary>The identity is not one the run admits (PERMISSION_DENIED).</summary>
    NotAdmitted,
    /// <summary>The request names a run that does not exist (NOT_FOUND).</summary>
    UnknownRun,
    /// <summary>Right identity, wrong moment: not enrolled yet, round closed or not this client's (FAILED_PRECONDITION).</summary>
    WrongState,
    /// <summary>A second update for the same (client, round) (ALREADY_EXISTS).</summary>
    Duplicate,
    /// <summary>Malformed content: dimensions, NaN, unknown tokens, counts (INVALID_ARGUMENT).</summary>
    Invalid,
    /// <summary>The inference budget of this client and round would be passed (RESOURCE_EXHAUSTED).</summary>
    OverBudget,
}

/// <summary>A refused request; the message names what is wrong, and nothing was changed.</summary>
public sealed class RejectionException(RejectionKind kind, string message) : Exception(message)
{
    public RejectionKind Kind { get; } = kind;
}
