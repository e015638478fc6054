using FederatedPrompts.Aggregation.Attention;
using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Uploads;
using static FederatedPrompts.Aggregation.Tests.Build;

namespace FederatedPrompts.Aggregation.Tests;

/// <summary>
/// The one parallel pass over all pairs (scores and distances together, rows stored once, DBSCAN by sets of core
/// points) against the straightforward computation it replaced: every pair compared on its own with
/// <see cref="VectorMath"/>, a full square matrix, rows sorted for the k-distance, and DBSCAN expanding seeds in index
/// order. The tolerance is zero: the pass makes the same double-precision calls for every pair and only shares them
/// out, so scores, distances, curve, eps and labels must be the same numbers, not merely close ones.
/// </summary>
public sealed class PairwisePassTests
{
    /// <summary>
    /// 500 vectors: 100 clients × 5 in 16 dimensions, each a noisy copy of one of 6 concepts. Client 7 uploads client
    /// 3's vectors unchanged (copies: distance exactly 0) and client 9 uploads them tripled (cosine distance 0 without
    /// being identical, where rounding decides), so the distinct points and the pairs at distance 0 are exercised too.
    /// </summary>
    static PooledVectors Seeded()
    {
        var random = new Random(20240515);
        float Gaussian() => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        var concepts = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, 16).Select(_ => Gaussian()).ToArray()).ToArray();
        var prompts = Enumerable.Range(0, 100).Select(_ => Enumerable.Range(0, 5)
            .Select(_ => concepts[random.Next(concepts.Length)].Select(x => x + 0.15f * Gaussian()).ToArray()).ToArray()).ToArray();
        prompts[7] = prompts[3].Select(vector => vector.ToArray()).ToArray();
        prompts[9] = prompts[3].Select(vector => vector.Select(x => 3 * x).ToArray()).ToArray();
        return Pool(prompts.Select((vectors, k) => SoftUpload($"client-{k:D3}", vectors)).ToArray());
    }

    [Fact]
    public void Scores_and_distances_are_those_of_comparing_every_pair_on_its_own()
    {
        var pooled = Seeded();
        var (scores, distances) = SemanticAttention.ScoresAndDistances(pooled, DistanceMetric.Cosine);
        Assert.Equal(ReferenceScores(pooled), scores);
        Assert.Equal(scores, SemanticAttention.Scores(pooled));
        foreach (var metric in new[] { DistanceMetric.Cosine, DistanceMetric.Euclidean })
        {
            var reference = ReferenceDistances(pooled.Vectors, metric);
            var matrix = metric == DistanceMetric.Cosine ? distances : new DistanceMatrix(pooled.Vectors, metric);
            for (var i = 0; i < pooled.Count; i++)
                for (var j = 0; j < pooled.Count; j++)
                    Assert.Equal(reference[i, j], matrix[i, j]);
        }
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, 2)]
    [InlineData(DistanceMetric.Cosine, 5)]
    [InlineData(DistanceMetric.Euclidean, 3)]
    public void Eps_choice_and_clusters_are_those_of_the_straightforward_computation(DistanceMetric metric, int minSamples)
    {
        var pooled = Seeded();
        var distances = new DistanceMatrix(pooled.Vectors, metric);
        var reference = ReferenceDistances(pooled.Vectors, metric);
        var distinct = ReferenceDistinct(reference);
        Assert.True(distinct.Length <= pooled.Count - 5, "client 7's copies are not distinct");
        Assert.Equal(distinct, ElbowEps.DistinctPoints(distances));
        var curve = ReferenceCurve(reference, minSamples, distinct);
        var choice = ElbowEps.Choose(distances, minSamples);
        Assert.Equal(curve, choice.KDistanceCurve);
        Assert.NotNull(choice.KneeIndex);
        Assert.Equal(curve[choice.KneeIndex!.Value], choice.Eps);
        // At the chosen eps, and at eps values that make few or all points core and border points likely.
        foreach (var eps in new[] { choice.Eps, 0, choice.Eps / 3, curve[curve.Length / 2], 3 * choice.Eps })
        {
            var labels = Dbscan.Labels(distances, eps, minSamples);
            Assert.Equal(ReferenceLabels(reference, eps, minSamples), labels);
        }
        Assert.True(Dbscan.Labels(distances, choice.Eps, minSamples).Max() > 0, "one cluster or none would test little");
    }

    /// <summary>On one thread (a scheduler that runs one task at a time) the pass and everything after it give what they give on all cores.</summary>
    [Fact]
    public async Task Results_do_not_depend_on_the_number_of_threads()
    {
        var pooled = Seeded();
        (double[] Scores, double[] Curve, int[] Labels) Cluster()
        {
            var (scores, distances) = SemanticAttention.ScoresAndDistances(pooled, DistanceMetric.Cosine);
            var choice = ElbowEps.Choose(distances, minSamples: 3);
            return (scores, [.. choice.KDistanceCurve], Dbscan.Labels(distances, choice.Eps, minSamples: 3));
        }
        var oneThread = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, maxConcurrencyLevel: 1).ConcurrentScheduler;
        var alone = await Task.Factory.StartNew(Cluster, CancellationToken.None, TaskCreationOptions.None, oneThread);
        var shared = Cluster();
        Assert.Equal(alone.Scores, shared.Scores);
        Assert.Equal(alone.Curve, shared.Curve);
        Assert.Equal(alone.Labels, shared.Labels);
    }

    [Fact]
    public void Indices_outside_the_matrix_and_repeated_subset_points_are_refused()
    {
        var distances = new DistanceMatrix([V(0, 1), V(1, 0), V(1, 1)], DistanceMetric.Euclidean);
        Assert.Throws<ArgumentOutOfRangeException>(() => distances[0, 3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => distances[-1, 0]);
        Assert.Equal(distances[0, 2], distances[2, 0]);
        Assert.Equal([distances[1, 2]], distances.After(1).ToArray());
        Assert.Contains("listed twice", Assert.Throws<ArgumentException>(() => KDistance.SortedCurve(distances, 2, [0, 2, 0])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => KDistance.SortedCurve(distances, 2, [0, 3]));
    }

    /// <summary>The score as first written: for every pair, each side's best similarity to the other's client, then the mean in client order.</summary>
    static double[] ReferenceScores(PooledVectors pooled)
    {
        var best = new double[pooled.Count, pooled.ClientCount];
        for (var i = 0; i < pooled.Count; i++)
            for (var j = 0; j < pooled.ClientCount; j++) best[i, j] = double.NegativeInfinity;
        for (var i = 0; i < pooled.Count; i++)
            for (var m = i + 1; m < pooled.Count; m++)
            {
                if (pooled.Client[i] == pooled.Client[m]) continue;
                var similarity = VectorMath.CosineSimilarity(pooled.Vectors[i], pooled.Vectors[m]);
                best[i, pooled.Client[m]] = Math.Max(best[i, pooled.Client[m]], similarity);
                best[m, pooled.Client[i]] = Math.Max(best[m, pooled.Client[i]], similarity);
            }
        return Enumerable.Range(0, pooled.Count)
            .Select(i => Enumerable.Range(0, pooled.ClientCount).Where(j => j != pooled.Client[i]).Average(j => best[i, j]))
            .ToArray();
    }

    static double[,] ReferenceDistances(IReadOnlyList<float[]> points, DistanceMetric metric)
    {
        var distances = new double[points.Count, points.Count];
        for (var i = 0; i < points.Count; i++)
            for (var j = 0; j < points.Count; j++)
                distances[i, j] = i == j ? 0 : Math.Max(0, VectorMath.Distance(points[i], points[j], metric));
        return distances;
    }

    static int[] ReferenceDistinct(double[,] distances)
    {
        var kept = new List<int>();
        for (var i = 0; i < distances.GetLength(0); i++)
            if (!kept.Any(k => distances[k, i] == 0)) kept.Add(i);
        return [.. kept];
    }

    static double[] ReferenceCurve(double[,] distances, int minSamples, int[] points) => points
        .Select(a => points.Where(b => b != a).Select(b => distances[a, b]).Order().ElementAt(Math.Min(minSamples - 1, points.Length - 1) - 1))
        .Order()
        .ToArray();

    /// <summary>DBSCAN as textbooks write it: seeds in index order, each cluster grown from a queue of neighbours.</summary>
    static int[] ReferenceLabels(double[,] distances, double eps, int minSamples)
    {
        var n = distances.GetLength(0);
        var neighbours = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Where(j => distances[i, j] <= eps).ToArray()).ToArray();
        const int unvisited = -2;
        var labels = Enumerable.Repeat(unvisited, n).ToArray();
        var cluster = 0;
        for (var seed = 0; seed < n; seed++)
        {
            if (labels[seed] != unvisited) continue;
            if (neighbours[seed].Length < minSamples)
            {
                labels[seed] = Dbscan.Noise;
                continue;
            }
            labels[seed] = cluster;
            var frontier = new Queue<int>(neighbours[seed]);
            while (frontier.TryDequeue(out var point))
            {
                if (labels[point] == Dbscan.Noise) labels[point] = cluster;
                if (labels[point] != unvisited) continue;
                labels[point] = cluster;
                if (neighbours[point].Length >= minSamples)
                    foreach (var next in neighbours[point]) frontier.Enqueue(next);
            }
            cluster++;
        }
        return labels;
    }
}
