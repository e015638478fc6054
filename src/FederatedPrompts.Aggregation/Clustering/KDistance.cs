using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// The k-distance curve of Ester et al. (1996) for choosing DBSCAN's eps: each point's distance to its k-th nearest
/// neighbour, sorted ascending. Neighbours are counted the way scikit-learn counts <c>min_samples</c> — the point
/// itself is its own first neighbour — so with k = min_samples this is the distance to the (min_samples − 1)-th
/// nearest OTHER point, and a point is a DBSCAN core point exactly when its k-distance is ≤ eps.
/// With fewer than k points the farthest other point is used; a lone point (or min_samples = 1) has k-distance 0.
/// <paramref name="points"/> restricts the curve to a subset (each point's neighbours are then taken from the subset).
/// </summary>
public static class KDistance
{
    public static double[] SortedCurve(DistanceMatrix distances, int minSamples, IReadOnlyList<int>? points = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minSamples, 1);
        points ??= Enumerable.Range(0, distances.Count).ToArray();
        var otherRank = Math.Min(minSamples - 1, points.Count - 1);
        var curve = new double[points.Count];
        if (otherRank <= 0) return curve;
        // The otherRank smallest distances of each row, kept sorted by insertion: O(n·k) per row rather than a sort of
        // the row (k is min_samples, a handful; n is every uploaded token, thousands with many clients).
        var nearest = new double[otherRank];
        for (var a = 0; a < points.Count; a++)
        {
            var kept = 0;
            for (var b = 0; b < points.Count; b++)
            {
                if (b == a) continue;
                var d = distances[points[a], points[b]];
                if (kept == otherRank && d >= nearest[kept - 1]) continue;
                var at = kept < otherRank ? kept++ : otherRank - 1;
                while (at > 0 && nearest[at - 1] > d)
                {
                    nearest[at] = nearest[at - 1];
                    at--;
                }
                nearest[at] = d;
            }
            curve[a] = nearest[kept - 1];
        }
        Array.Sort(curve);
        return curve;
    }
}
