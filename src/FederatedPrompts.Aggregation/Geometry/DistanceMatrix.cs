namespace FederatedPrompts.Aggregation.Geometry;

/// <summary>
/// All pairwise distances of a point set, computed once by <see cref="PairwisePass"/> (each pair once, so d(i,j) = d(j,i)
/// exactly, and identical vectors at distance exactly 0). Only the pairs i &lt; j are stored, row after row: half the
/// memory of the square (8,000 points: 256 MB), and a reader that needs every pair goes through each stored row once
/// (<see cref="After"/>, <see cref="SweepRows"/>) instead of reading columns of a square.
/// </summary>
public sealed class DistanceMatrix
{
    /// <summary>d(i, j) for i &lt; j: row i holds d(i, i + 1) … d(i, Count − 1) from <see cref="RowStart"/>(i, Count) on.</summary>
    readonly double[] _upper;

    public DistanceMatrix(IReadOnlyList<float[]> points, DistanceMetric metric)
        : this(points.Count, PairwisePass.Run(points, client: null, clientCount: 0, metric).Upper!)
    {
    }

    internal DistanceMatrix(int count, double[] upper)
    {
        if (upper.Length != PairCount(count)) throw new ArgumentException($"{upper.Length} distances for {count} points; need {PairCount(count)}");
        Count = count;
        _upper = upper;
    }

    public int Count { get; }

    public double this[int i, int j]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)i, (uint)Count, nameof(i));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)j, (uint)Count, nameof(j));
            if (i == j) return 0;
            var (low, high) = i < j ? (i, j) : (j, i);
            return _upper[RowStart(low, Count) + high - low - 1];
        }
    }

    /// <summary>d(i, i + 1) … d(i, Count − 1): every pair is in exactly one of these rows.</summary>
    public ReadOnlySpan<double> After(int i)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)i, (uint)Count, nameof(i));
        return _upper.AsSpan(RowStart(i, Count), Count - 1 - i);
    }

    /// <summary>
    /// Calls <paramref name="visit"/>(i, state) for every row i (read it with <see cref="After"/>) on all cores, each thread
    /// with its own state from <paramref name="newState"/>, and then hands each thread's state to <paramref name="fold"/>,
    /// one at a time, in whatever order the threads finish. Which rows share a state depends on the scheduling, so
    /// callers get the same result on any number of cores only by folding with operations that ignore order: integer
    /// sums, minima, the k smallest of a multiset, unions of sets.
    /// </summary>
    internal void SweepRows<TState>(Func<TState> newState, Action<int, TState> visit, Action<TState> fold)
    {
        var gate = new Lock();
        Parallel.For(0, Count, newState, (i, _, state) =>
        {
            visit(i, state);
            return state;
        }, state =>
        {
            lock (gate) fold(state);
        });
    }

    /// <summary>The number of pairs of <paramref name="count"/> points; ArgumentException when they would not fit in one array.</summary>
    internal static int PairCount(int count)
    {
        var pairs = (long)count * (count - 1) / 2;
        return pairs <= Array.MaxLength ? (int)pairs
            : throw new ArgumentException($"{count} points have {pairs} pairs, more than one distance matrix holds ({Array.MaxLength})");
    }

    /// <summary>Where row <paramref name="i"/> (d(i, i + 1) onwards) starts: after the rows of 0 … i − 1, of Count − 1 … Count − i pairs.</summary>
    internal static int RowStart(int i, int count) => (int)((long)i * (2L * count - i - 1) / 2);
}
