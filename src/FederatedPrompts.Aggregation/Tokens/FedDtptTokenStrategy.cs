using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Tokens;

/// <summary>FedDTPT: attention, DBSCAN over the token embeddings with eps from the elbow (or fixed), one winner per cluster, position order.</summary>
public sealed class FedDtptTokenStrategy(TokenAggregationOptions options) : ITokenAggregationStrategy
{
    public string Name => "feddtpt";

    public GlobalTokenPrompt Aggregate(IReadOnlyList<TokenPromptUpload> uploads)
    {
        var clusters = FedDtptClustering.Cluster(PooledVectors.From(uploads), options.MinSamples, options.Metric, options.Eps);
        return ClusterWinners.Select(uploads, clusters, options.PromptLength);
    }
}
