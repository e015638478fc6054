using FederatedPrompts.Aggregation.Clustering;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>
/// The aggregated discrete prompt: token ids in prompt order, what the aggregation did, and the groups the tokens were
/// chosen from with every uploaded token's attention (null for strategies that neither attend nor group, i.e. FedAvg).
/// </summary>
public sealed record GlobalTokenPrompt(IReadOnlyList<int> TokenIds, AggregationNotes Notes, PromptClusters? Clusters = null);
