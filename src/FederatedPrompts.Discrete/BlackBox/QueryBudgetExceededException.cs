namespace FederatedPrompts.Discrete.BlackBox;

/// <summary>A call to a black-box classifier would have gone over its query budget; the call was refused whole, before any inference.</summary>
public sealed class QueryBudgetExceededException(long budget, long used, int requested)
    : InvalidOperationException($"query budget exceeded: {requested} more queries requested, {used} of {budget} already used")
{
    public long Budget { get; } = budget;
    public long Used { get; } = used;
    public int Requested { get; } = requested;
}
