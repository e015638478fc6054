namespace FederatedPrompts.Aggregation.Geometry;

/// <summary>
/// All pairwise distances of a point set, computed once (each pair once, so d(i,j) = d(j,i) exactly). Identical vectors
/// are at distance exactly 0 (<see cref="VectorMath.Identical"/>): the same token uploaded by several clients must be one
/// point for DBSCAN even when eps is 0, and 1 − x·x/(‖x‖‖x‖) can round to 2⁻⁵² instead.
/// </summary>
public sealed class DistanceMatrix
{
    readonly double[,] _distances;

    public DistanceMatrix(IReadOnlyList<float[]> points, DistanceMetric metric)
    {
        Count = points.Count;
        _distances = new double[Count, Count];
        var norms = points.Select(point => VectorMath.Norm(point)).ToArray();
        for (var i = 0; i < Count; i++)
            for (var j = i + 1; j < Count; j++)
                _distances[i, j] = _distances[j, i] = VectorMath.Identical(points[i], points[j]) ? 0 : metric switch
                {
                    DistanceMetric.Cosine => Math.Max(0, 1 - VectorMath.CosineSimilarity(points[i], points[j], norms[i], norms[j])),
                    DistanceMetric.Euclidean => VectorMath.EuclideanDistance(points[i], points[j]),
                    _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
                };
    }

    public int Count { get; }

    public double this[int i, int j] => _distances[i, j];
}
