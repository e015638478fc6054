using FederatedPrompts.Aggregation.Clustering;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>The aggregated discrete prompt: token ids in prompt order, and what the aggregation did.</summary>
public sealed record GlobalTokenPrompt(IReadOnlyList<int> TokenIds, AggregationNotes Notes);
