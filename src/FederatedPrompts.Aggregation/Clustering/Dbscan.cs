using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// DBSCAN (Ester et al., 1996). A point is core when at least <c>minSamples</c> points, itself included (as
/// scikit-learn counts), lie within distance ≤ eps. Clusters grow from core points through core points; a non-core
/// point within eps of a core point is a border point and joins the first cluster that reaches it. Everything else
/// is noise, labelled <see cref="Noise"/>. Deterministic: seeds are tried in index order, neighbours are expanded in
/// index order, and clusters are numbered 0, 1, … in the order they are found.
/// </summary>
public static class Dbscan
{
    public const int Noise = -1;

    public static int[] Labels(DistanceMatrix distances, double eps, int minSamples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minSamples, 1);
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "must be a non-negative number");
        var n = distances.Count;
        var neighbours = Enumerable.Range(0, n)
            .Select(i => Enumerable.Range(0, n).Where(j => distances[i, j] <= eps).ToArray())
            .ToArray();
        const int unvisited = -2;
        var labels = Enumerable.Repeat(unvisited, n).ToArray();
        var cluster = 0;
        for (var seed = 0; seed < n; seed++)
        {
            if (labels[seed] != unvisited) continue;
            if (neighbours[seed].Length < minSamples)
            {
                labels[seed] = Noise; // may still become a border point of a later cluster
                continue;
            }
            labels[seed] = cluster;
            var frontier = new Queue<int>(neighbours[seed]);
            while (frontier.TryDequeue(out var point))
            {
                if (labels[point] == Noise) labels[point] = cluster; // border point
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
