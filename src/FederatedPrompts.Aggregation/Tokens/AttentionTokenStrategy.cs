using FederatedPrompts.Aggregation.Attention;
using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>
/// Ablation: attention without clustering. The L tokens with the highest semantic score w over all uploads (the score
/// attention is the softmax of; see <see cref="SemanticAttention"/>), ordered by their positions (ties: earlier client);
/// score ties go to the token earlier in that order. Near-duplicates are not merged.
/// </summary>
public sealed class AttentionTokenStrategy(TokenAggregationOptions options) : ITokenAggregationStrategy
{
    public string Name => "attention";

    public GlobalTokenPrompt Aggregate(IReadOnlyList<TokenPromptUpload> uploads)
    {
        var pooled = PooledVectors.From(uploads);
        var length = options.PromptLength ?? uploads.Max(upload => upload.Tokens.Count);
        var singletons = Enumerable.Range(0, pooled.Count).Select(i => new[] { i });
        var clusters = new PromptClusters(pooled, SemanticAttention.Scores(pooled), singletons, AggregationNotes.NoClustering);
        return ClusterWinners.Select(uploads, clusters, length);
    }
}
