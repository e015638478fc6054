using FederatedPrompts.Aggregation.Attention;
using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>
/// Ablation: attention without clustering. The L tokens with the highest attention over all uploads, ordered by
/// their positions (ties: earlier client); attention ties go to the token earlier in that order. Near-duplicates are
/// not merged.
/// </summary>
public sealed class AttentionTokenStrategy(TokenAggregationOptions options) : ITokenAggregationStrategy
{
    public string Name => "attention";

    public GlobalTokenPrompt Aggregate(IReadOnlyList<TokenPromptUpload> uploads)
    {
        var pooled = PooledVectors.From(uploads);
        var length = options.PromptLength ?? uploads.Max(upload => upload.Tokens.Count);
        var singletons = Enumerable.Range(0, pooled.Count).Select(i => new[] { i });
        var clusters = new PromptClusters(pooled, SemanticAttention.LogWeights(pooled), singletons, AggregationNotes.NoClustering);
        return ClusterWinners.Select(uploads, clusters, length);
    }
}
