using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>FedDTPT: attention, elbow-chosen DBSCAN over the token embeddings, one winner per cluster, position order.</summary>
public sealed class FedDtptTokenStrategy(TokenAggregationOptions options) : ITokenAggregationStrategy
{
    public string Name => "feddtpt";

    public GlobalTokenPrompt Aggregate(IReadOnlyList<TokenPromptUpload> uploads)
    {
        var clusters = FedDtptClustering.Cluster(PooledVectors.From(uploads), options.MinSamples, options.Metric);
        return ClusterWinners.Select(uploads, clusters, options.PromptLength);
    }
}
