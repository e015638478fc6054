using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// k-means (Lloyd's iterations, squared Euclidean) seeded by k-means++ (Arthur &amp; Vassilvitskii, 2007) from a seeded
/// <see cref="Random"/>, so the same seed gives the same clusters. k is capped at the number of points. A point goes to
/// the nearest centroid, ties to the lower index; a centroid left without points keeps its position. Iterates until no
/// assignment changes or <c>maxIterations</c>.
/// </summary>
public static class KMeans
{
    public static int[] Labels(IReadOnlyList<float[]> points, int k, int seed, int maxIterations = 100)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (points.Count == 0) return [];
        var centroids = SeedPlusPlus(points, Math.Min(k, points.Count), new Random(seed));
        var labels = Enumerable.Repeat(-1, points.Count).ToArray();
        for (var iteration = 0; iteration < maxIterations; iteration++)
        {
            var changed = false;
            for (var i = 0; i < points.Count; i++)
            {
                var nearest = Nearest(points[i], centroids);
                changed |= nearest != labels[i];
                labels[i] = nearest;
            }
            if (!changed) break;
            for (var c = 0; c < centroids.Length; c++)
            {
                var members = Enumerable.Range(0, points.Count).Where(i => labels[i] == c).ToArray();
                if (members.Length > 0) centroids[c] = VectorMath.WeightedMean(members.Select(i => points[i]).ToArray(), members.Select(_ => 1.0).ToArray());
            }
        }
        return labels;
    }

    /// <summary>k-means++: the first centre uniformly, each next one with probability proportional to D(x)², the squared distance to the nearest centre so far.</summary>
    static float[][] SeedPlusPlus(IReadOnlyList<float[]> points, int k, Random random)
    {
        var centroids = new List<float[]> { points[random.Next(points.Count)] };
        var squared = points.Select(p => SquaredDistance(p, centroids[0])).ToArray();
        while (centroids.Count < k)
        {
            var total = squared.Sum();
            var chosen = total == 0 ? random.Next(points.Count) : Pick(squared, random.NextDouble() * total);
            centroids.Add(points[chosen]);
            for (var i = 0; i < points.Count; i++) squared[i] = Math.Min(squared[i], SquaredDistance(points[i], points[chosen]));
        }
        return centroids.Select(c => (float[])c.Clone()).ToArray();
    }

    static int Pick(double[] weights, double target)
    {
        var cumulative = 0.0;
        for (var i = 0; i < weights.Length; i++)
        {
            cumulative += weights[i];
            if (target < cumulative) return i;
        }
        return Array.FindLastIndex(weights, w => w > 0); // target hit the total through rounding
    }

    static int Nearest(float[] point, float[][] centroids)
    {
        var best = 0;
        for (var c = 1; c < centroids.Length; c++)
            if (SquaredDistance(point, centroids[c]) < SquaredDistance(point, centroids[best])) best = c;
        return best;
    }

    static double SquaredDistance(float[] a, float[] b) => Math.Pow(VectorMath.EuclideanDistance(a, b), 2);
}
