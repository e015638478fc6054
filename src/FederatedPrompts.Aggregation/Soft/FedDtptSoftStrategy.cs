using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Soft;

/// <summary>
/// FedDTPT's aggregation carried over to soft prompts: attention, elbow-chosen DBSCAN over all uploaded vectors, and
/// per cluster the attention-weighted centroid of its members, clusters ordered by the mean position of their members.
/// </summary>
public sealed class FedDtptSoftStrategy(SoftAggregationOptions options) : ISoftPromptAggregationStrategy
{
    public string Name => "feddtpt";

    public GlobalSoftPrompt Aggregate(IReadOnlyList<SoftPromptUpload> uploads)
    {
        var pooled = PooledVectors.From(uploads);
        var clusters = FedDtptClustering.Cluster(pooled, options.MinSamples, options.Metric, options.Eps);
        // α lies within a factor e² of uniform in each prompt (w is a mean similarity in [−1, 1]), so it never underflows.
        var kept = clusters.TopGroups(options.MaxLength, members => members.Sum(i => clusters.Attention[i]));
        var centroids = kept.Select(members =>
            VectorMath.WeightedMean(members.Select(i => pooled.Vectors[i]).ToArray(), members.Select(i => clusters.Attention[i]).ToArray()));
        return new GlobalSoftPrompt(centroids.ToArray(), clusters.Notes, clusters);
    }
}
