using FederatedPrompts.Aggregation.Attention;
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
        var clusters = FedDtptClustering.Cluster(pooled, options.MinSamples, options.Metric);
        double[] LogsOf(int[] members) => members.Select(i => clusters.LogAttention[i]).ToArray();
        // Mass Σα compared as log Σα; centroid weights α / max α over the members, exact where α itself underflows.
        var kept = clusters.TopGroups(options.MaxLength, members => SemanticAttention.LogSumExp(LogsOf(members)));
        var centroids = kept.Select(members =>
        {
            var logs = LogsOf(members);
            double max = logs.Max();
            return VectorMath.WeightedMean(members.Select(i => pooled.Vectors[i]).ToArray(), logs.Select(l => Math.Exp(l - max)).ToArray());
        });
        return new GlobalSoftPrompt(centroids.ToArray(), clusters.Notes, clusters);
    }
}
