using System.Runtime.CompilerServices;
using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// The k-distance curve of Ester et al. (1996) for choosing DBSCAN's eps: each point's distance to its k-th nearest
/// neighbour, sorted ascending. Neighbours are counted the way scikit-learn counts <c>min_samples</c> — the point
/// itself is its own first neighbour — so with k = min_samples this is the distance to the (min_samples − 1)-th
/// nearest OTHER point, and a point is a DBSCAN core point exactly when its k-distance is ≤ eps.
/// With fewer than k points the farthest other point is used; a lone point (or min_samples = 1) has k-distance 0.
/// <paramref name="points"/> restricts the curve to a subset of distinct indices (each point's neighbours are then
/// taken from the subset).
/// </summary>
public static class KDistance
{
    public static double[] SortedCurve(DistanceMatrix distances, int minSamples, IReadOnlyList<int>? points = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minSamples, 1);
        points ??= Enumerable.Range(0, distances.Count).ToArray();
        var slot = SlotsOf(points, distances.Count);
        var otherRank = Math.Min(minSamples - 1, points.Count - 1);
        var curve = new double[points.Count];
        if (otherRank <= 0) return curve;
        // The otherRank smallest distances of each point, kept sorted by insertion: O(n·k) rather than a sort of every
        // row (k is min_samples, a handful; n is every uploaded token, thousands with many clients). Each pair is read
        // once, from the row of its lower index, and offered to both points; the threads' lists are merged at the end,
        // and the k smallest of a multiset do not depend on the order they were offered in.
        var (nearest, kept) = (new double[points.Count * otherRank], new int[points.Count]);
        distances.SweepRows(() => (Nearest: new double[nearest.Length], Kept: new int[kept.Length]), (i, mine) =>
        {
            if (slot[i] < 0) return;
            var row = distances.After(i);
            for (var k = 0; k < row.Length; k++)
            {
                var other = slot[i + 1 + k];
                if (other < 0) continue;
                Offer(mine.Nearest, mine.Kept, slot[i], otherRank, row[k]);
                Offer(mine.Nearest, mine.Kept, other, otherRank, row[k]);
            }
        }, mine =>
        {
            for (var a = 0; a < points.Count; a++)
                for (var r = 0; r < mine.Kept[a]; r++) Offer(nearest, kept, a, otherRank, mine.Nearest[a * otherRank + r]);
        });
        for (var a = 0; a < points.Count; a++) curve[a] = nearest[a * otherRank + kept[a] - 1];
        Array.Sort(curve);
        return curve;
    }

    /// <summary>Keeps <paramref name="d"/> if it is among the <paramref name="rank"/> smallest offered to point <paramref name="a"/> so far.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // twice for every pair, and mostly only its first comparison runs
    static void Offer(double[] nearest, int[] kept, int a, int rank, double d)
    {
        var start = a * rank;
        if (kept[a] == rank && d >= nearest[start + rank - 1]) return; // most pairs, once each point has near neighbours
        var at = kept[a] < rank ? kept[a]++ : rank - 1;
        while (at > 0 && nearest[start + at - 1] > d)
        {
            nearest[start + at] = nearest[start + at - 1];
            at--;
        }
        nearest[start + at] = d;
    }

    /// <summary>slot[i] = the position of matrix index i in <paramref name="points"/>, −1 when left out.</summary>
    static int[] SlotsOf(IReadOnlyList<int> points, int count)
    {
        var slot = Enumerable.Repeat(-1, count).ToArray();
        for (var a = 0; a < points.Count; a++)
        {
            var i = points[a];
            if (i < 0 || i >= count) throw new ArgumentOutOfRangeException(nameof(points), i, $"point index outside the {count} points");
            if (slot[i] >= 0) throw new ArgumentException($"point {i} is listed twice", nameof(points));
            slot[i] = a;
        }
        return slot;
    }
}
