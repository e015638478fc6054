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

    /// <summary>The convex increasing cases of kneed's own test suite (tests/test_sample.py): knee x = 7, and x = 0.4 on the curve cut after 7 points (x = index/10).</summary>
    [Theory]
    [InlineData(KneeMethod.Kneed)]
    [InlineData(KneeMethod.KneedleGlobal)]
    public void Both_knees_match_kneeds_published_convex_increasing_cases(KneeMethod method)
    {
        Assert.Equal(7, Kneedle.KneeIndex([1, 2, 3, 4, 5, 10, 15, 20, 40, 100], method));
        Assert.Equal(4, Kneedle.KneeIndex([1, 2, 3, 4, 5, 10, 15], method));
    }

    /// <summary>
    /// A k-distance curve as FedDTPT rounds give it: tokens several clients uploaded have k-distance 0, the distinct ones
    /// above. [0 ×7, .32, .35, .4, 1]: x − y = 0, .1, …, .6, .38, .45, .5, 0. The global maximum is the last 0 (index 6,
    /// eps 0: only duplicates would cluster). kneed walks from the top: D = 0, .5, .45, .38, …; .5 (index 9) is a
    /// maximum, and two steps later D is below .5 − 1/10: the knee is index 9, eps .4.
    /// </summary>
    [Fact]
    public void Kneed_finds_the_elbow_among_distinct_tokens_where_the_global_maximum_sits_on_the_zeros()
    {
        double[] curve = [0, 0, 0, 0, 0, 0, 0, 0.32, 0.35, 0.4, 1];
        Assert.Equal(6, Kneedle.KneeIndex(curve, KneeMethod.KneedleGlobal));
        Assert.Equal(9, Kneedle.KneeIndex(curve, KneeMethod.Kneed));
    }

    /// <summary>
    /// [0, 1, 1.2, 3.4, 3.5, 10]: x − y = 0, .1, .28, .26, .45, 0 (x step .2). The global maximum is index 4. kneed walks
    /// from the top: D = 0, .45, .26, .28, .1, 0. After the maximum .45 the threshold is .25, and .26 is not below it;
    /// .26 is a minimum, which resets the threshold to 0; .28 is the next maximum (threshold .08), and two steps later
    /// 0 &lt; .08: the knee is index 2. A maximum counts only if D falls by a whole x step before the next minimum.
    /// </summary>
    [Fact]
    public void Kneed_skips_a_maximum_that_D_does_not_fall_a_whole_step_from()
    {
        double[] curve = [0, 1, 1.2, 3.4, 3.5, 10];
        Assert.Equal(4, Kneedle.KneeIndex(curve, KneeMethod.KneedleGlobal));
        Assert.Equal(2, Kneedle.KneeIndex(curve, KneeMethod.Kneed));
    }

    /// <summary>
    /// The curve of <c>fedprompt aggregate</c>'s test uploads: [0, 0, .0012, .584, .584, .676, .702, .738, .760, .762, .845].
    /// Its top bends above the chord (D(9) ≈ −.001), so kneed would take the top end (D = 0 ≥ D(9)) as a maximum and, D
    /// falling below −.1 two steps on, return index 10: eps = the largest k-distance, one cluster of everything. Only
    /// points below the chord count as maxima here: the knee is index 2 (D = .1985), where the distinct tokens begin.
    /// </summary>
    [Fact]
    public void Kneed_never_takes_a_point_on_or_above_the_chord_as_a_maximum()
    {
        Assert.Equal(2, Kneedle.KneeIndex([0, 0, 0.0012, 0.584, 0.584, 0.676, 0.702, 0.738, 0.760, 0.762, 0.845], KneeMethod.Kneed));
    }

    /// <summary>
    /// Two near copies and far points, the curve of <c>fedprompt aggregate</c>'s test uploads without the exact copy:
    /// [.0012, .0012, .584, .584, .676, .702, .738, .760, .762, .845]. D = x − y is positive only at index 1 (1/9), and
    /// from there it can fall by one step at most (to D(0) = 0), never below the threshold 1/9 − 1/9: kneed confirms no
    /// knee (eps 0, only copies cluster), while the global maximum is index 1 (eps .0012 joins the near copies).
    /// </summary>
    [Fact]
    public void A_bend_at_the_low_end_is_a_knee_only_for_the_global_maximum()
    {
        double[] curve = [0.0012, 0.0012, 0.584, 0.584, 0.676, 0.702, 0.738, 0.760, 0.762, 0.845];
        Assert.Null(Kneedle.KneeIndex(curve, KneeMethod.Kneed));
        Assert.Equal(1, Kneedle.KneeIndex(curve, KneeMethod.KneedleGlobal));
    }

    [Theory]
    [InlineData(new double[] { 2, 2, 2, 2 })]
    [InlineData(new double[] { 0, 1, 2, 3 })]
    [InlineData(new double[] { 0, 3, 4, 4.5 })]
    public void Kneed_finds_no_knee_on_flat_straight_or_concave_curves(double[] curve)
    {
        Assert.Null(Kneedle.KneeIndex(curve, KneeMethod.Kneed));
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

    /// <summary>Points 0, 0.5, 1, 1.5, 2, 10 with min_samples 2: curve [.5, .5, .5, .5, .5, 8] → knee index 4 → eps 0.5 (both knees).</summary>
    [Theory]
    [InlineData(KneeMethod.Kneed)]
    [InlineData(KneeMethod.KneedleGlobal)]
    public void Eps_is_the_k_distance_at_the_knee(KneeMethod method)
    {
        var choice = ElbowEps.Choose(OnALine(0, 0.5f, 1, 1.5f, 2, 10), minSamples: 2, new EpsRule(method));
        Assert.Equal(4, choice.KneeIndex);
        Assert.Equal(0.5, choice.Eps);
    }

    [Fact]
    public void A_fixed_eps_replaces_the_knee_and_must_be_a_finite_non_negative_number()
    {
        var choice = ElbowEps.Choose(OnALine(0, 0.5f, 1, 1.5f, 2, 10), minSamples: 2, new EpsRule(FixedEps: 3));
        Assert.Equal((3.0, (int?)null), (choice.Eps, choice.KneeIndex));
        Assert.Equal(6, choice.KDistanceCurve.Count);
        foreach (var bad in new[] { -0.1, double.NaN, double.PositiveInfinity })
            Assert.Throws<ArgumentOutOfRangeException>(() => new EpsRule(FixedEps: bad));
        Assert.Equal(KneeMethod.KneedleGlobal, KneeNames.Parse("KNEEDLE-GLOBAL"));
        Assert.Contains("'elbow' (known: kneed, kneedle-global)", Assert.Throws<ArgumentException>(() => KneeNames.Parse("elbow")).Message);
    }

    [Fact]
    public void Without_a_knee_eps_is_zero_so_only_copies_cluster()
    {
        var equal = ElbowEps.Choose(OnALine(0, 2, 4, 6), minSamples: 2); // curve [2, 2, 2, 2]: no scale separates neighbours
        Assert.Equal((null as int?, 0.0), (equal.KneeIndex, equal.Eps));
        var two = ElbowEps.Choose(OnALine(0, 3), minSamples: 2);
        Assert.Equal((null as int?, 0.0), (two.KneeIndex, two.Eps));
        Assert.Equal(0, ElbowEps.Choose(OnALine(5), minSamples: 2).Eps);
        Assert.Equal(0, ElbowEps.Choose(OnALine(1, 1, 1), minSamples: 2).Eps); // identical points
    }

    /// <summary>
    /// Points 0 ×4, 0.5 ×3, 1, 1.5, 2, 10: the copies would make the curve [0 ×7, .5, .5, .5, .5, 8], whose knee is
    /// the last 0 (eps 0: the distinct points never meet). Over the distinct points 0, .5, 1, 1.5, 2, 10 the curve is
    /// [.5, .5, .5, .5, .5, 8]: knee index 4, eps 0.5, and DBSCAN (on all eleven points) joins 0 … 2 into one cluster.
    /// </summary>
    [Fact]
    public void Copies_are_left_out_of_the_curve_but_not_out_of_the_clusters()
    {
        var distances = OnALine(0, 0, 0, 0, 0.5f, 0.5f, 0.5f, 1, 1.5f, 2, 10);
        Assert.Equal([0, 4, 7, 8, 9, 10], ElbowEps.DistinctPoints(distances));
        var choice = ElbowEps.Choose(distances, minSamples: 2);
        Assert.Equal([0.5, 0.5, 0.5, 0.5, 0.5, 8], choice.KDistanceCurve);
        Assert.Equal((4, 0.5), (choice.KneeIndex!.Value, choice.Eps));
        var labels = Dbscan.Labels(distances, choice.Eps, minSamples: 2);
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Dbscan.Noise], labels);
    }
}
