using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;
using static FederatedPrompts.Aggregation.Tests.Build;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class KneeTests
{
    /// <summary>y = x² on x = 0..10: normalised, D = x − x² peaks at x = ½, i.e. index 5.</summary>
    [Fact]
    public void Parabola_has_its_knee_in_the_middle()
    {
        Assert.Equal(5, Kneedle.KneeIndex(Enumerable.Range(0, 11).Select(i => (double)i * i).ToArray()));
    }

    /// <summary>
    /// A typical k-distance curve [1, 1, 1, 1, 2, 10]: x = i/5, y = (v − 1)/9, so D = 0, .2, .4, .6, .8 − 1/9 ≈ .689, 0:
    /// the knee is index 4 (value 2), the last point before the jump.
    /// </summary>
    [Fact]
    public void K_distance_style_curve_has_its_knee_before_the_jump()
    {
        Assert.Equal(4, Kneedle.KneeIndex([1, 1, 1, 1, 2, 10]));
    }

    /// <summary>[0, 0, 2, 2, 4]: D = 0, .25, 0, .25, 0 — a tie between indices 1 and 3; the smaller wins.</summary>
    [Fact]
    public void Ties_go_to_the_smallest_index()
    {
        Assert.Equal(1, Kneedle.KneeIndex([0, 0, 2, 2, 4]));
    }

    [Theory]
    [InlineData(new double[0])]
    [InlineData(new double[] { 3 })]
    [InlineData(new double[] { 1, 5 })]
    [InlineData(new double[] { 2, 2, 2, 2 })]
    [InlineData(new double[] { 2, 2, 2, 2 + 1e-14 })]
    [InlineData(new double[] { 0, 1, 2, 3 })]
    [InlineData(new double[] { 0, 3, 4, 4.5 })]
    public void Degenerate_straight_and_concave_curves_have_no_knee(double[] curve)
    {
        Assert.Null(Kneedle.KneeIndex(curve));
    }

    [Fact]
    public void Unsorted_curve_is_rejected()
    {
        Assert.Contains("value 2 is below value 1", Assert.Throws<ArgumentException>(() => Kneedle.KneeIndex([0, 2, 1, 5])).Message);
    }

    static DistanceMatrix OnALine(params float[] xs) => new(xs.Select(x => V(x, 0)).ToArray(), DistanceMetric.Euclidean);

    /// <summary>
    /// Points 0, 1, 3, 7. min_samples 2 (the point itself + 1): nearest other 1, 1, 2, 4. min_samples 3: second-nearest
    /// other 3, 2, 3, 6. min_samples beyond the count: the farthest other 7, 6, 4, 7. min_samples 1: the point itself, 0.
    /// </summary>
    [Theory]
    [InlineData(2, new double[] { 1, 1, 2, 4 })]
    [InlineData(3, new double[] { 2, 3, 3, 6 })]
    [InlineData(10, new double[] { 4, 6, 7, 7 })]
    [InlineData(1, new double[] { 0, 0, 0, 0 })]
    public void K_distance_curve_counts_the_point_itself_like_min_samples(int minSamples, double[] expected)
    {
        Assert.Equal(expected, KDistance.SortedCurve(OnALine(0, 1, 3, 7), minSamples));
    }

    /// <summary>
    /// Ties and repeated points 0, 0, 2, 2, 2, 5: sorted distances to the others are 0,2,2,2,5 (twice), 0,0,2,2,3 (three
    /// times) and 3,3,3,5,5, so rank 1, 2, 3 give the curves below; the selection must count equal distances as a sort does.
    /// </summary>
    [Theory]
    [InlineData(2, new double[] { 0, 0, 0, 0, 0, 3 })]
    [InlineData(3, new double[] { 0, 0, 0, 2, 2, 3 })]
    [InlineData(4, new double[] { 2, 2, 2, 2, 2, 3 })]
    public void K_distance_counts_repeated_distances(int minSamples, double[] expected)
    {
        Assert.Equal(expected, KDistance.SortedCurve(OnALine(0, 0, 2, 2, 2, 5), minSamples));
    }

    /// <summary>Points 0, 0.5, 1, 1.5, 2, 10 with min_samples 2: curve [.5, .5, .5, .5, .5, 8] → knee index 4 → eps 0.5.</summary>
    [Fact]
    public void Eps_is_the_k_distance_at_the_knee()
    {
        var choice = ElbowEps.Choose(OnALine(0, 0.5f, 1, 1.5f, 2, 10), minSamples: 2);
        Assert.Equal(4, choice.KneeIndex);
        Assert.Equal(0.5, choice.Eps);
    }

    [Fact]
    public void Without_a_knee_eps_falls_back_to_the_lower_median()
    {
        var equal = ElbowEps.Choose(OnALine(0, 2, 4, 6), minSamples: 2); // curve [2, 2, 2, 2]
        Assert.Null(equal.KneeIndex);
        Assert.Equal(2, equal.Eps);
        var two = ElbowEps.Choose(OnALine(0, 3), minSamples: 2);
        Assert.Equal((null as int?, 3.0), (two.KneeIndex, two.Eps));
        Assert.Equal(0, ElbowEps.Choose(OnALine(5), minSamples: 2).Eps);
        Assert.Equal(0, ElbowEps.Choose(OnALine(1, 1, 1), minSamples: 2).Eps); // identical points
    }
}
