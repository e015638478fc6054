using FederatedPrompts.Aggregation.Soft;
using FederatedPrompts.Aggregation.Uploads;
using static FederatedPrompts.Aggregation.Tests.Build;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class SoftStrategyTests
{
    /// <summary>
    /// A = [(1,0), (0,1)], B = [(3,0), (0,3)], C = [(0,5)]. Cosine distances within a direction are 0, so there are two
    /// distinct points, too few for a knee: eps is 0, and DBSCAN groups by direction:
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
        Assert.Contains("'mean' (known: feddtpt, fedavg, median, trimmed-mean, krum)", Assert.Throws<ArgumentException>(() => SoftPromptAggregationStrategies.Create("mean")).Message);
    }

    /// <summary>
    /// Five clients, one vector of two coordinates each; the fifth (1000, −1000) is hostile and claims 1,000 examples.
    /// x: 1 2 3 4 1000 → median 3, β = 0.2 drops 1 and 1000 → (2 + 3 + 4)/3 = 3. y: 5 6 7 8 −1000 → median 6, trimmed
    /// (5 + 6 + 7)/3 = 6. FedAvg, which trusts the count: x = (1 + 2 + 3 + 4 + 1000·1000)/1004 ≈ 996.0.
    /// The second position only two clients have: the median of (10, 20) is their mean, 15, and so is the trimmed mean
    /// (⌊0.2·2⌋ = 0 dropped).
    /// </summary>
    [Fact]
    public void Median_and_trimmed_mean_ignore_one_hostile_client_and_its_claimed_count()
    {
        SoftPromptUpload[] uploads =
        [
            SoftUpload("a", V(1, 5), V(10, 10)), SoftUpload("b", V(2, 6), V(20, 20)), SoftUpload("c", V(3, 7)), SoftUpload("d", V(4, 8)),
            SoftUpload("hostile", V(1000, -1000)) with { ExampleCount = 1000 },
        ];
        var median = SoftPromptAggregationStrategies.Create("median").Aggregate(uploads);
        AssertVector([3, 6], median.Vectors[0]);
        AssertVector([15, 15], median.Vectors[1]);
        var trimmed = SoftPromptAggregationStrategies.Create("trimmed-mean", new SoftAggregationOptions(TrimFraction: 0.2)).Aggregate(uploads);
        AssertVector([3, 6], trimmed.Vectors[0]);
        AssertVector([15, 15], trimmed.Vectors[1]);
        Assert.Equal(996.0, SoftPromptAggregationStrategies.Create("fedavg").Aggregate(uploads).Vectors[0][0], 1);
        AssertVector([2.5, 6.5], SoftPromptAggregationStrategies.Create("median").Aggregate(uploads[..4]).Vectors[0]);   // even count: mean of the middle two
    }

    /// <summary>
    /// Multi-Krum by hand: five one-coordinate prompts 0, 1, 2, 3, 100 (the last claiming 1,000 examples). n = 5, so
    /// f = ⌊(5 − 3)/2⌋ = 1, each prompt is scored on its n − f − 2 = 2 nearest, and the m = n − f = 4 best are averaged.
    /// Squared distances: 0 → {1, 4, 9, 10⁴}: 1 + 4 = 5; 1 → {1, 1, 4, 99²}: 2; 2 → {4, 1, 1, 98²}: 2; 3 → {9, 4, 1, 97²}: 5;
    /// 100 → 97² + 98² = 19013. Kept: 0, 1, 2, 3, mean 1.5 (FedAvg: (6 + 100·1000)/1004 ≈ 99.6).
    /// Two prompts: f = 0, no neighbours, both kept: their mean.
    /// </summary>
    [Fact]
    public void Krum_keeps_the_prompts_closest_to_the_others_and_averages_them()
    {
        SoftPromptUpload[] uploads =
        [
            SoftUpload("a", V(0, 0)), SoftUpload("b", V(1, 1)), SoftUpload("c", V(2, 2)), SoftUpload("d", V(3, 3)),
            SoftUpload("hostile", V(100, 100)) with { ExampleCount = 1000 },
        ];
        var krum = SoftPromptAggregationStrategies.Create("krum");
        Assert.Equal("krum", krum.Name);
        AssertVector([1.5, 1.5], krum.Aggregate(uploads).Vectors[0]);
        AssertVector([0.5, 0.5], krum.Aggregate(uploads[..2]).Vectors[0]);
        var error = Assert.Throws<ArgumentException>(() => krum.Aggregate([SoftUpload("a", V(0, 0)), SoftUpload("b", V(1, 1), V(2, 2))]));
        Assert.Contains("client 'b' uploaded 2 vectors, client 'a' 1", error.Message);
    }

    /// <summary>
    /// Ten clients tune around one prompt (honest: the centre plus noise of σ 0.1 per coordinate, 10 × 16); one of them
    /// uploads −50 × the centre instead. The robust rules stay within the honest clients' spread of their mean; FedAvg
    /// is dragged past the origin.
    /// </summary>
    [Fact]
    public void With_one_hostile_client_of_ten_the_robust_rules_stay_near_the_honest_mean()
    {
        var random = new Random(7);
        float Gaussian() => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        var centre = Enumerable.Range(0, 10).Select(_ => Enumerable.Range(0, 16).Select(_ => Gaussian()).ToArray()).ToArray();
        var honest = Enumerable.Range(0, 9).Select(k => SoftUpload($"c{k}", centre.Select(v => v.Select(x => x + 0.1f * Gaussian()).ToArray()).ToArray())).ToArray();
        SoftPromptUpload[] uploads = [.. honest, SoftUpload("hostile", centre.Select(v => v.Select(x => -50 * x).ToArray()).ToArray())];
        var honestMean = SoftPromptAggregationStrategies.Create("fedavg").Aggregate(honest).Vectors;
        double RelativeDistance(IReadOnlyList<float[]> prompt) =>
            Math.Sqrt(prompt.Zip(honestMean).Sum(p => p.First.Zip(p.Second).Sum(x => (x.First - x.Second) * (double)(x.First - x.Second))))
            / Math.Sqrt(honestMean.Sum(v => v.Sum(x => (double)x * x)));
        Assert.InRange(RelativeDistance(SoftPromptAggregationStrategies.Create("median").Aggregate(uploads).Vectors), 0, 0.1);
        Assert.InRange(RelativeDistance(SoftPromptAggregationStrategies.Create("trimmed-mean").Aggregate(uploads).Vectors), 0, 0.1);
        Assert.InRange(RelativeDistance(SoftPromptAggregationStrategies.Create("krum").Aggregate(uploads).Vectors), 0, 0.1);
        Assert.InRange(RelativeDistance(SoftPromptAggregationStrategies.Create("fedavg").Aggregate(uploads).Vectors), 4, double.MaxValue);   // (9c − 50c)/10 = −4.1c: 5.1 from c
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(0.5)]
    [InlineData(double.NaN)]
    public void A_trim_fraction_outside_0_to_one_half_is_refused(double trim)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SoftAggregationOptions(TrimFraction: trim));
        Assert.Contains("TrimFraction", error.Message);
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
