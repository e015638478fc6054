namespace FederatedPrompts.Discrete.Search;

public enum SearchStop
{
    /// <summary>All iterations ran.</summary>
    IterationsDone,
    /// <summary>The next evaluation would have gone over the search's query budget, or the black box refused it for its own budget.</summary>
    BudgetExhausted,
}

/// <summary>Accuracy of the prompt on one iteration's evaluation batch before and after the iteration's accepted replacements.</summary>
public sealed record IterationRecord(int Iteration, double AccuracyBefore, double AccuracyAfter, long QueriesUsed);

public sealed record AcceptedReplacement(int Iteration, int Position, int OldTokenId, int NewTokenId, double AccuracyChange);

/// <summary>
/// The improved prompt and how it was reached. <see cref="Trajectory"/> has one record per iteration that measured its
/// starting accuracy (a budget stop may end the last one early); <see cref="QueriesUsed"/> counts every input sent.
/// </summary>
public sealed record DiscreteSearchResult(
    IReadOnlyList<int> Prompt,
    IReadOnlyList<IterationRecord> Trajectory,
    IReadOnlyList<AcceptedReplacement> Accepted,
    FeedbackMemory Memory,
    long QueriesUsed,
    SearchStop StopReason);
