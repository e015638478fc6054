using FederatedPrompts.Aggregation.Attention;
using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Uploads;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// FedDTPT's grouping step, shared by discrete and soft prompts: semantic-similarity attention over all uploaded
/// vectors, eps from the knee of the k-distance curve (<see cref="ElbowEps"/>), DBSCAN with that eps, and noise per
/// <see cref="NoisePolicy"/>.
/// </summary>
public static class FedDtptClustering
{
    public static PromptClusters Cluster(PooledVectors pooled, int minSamples, DistanceMetric metric)
    {
        var attention = SemanticAttention.LogWeights(pooled);
        var distances = new DistanceMatrix(pooled.Vectors, metric);
        var eps = ElbowEps.Choose(distances, minSamples);
        var labels = Dbscan.Labels(distances, eps.Eps, minSamples);
        var noise = Enumerable.Range(0, labels.Length).Where(i => labels[i] == Dbscan.Noise).ToArray();
        var keptNoise = noise.Where(i => NoisePolicy.Keep(i, pooled.Client, attention)).ToArray();
        var clusters = PromptClusters.GroupsOf(labels).ToArray();
        return new PromptClusters(pooled, attention, clusters.Concat(keptNoise.Select(i => new[] { i })),
            new AggregationNotes(eps, clusters.Length, keptNoise.Length, noise.Length - keptNoise.Length));
    }
}
