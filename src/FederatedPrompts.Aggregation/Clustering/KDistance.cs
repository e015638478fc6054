using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// The k-distance curve of Ester et al. (1996) for choosing DBSCAN's eps: each point's distance to its k-th nearest
/// neighbour, sorted ascending. Neighbours are counted the way scikit-learn counts <c>min_samples</c> — the point
/// itself is its own first neighbour — so with k = min_samples this is the distance to the (min_samples − 1)-th
/// nearest OTHER point, and a point is a DBSCAN core point exactly when its k-distance is ≤ eps.
/// With fewer than k points the farthest other point is used; a lone point (or min_samples = 1) has k-distance 0.
/// </summary>
public static class KDistance
{
    public static double[] SortedCurve(DistanceMatrix distances, int minSamples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minSamples, 1);
        var otherRank = Math.Min(minSamples - 1, distances.Count - 1);
        var curve = new double[distances.Count];
        for (var i = 0; i < distances.Count; i++)
        {
            if (otherRank == 0) continue;
            var toOthers = Enumerable.Range(0, distances.Count).Where(j => j != i).Select(j => distances[i, j]).Order().ToArray();
            curve[i] = toOthers[otherRank - 1];
        }
        Array.Sort(curve);
        return curve;
    }
}
