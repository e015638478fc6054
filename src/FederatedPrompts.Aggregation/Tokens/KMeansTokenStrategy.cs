using FederatedPrompts.Aggregation.Attention;
using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>Ablation: FedDTPT with DBSCAN replaced by k-means (fixed k, k-means++ seeded); every token belongs to a cluster.</summary>
public sealed class KMeansTokenStrategy(TokenAggregationOptions options) : ITokenAggregationStrategy
{
    public string Name => "kmeans";

    public GlobalTokenPrompt Aggregate(IReadOnlyList<TokenPromptUpload> uploads)
    {
        var pooled = PooledVectors.From(uploads);
        var k = options.K ?? options.PromptLength ?? uploads.Max(upload => upload.Tokens.Count);
        var groups = PromptClusters.GroupsOf(KMeans.Labels(pooled.Vectors, k, options.Seed)).ToArray();
        var clusters = new PromptClusters(pooled, SemanticAttention.Scores(pooled), groups, new AggregationNotes(EpsChoice: null, groups.Length));
        return ClusterWinners.Select(uploads, clusters, maxLength: null);
    }
}
