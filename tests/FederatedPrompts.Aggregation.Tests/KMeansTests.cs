using FederatedPrompts.Aggregation.Clustering;
using static FederatedPrompts.Aggregation.Tests.Build;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class KMeansTests
{
    static readonly float[][] ThreeBlobs =
    [
        V(0, 0), V(20, 20), V(0.5f, 0), V(-20, 20), V(0, 0.5f), V(20.5f, 20), V(-20, 20.5f), V(20, 20.5f), V(-20.5f, 20),
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(42)]
    public void Separable_blobs_are_recovered_under_any_seed(int seed)
    {
        var labels = KMeans.Labels(ThreeBlobs, k: 3, seed);
        int[][] blobs = [[0, 2, 4], [1, 5, 7], [3, 6, 8]];
        foreach (var blob in blobs) Assert.Single(blob.Select(i => labels[i]).Distinct());
        Assert.Equal(3, blobs.Select(blob => labels[blob[0]]).Distinct().Count());
    }

    [Fact]
    public void Same_seed_gives_same_labels()
    {
        var random = new Random(9);
        var points = Enumerable.Range(0, 60).Select(_ => V((float)random.NextDouble(), (float)random.NextDouble(), (float)random.NextDouble())).ToArray();
        Assert.Equal(KMeans.Labels(points, 5, seed: 3), KMeans.Labels(points, 5, seed: 3));
    }

    [Fact]
    public void K_is_capped_at_the_point_count_and_duplicates_are_handled()
    {
        Assert.Equal(2, KMeans.Labels([V(0, 0), V(1, 1)], k: 5, seed: 0).Distinct().Count());
        Assert.Single(KMeans.Labels([V(1, 1), V(1, 1), V(1, 1)], k: 2, seed: 0).Distinct());
    }
}
