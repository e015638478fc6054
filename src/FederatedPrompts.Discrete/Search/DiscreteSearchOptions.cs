namespace FederatedPrompts.Discrete.Search;

public sealed record DiscreteSearchOptions
{
    public int Iterations { get; init; } = 10;
    /// <summary>Prompt positions (distinct, seeded) tried per iteration.</summary>
    public int PositionsPerIteration { get; init; } = 1;
    /// <summary>Candidates evaluated per position, taken from the front of the (feedback-ranked or shuffled) pool.</summary>
    public int CandidatesPerPosition { get; init; } = 4;
    /// <summary>Local examples drawn (seeded, without replacement) per iteration; at least the local set size means all of it, every iteration.</summary>
    public int LocalBatchSize { get; init; } = 32;
    /// <summary>Examples per label of the public set mixed into every evaluation batch (FedDTPT's remedy for non-IID local labels); 0 for none.</summary>
    public int PublicPerLabel { get; init; } = 2;
    /// <summary>Most inputs this search sends to the black box; null for no limit of its own (the service may still refuse).</summary>
    public long? QueryBudget { get; init; }
    /// <summary>False: the ablation that draws candidates in seeded random order from the pool, ignoring the feedback memory (which is still recorded, for the report).</summary>
    public bool UseFeedback { get; init; } = true;
    public int Seed { get; init; } = 1;

    internal void Validate()
    {
        foreach (var (value, name) in new[] { (Iterations, nameof(Iterations)), (PositionsPerIteration, nameof(PositionsPerIteration)),
                     (CandidatesPerPosition, nameof(CandidatesPerPosition)), (LocalBatchSize, nameof(LocalBatchSize)) })
            if (value < 1) throw new ArgumentOutOfRangeException(name, value, "must be at least 1");
        if (PublicPerLabel < 0) throw new ArgumentOutOfRangeException(nameof(PublicPerLabel), PublicPerLabel, "must not be negative");
        if (QueryBudget < 0) throw new ArgumentOutOfRangeException(nameof(QueryBudget), QueryBudget, "must not be negative");
    }
}
