using FederatedPrompts.Aggregation.Attention;
using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// FedDTPT's grouping step, shared by discrete and soft prompts: semantic-similarity attention over all uploaded
/// vectors, eps by <see cref="EpsRule"/> (by default from the knee of the k-distance curve, <see cref="ElbowEps"/>),
/// DBSCAN with that eps, and noise per <see cref="NoisePolicy"/>.
/// </summary>
public static class FedDtptClustering
{
    public static PromptClusters Cluster(PooledVectors pooled, int minSamples, DistanceMetric metric, EpsRule eps)
    {
        var (scores, distances) = SemanticAttention.ScoresAndDistances(pooled, metric);
        var choice = ElbowEps.Choose(distances, minSamples, eps);
        var labels = Dbscan.Labels(distances, choice.Eps, minSamples);
        var noise = Enumerable.Range(0, labels.Length).Where(i => labels[i] == Dbscan.Noise).ToArray();
        var keptNoise = noise.Where(i => NoisePolicy.Keep(i, pooled.Client, scores)).ToArray();
        var clusters = PromptClusters.GroupsOf(labels).ToArray();
        return new PromptClusters(pooled, scores, clusters.Concat(keptNoise.Select(i => new[] { i })),
            new AggregationNotes(choice, clusters.Length, keptNoise.Length, noise.Length - keptNoise.Length));
    }
}
