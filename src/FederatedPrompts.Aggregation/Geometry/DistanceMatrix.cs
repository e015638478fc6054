namespace FederatedPrompts.Aggregation.Geometry;

/// <summary>All pairwise distances of a point set, computed once (each pair once, so d(i,j) = d(j,i) exactly).</summary>
public sealed class DistanceMatrix
{
    readonly double[,] _distances;

    public DistanceMatrix(IReadOnlyList<float[]> points, DistanceMetric metric)
    {
        Count = points.Count;
        _distances = new double[Count, Count];
        for (var i = 0; i < Count; i++)
            for (var j = i + 1; j < Count; j++)
                _distances[i, j] = _distances[j, i] = Math.Max(0, VectorMath.Distance(points[i], points[j], metric));
    }

    public int Count { get; }

    public double this[int i, int j] => _distances[i, j];
}
