using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;
using static FederatedPrompts.Aggregation.Tests.Build;

namespace FederatedPrompts.Aggregation.Tests;

public sealed class DbscanTests
{
    static DistanceMatrix Euclidean(params float[][] points) => new(points, DistanceMetric.Euclidean);

    static DistanceMatrix OnALine(params float[] xs) => Euclidean(xs.Select(x => V(x, 0)).ToArray());

    /// <summary>
    /// eps 1.5, min_samples 4. The unit square (0,0)…(1,1): each corner has the other three within √2, so 4 with itself:
    /// core. (2,0) has (1,0) at 1 and (1,1) at √2: 3 with itself, not core, but within eps of core (1,0): a border point of
    /// the square's cluster, although it is visited (as a seed) before the square. The square at (10,10) is a second
    /// cluster; (5,5) is noise.
    /// </summary>
    [Fact]
    public void Two_squares_a_border_point_and_noise()
    {
        var labels = Dbscan.Labels(Euclidean(
            V(5, 5), V(2, 0),
            V(0, 0), V(0, 1), V(1, 0), V(1, 1),
            V(10, 10), V(10, 11), V(11, 10), V(11, 11)), eps: 1.5, minSamples: 4);
        Assert.Equal([Dbscan.Noise, 0, 0, 0, 0, 0, 1, 1, 1, 1], labels);
    }

    /// <summary>
    /// eps 1, min_samples 4. X = {−0.5, 0, 0.5, 1} and Y = {3, 3.5, 4, 4.5} are clusters; 2 has 1 and 3 within eps (the
    /// boundary counts: ≤ eps), 3 with itself: a border point of both, and it joins the cluster found first.
    /// </summary>
    [Fact]
    public void A_border_point_of_two_clusters_joins_the_first_found()
    {
        float[] x = [-0.5f, 0, 0.5f, 1], y = [3, 3.5f, 4, 4.5f];
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 0], Dbscan.Labels(OnALine([.. x, .. y, 2]), 1, 4));
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 0], Dbscan.Labels(OnALine([.. y, .. x, 2]), 1, 4));
    }

    [Fact]
    public void Min_samples_counts_the_point_itself()
    {
        var pair = OnALine(0, 1);
        Assert.Equal([0, 0], Dbscan.Labels(pair, eps: 1, minSamples: 2));
        Assert.Equal([Dbscan.Noise, Dbscan.Noise], Dbscan.Labels(pair, eps: 1, minSamples: 3));
        Assert.Equal([Dbscan.Noise, Dbscan.Noise], Dbscan.Labels(pair, eps: 0.999, minSamples: 2));
    }

    [Fact]
    public void Min_samples_one_makes_every_point_core_and_leaves_no_noise()
    {
        Assert.Equal([0, 0, 1, 2], Dbscan.Labels(OnALine(0, 1, 5, 9), eps: 1, minSamples: 1));
    }

    [Fact]
    public void Min_samples_above_the_point_count_makes_everything_noise()
    {
        Assert.All(Dbscan.Labels(OnALine(0, 0.1f, 0.2f), eps: 10, minSamples: 4), label => Assert.Equal(Dbscan.Noise, label));
    }

    [Fact]
    public void Eps_zero_groups_identical_points()
    {
        Assert.Equal([0, Dbscan.Noise, 0, Dbscan.Noise], Dbscan.Labels(OnALine(2, 3, 2, 4), eps: 0, minSamples: 2));
    }

    [Fact]
    public void Cosine_metric_clusters_by_direction_not_length()
    {
        var matrix = new DistanceMatrix([V(1, 0), V(5, 0.1f), V(0, 1), V(0.1f, 7)], DistanceMetric.Cosine);
        Assert.Equal([0, 0, 1, 1], Dbscan.Labels(matrix, eps: 0.01, minSamples: 2));
    }

    [Fact]
    public void Invalid_parameters_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Dbscan.Labels(OnALine(0), -1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dbscan.Labels(OnALine(0), double.NaN, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dbscan.Labels(OnALine(0), 1, 0));
    }
}
