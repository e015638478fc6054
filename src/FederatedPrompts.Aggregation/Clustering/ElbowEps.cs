using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// How DBSCAN's eps is set: the k-distance at the knee of the sorted k-distance curve, found by <see cref="Knee"/>
/// (FedDTPT's "embedding distance elbow"), or <see cref="FixedEps"/> when given.
/// </summary>
public sealed record EpsRule(KneeMethod Knee = KneeMethod.Kneed, double? FixedEps = null)
{
    public double? FixedEps { get; init => field = Checked(value); } = Checked(FixedEps);

    static double? Checked(double? eps) => eps is { } value && !(value >= 0 && double.IsFinite(value))
        ? throw new ArgumentOutOfRangeException(nameof(FixedEps), value, "must be a finite number ≥ 0")
        : eps;

    /// <summary>For reports: "eps 0.3 (fixed)", "knee kneed", "knee kneedle-global".</summary>
    public override string ToString() => FixedEps is { } eps ? $"fixed eps {eps:0.####}" : $"knee {KneeNames.Of(Knee)}";
}

/// <summary>The knee methods by their command-line and run-file names.</summary>
public static class KneeNames
{
    public static IReadOnlyList<string> Names { get; } = ["kneed", "kneedle-global"];

    public static string Of(KneeMethod method) => method == KneeMethod.Kneed ? "kneed" : "kneedle-global";

    /// <summary>The method called <paramref name="name"/>; ArgumentException listing the known names otherwise.</summary>
    public static KneeMethod Parse(string name) => name.ToLowerInvariant() switch
    {
        "kneed" => KneeMethod.Kneed,
        "kneedle-global" => KneeMethod.KneedleGlobal,
        _ => throw new ArgumentException($"unknown knee method '{name}' (known: {string.Join(", ", Names)})"),
    };
}

/// <summary>DBSCAN's eps as FedDTPT chooses it: the k-distance at the knee of the sorted k-distance curve.</summary>
public static class ElbowEps
{
    /// <summary>
    /// Eps by <paramref name="rule"/>: its fixed value, or the k-distance at the curve's knee (k = <paramref name="minSamples"/>).
    /// Where the curve has no knee (fewer than 3 points, all equal, or straight) the fallback is its lower median: for
    /// an all-equal curve that is the common value (every point becomes core), and otherwise half the points are dense
    /// enough to be core.
    /// </summary>
    public static EpsChoice Choose(DistanceMatrix distances, int minSamples, EpsRule? rule = null)
    {
        rule ??= new EpsRule();
        var curve = KDistance.SortedCurve(distances, minSamples);
        if (rule.FixedEps is { } eps) return new EpsChoice(eps, null, curve, rule);
        var knee = Kneedle.KneeIndex(curve, rule.Knee);
        return new EpsChoice(knee is { } index ? curve[index] : curve[(curve.Length - 1) / 2], knee, curve, rule);
    }
}

/// <summary>The chosen eps, the knee it came from (null when fixed or when the median fallback was used), the curve, and the rule.</summary>
public sealed record EpsChoice(double Eps, int? KneeIndex, IReadOnlyList<double> KDistanceCurve, EpsRule Rule);
