using FederatedPrompts.Aggregation.Soft;
using FederatedPrompts.Aggregation.Uploads;
using static FederatedPrompts.Aggregation.Tests.Build;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class SoftStrategyTests
{
    /// <summary>
    /// A = [(1,0), (0,1)], B = [(3,0), (0,3)], C = [(0,5)]. Cosine distances within a direction are 0, so the k-distance
    /// curve is all zeros: no knee, eps falls back to its median, 0, and DBSCAN groups by direction:
    /// {A0, B0} and {A1, B1, C0}. Attention: w(A0) = (B's closest, cos 1, + C's, cos 0)/2 = 1/2, w(A1) = (1 + 1)/2 = 1,
    /// so α(A0) = 1 − a, α(A1) = a = σ(1/2); B likewise; α(C0) = 1.
    /// Centroids: {A0, B0} = (a'·1 + a'·3)/(2a') on x = (2, 0); {A1, B1, C0} = (0, (a·1 + a·3 + 1·5)/(2a + 1)).
    /// Order: mean positions 0 and (1 + 1 + 0)/3.
    /// </summary>
    static readonly SoftPromptUpload[] ThreeClients =
        [SoftUpload("A", V(1, 0), V(0, 1)), SoftUpload("B", V(3, 0), V(0, 3)), SoftUpload("C", V(0, 5))];

    static readonly double A = 1 / (1 + Math.Exp(-0.5));

    [Fact]
    public void FedDtpt_gives_attention_weighted_centroids_in_position_order()
    {
        var prompt = SoftPromptAggregationStrategies.Create("feddtpt").Aggregate(ThreeClients);
        Assert.Equal(2, prompt.Vectors.Count);
        AssertVector([2, 0], prompt.Vectors[0]);
        AssertVector([0, (A * 1 + A * 3 + 5) / (2 * A + 1)], prompt.Vectors[1]);
        Assert.Equal((0.0, 2, 0, 0), (prompt.Notes.Eps!.Value, prompt.Notes.Clusters, prompt.Notes.NoiseKept, prompt.Notes.NoiseDropped));
    }

    /// <summary>
    /// 400 clients: 397 upload [(1,0), (1,0.01)], 3 upload [(1,0), (−1,0)]. For one of the 3, w((1,0)) = 1 (every client
    /// has it) and w((−1,0)) = (397 · (−0.99995) + 2 · 1)/399 ≈ −0.990, so α((−1,0)) = σ(−1.990) ≈ .12: a minority concept keeps a usable weight
    /// however many clients there are (summed, its score was −794 and α underflowed to 0). The three copies are a
    /// cluster (identical, distance 0) whose centroid is (−1, 0).
    /// </summary>
    [Fact]
    public void FedDtpt_keeps_a_minority_cluster_with_usable_attention_among_hundreds_of_clients()
    {
        var uploads = Enumerable.Range(0, 400).Select(k => k < 397
            ? SoftUpload($"c{k:D3}", V(1, 0), V(1, 0.01f))
            : SoftUpload($"c{k:D3}", V(1, 0), V(-1, 0))).ToArray();
        var prompt = SoftPromptAggregationStrategies.Create("feddtpt").Aggregate(uploads);
        Assert.All(prompt.Clusters!.Groups.Single(g => g.Contains(397 * 2 + 1)), i => Assert.InRange(prompt.Clusters.Attention[i], 0.11, 0.13));
        Assert.Contains(prompt.Vectors, v => Math.Abs(v[0] + 1) < 1e-6 && Math.Abs(v[1]) < 1e-6);
    }

    /// <summary>Mass of {A0, B0} is 2(1 − a) ≈ .75, of {A1, B1, C0} 2a + 1 ≈ 2.25: a cap of 1 keeps the second.</summary>
    [Fact]
    public void FedDtpt_cap_keeps_the_clusters_with_most_attention_mass()
    {
        var prompt = SoftPromptAggregationStrategies.Create("feddtpt", new SoftAggregationOptions(MaxLength: 1)).Aggregate(ThreeClients);
        AssertVector([0, (A * 1 + A * 3 + 5) / (2 * A + 1)], Assert.Single(prompt.Vectors));
    }

    /// <summary>Position 0: (1·(1,0) + 1·(3,0))… weighted by 1, 3, 1 → ((1 + 9 + 0)/5, (0 + 0 + 5)/5); position 1: ((0 + 0)/4, (1 + 9)/4).</summary>
    [Fact]
    public void FedAvg_is_the_example_weighted_positionwise_mean()
    {
        SoftPromptUpload[] uploads = [ThreeClients[0], ThreeClients[1] with { ExampleCount = 3 }, ThreeClients[2]];
        var prompt = SoftPromptAggregationStrategies.Create("fedavg").Aggregate(uploads);
        Assert.Equal(2, prompt.Vectors.Count);
        AssertVector([2, 1], prompt.Vectors[0]);
        AssertVector([0, 2.5], prompt.Vectors[1]);
        var soft = prompt.ToSoftPrompt("model-x");
        Assert.Equal((2, 2, "model-x"), (soft.Length, soft.HiddenSize, soft.ModelIdentity));
        Assert.Equal([2f, 1f, 0f, 2.5f], soft.Values.ToArray());
    }

    [Fact]
    public void Strategies_are_selected_by_name()
    {
        foreach (var name in SoftPromptAggregationStrategies.Names)
            Assert.Equal(name, SoftPromptAggregationStrategies.Create(name).Name);
        Assert.Contains("'mean' (known: feddtpt, fedavg)", Assert.Throws<ArgumentException>(() => SoftPromptAggregationStrategies.Create("mean")).Message);
    }

    [Fact]
    public void Results_are_deterministic()
    {
        var random = new Random(1);
        var uploads = Enumerable.Range(0, 4)
            .Select(k => SoftUpload($"c{k}", Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToArray()))
            .ToArray();
        var strategy = SoftPromptAggregationStrategies.Create("feddtpt");
        Assert.Equal(strategy.Aggregate(uploads).Vectors, strategy.Aggregate(uploads).Vectors);
    }

    static void AssertVector(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var d = 0; d < expected.Length; d++) Assert.Equal(expected[d], actual[d], 5);
    }
}
