using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Soft;

/// <summary>
/// Settings of the soft strategies. <see cref="MinSamples"/>, <see cref="Metric"/> and <see cref="Eps"/>: DBSCAN as for
/// tokens (default min_samples 2, eps from the kneed knee). <see cref="MaxLength"/>: "feddtpt" gives one vector per cluster (kept noise included), so
/// its length is decided by the data; this caps it, keeping the clusters with the most attention mass (sum of member
/// attention). Shorter results are not padded: a soft prompt of any length fits the model. "fedavg", "median" and
/// "trimmed-mean" ignore both and give the longest upload's length. <see cref="TrimFraction"/>: β of "trimmed-mean", the
/// share of values dropped at each end of every coordinate (default 0.1: one of ten clients each side; with fewer than 10
/// clients nothing is dropped and it is the plain mean).
/// </summary>
public sealed record SoftAggregationOptions(int MinSamples = 2, DistanceMetric Metric = DistanceMetric.Cosine, int? MaxLength = null, EpsRule? Eps = null,
    double TrimFraction = 0.1)
{
    public double TrimFraction { get; init => field = CheckedTrim(value); } = CheckedTrim(TrimFraction);

    /// <summary>Null when β can be used; else what is wrong with it, for the caller to prefix with where β came from.</summary>
    public static string? TrimFractionProblem(double trim) =>
        trim is >= 0 and < 0.5 ? null : $"must be in [0, 0.5) (the share of values dropped at each end), not {trim}";

    internal static double CheckedTrim(double trim) => TrimFractionProblem(trim) is { } problem
        ? throw new ArgumentOutOfRangeException(nameof(TrimFraction), trim, problem)
        : trim;

    public EpsRule Eps { get; init => field = value ?? new(); } = Eps ?? new();
    public int MinSamples { get; init => field = OptionChecks.AtLeastOne(value, nameof(MinSamples)); } = OptionChecks.AtLeastOne(MinSamples, nameof(MinSamples));
    public int? MaxLength { get; init => field = OptionChecks.AtLeastOne(value, nameof(MaxLength)); } = OptionChecks.AtLeastOne(MaxLength, nameof(MaxLength));
}
