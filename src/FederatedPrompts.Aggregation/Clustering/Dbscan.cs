using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// DBSCAN (Ester et al., 1996). A point is core when at least <c>minSamples</c> points, itself included (as
/// scikit-learn counts), lie within distance ≤ eps. Clusters grow from core points through core points; a non-core
/// point within eps of a core point is a border point and joins the first cluster that reaches it. Everything else
/// is noise, labelled <see cref="Noise"/>. Deterministic, with the labels of the textbook expansion (seeds tried in
/// index order, each cluster grown to the end before the next seed): a cluster is a connected set of core points plus
/// the border points it reaches, clusters are numbered 0, 1, … by their lowest core point, and a border point
/// reached by several clusters takes the lowest number.
/// <para>Computed that way rather than by the expansion, which needs every point's list of neighbours (with 8,000
/// pooled vectors and a wide eps, tens of millions of entries): one pass over the pairs counts neighbours, a second
/// joins core neighbours into sets, and a third, only where a non-core point has neighbours, finds border points'
/// clusters. Each pass runs on all cores with per-thread counts, sets or minima, merged in an order that cannot
/// change the result.</para>
/// </summary>
public static class Dbscan
{
    public const int Noise = -1;

    public static int[] Labels(DistanceMatrix distances, double eps, int minSamples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minSamples, 1);
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "must be a non-negative number");
        var n = distances.Count;
        var neighbours = Enumerable.Repeat(1, n).ToArray(); // itself
        distances.SweepRows(() => new int[n], (i, mine) =>
        {
            var row = distances.After(i);
            for (var k = 0; k < row.Length; k++)
                if (row[k] <= eps)
                {
                    mine[i]++;
                    mine[i + 1 + k]++;
                }
        }, mine =>
        {
            for (var i = 0; i < n; i++) neighbours[i] += mine[i];
        });
        var core = neighbours.Select(count => count >= minSamples).ToArray();

        var sets = new LowestRootSets(n);
        distances.SweepRows(() => new LowestRootSets(n), (i, mine) =>
        {
            if (!core[i]) return;
            var row = distances.After(i);
            for (var k = 0; k < row.Length; k++)
                if (row[k] <= eps && core[i + 1 + k]) mine.Join(i, i + 1 + k);
        }, sets.JoinAll);

        // A set's root is its lowest point, so numbering roots in index order numbers clusters by their lowest core point.
        var labels = Enumerable.Repeat(Noise, n).ToArray();
        var cluster = 0;
        for (var i = 0; i < n; i++)
            if (core[i]) labels[i] = sets.Root(i) == i ? cluster++ : labels[sets.Root(i)];

        if (!Enumerable.Range(0, n).Any(i => !core[i] && neighbours[i] > 1)) return labels; // no point can be a border point
        var lowest = Enumerable.Repeat(int.MaxValue, n).ToArray();
        distances.SweepRows(() => Enumerable.Repeat(int.MaxValue, n).ToArray(), (i, mine) =>
        {
            var row = distances.After(i);
            for (var k = 0; k < row.Length; k++)
            {
                var j = i + 1 + k;
                if (row[k] > eps || core[i] == core[j]) continue;
                var (edge, reached) = core[i] ? (i, j) : (j, i);
                mine[reached] = Math.Min(mine[reached], labels[edge]);
            }
        }, mine =>
        {
            for (var i = 0; i < n; i++) lowest[i] = Math.Min(lowest[i], mine[i]);
        });
        for (var i = 0; i < n; i++)
            if (lowest[i] != int.MaxValue) labels[i] = lowest[i];
        return labels;
    }

    /// <summary>Disjoint sets of point indices (union–find) whose root is always the set's lowest index, whatever the order of joins.</summary>
    sealed class LowestRootSets
    {
        readonly int[] _parent;

        public LowestRootSets(int count) => _parent = Enumerable.Range(0, count).ToArray();

        public int Root(int i)
        {
            while (_parent[i] != i) i = _parent[i] = _parent[_parent[i]]; // path halving
            return i;
        }

        public void Join(int a, int b)
        {
            var (rootA, rootB) = (Root(a), Root(b));
            if (rootA < rootB) _parent[rootB] = rootA;
            else if (rootB < rootA) _parent[rootA] = rootB;
        }

        /// <summary>Joins every point to the root of its set in <paramref name="other"/>: afterwards this holds the union of both partitions' joins.</summary>
        public void JoinAll(LowestRootSets other)
        {
            for (var i = 0; i < _parent.Length; i++) Join(i, other.Root(i));
        }
    }
}
