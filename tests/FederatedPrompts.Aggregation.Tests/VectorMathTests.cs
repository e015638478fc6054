using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class VectorMathTests
{
    /// <summary>Lengths around the SIMD width exercise both the vector loop and the scalar tail.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(37)]
    public void Dot_and_distance_match_the_plain_sums(int length)
    {
        var a = Enumerable.Range(0, length).Select(i => (float)Math.Sin(i + 1)).ToArray();
        var b = Enumerable.Range(0, length).Select(i => (float)Math.Cos(3 * i)).ToArray();
        Assert.Equal(a.Zip(b, (x, y) => (double)x * y).Sum(), VectorMath.Dot(a, b), 12);
        Assert.Equal(Math.Sqrt(a.Zip(b, (x, y) => ((double)x - y) * ((double)x - y)).Sum()), VectorMath.EuclideanDistance(a, b), 12);
    }

    [Fact]
    public void Cosine_of_a_zero_vector_is_zero_and_weighted_mean_needs_weight()
    {
        Assert.Equal(0, VectorMath.CosineSimilarity([0f, 0f], [1f, 2f]));
        Assert.Equal(1, VectorMath.Distance([0f, 0f], [1f, 2f], DistanceMetric.Cosine));
        Assert.Equal([2.5f, 1f], VectorMath.WeightedMean([[1f, 1f], [3f, 1f]], [1, 3]));
        Assert.Throws<ArgumentException>(() => VectorMath.WeightedMean([[1f]], [0]));
    }
}
