using System.Numerics;
using System.Runtime.InteropServices;

namespace FederatedPrompts.Aggregation.Geometry;

/// <summary>Dot products and distances over float vectors, accumulated in double (SIMD: floats widened to doubles).</summary>
public static class VectorMath
{
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var wide = Vector<double>.Zero;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b[..a.Length]);
            for (var v = 0; v < va.Length; v++)
            {
                Vector.Widen(va[v], out var aLow, out var aHigh);
                Vector.Widen(vb[v], out var bLow, out var bHigh);
                wide += aLow * bLow + aHigh * bHigh;
            }
            i = va.Length * Vector<float>.Count;
        }
        var sum = Vector.Sum(wide);
        for (; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    public static double Norm(ReadOnlySpan<float> a) => Math.Sqrt(Dot(a, a));

    /// <summary>Cosine similarity; 0 when either vector is all zeros (it has no direction, so it resembles nothing).</summary>
    public static double CosineSimilarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => CosineSimilarity(a, b, Norm(a), Norm(b));

    /// <summary>Cosine similarity with the norms already known (callers comparing many pairs compute each norm once).</summary>
    public static double CosineSimilarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double normA, double normB) =>
        normA == 0 || normB == 0 ? 0 : Dot(a, b) / (normA * normB);

    public static double EuclideanDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var wide = Vector<double>.Zero;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b[..a.Length]);
            for (var v = 0; v < va.Length; v++)
            {
                Vector.Widen(va[v], out var aLow, out var aHigh);
                Vector.Widen(vb[v], out var bLow, out var bHigh);
                var low = aLow - bLow;
                var high = aHigh - bHigh;
                wide += low * low + high * high;
            }
            i = va.Length * Vector<float>.Count;
        }
        var sum = Vector.Sum(wide);
        for (; i < a.Length; i++)
        {
            var d = (double)a[i] - b[i];
            sum += d * d;
        }
        return Math.Sqrt(sum);
    }

    /// <summary>True when the vectors are equal element by element (then every distance between them is exactly 0).</summary>
    public static bool Identical(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => a.SequenceEqual(b);

    /// <summary>The distance under <paramref name="metric"/>; exactly 0 for identical vectors, whatever the rounding of 1 − cos.</summary>
    public static double Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b, DistanceMetric metric) => Identical(a, b) ? 0 : metric switch
    {
        DistanceMetric.Cosine => 1 - CosineSimilarity(a, b),
        DistanceMetric.Euclidean => EuclideanDistance(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };

    /// <summary>Σ wᵢ·vᵢ / Σ wᵢ, dimension by dimension; the weights must be non-negative with a positive sum.</summary>
    public static float[] WeightedMean(IReadOnlyList<float[]> vectors, IReadOnlyList<double> weights)
    {
        var total = weights.Sum();
        if (!(total > 0)) throw new ArgumentException($"weights sum to {total}; need a positive sum");
        var sum = new double[vectors[0].Length];
        for (var i = 0; i < vectors.Count; i++)
            for (var d = 0; d < sum.Length; d++) sum[d] += weights[i] * vectors[i][d];
        return sum.Select(value => (float)(value / total)).ToArray();
    }
}
