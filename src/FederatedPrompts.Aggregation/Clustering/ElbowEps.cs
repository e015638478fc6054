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

    /// <summary>For reports: "fixed eps 0.3", "knee kneed", "knee kneedle-global".</summary>
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

/// <summary>
/// DBSCAN's eps as FedDTPT chooses it: the k-distance at the knee of the sorted k-distance curve of the DISTINCT points.
/// Copies (points at distance 0 from an earlier point: one token uploaded by several clients) are left out of the curve:
/// in a FedDTPT round most clients keep most of the global prompt, so copies filled the curve's bottom with zeros and
/// put every knee on the last zero (measured on <c>bench feddtpt</c>'s built-in scenario: 63 of 70 k-distances 0, eps 0
/// in 5 of 6 rounds, so only copies clustered and near-synonyms never met). Copies still count in DBSCAN, where each
/// makes the other a neighbour at any eps.
/// </summary>
public static class ElbowEps
{
    /// <summary>
    /// Eps by <paramref name="rule"/>: its fixed value, or the k-distance at the knee of the distinct points' curve
    /// (k = <paramref name="minSamples"/>). Where that curve has no knee (fewer than 3 distinct points, all at one
    /// distance, or a straight curve) there is no scale that separates near neighbours from far ones, and eps is 0:
    /// only copies cluster.
    /// </summary>
    public static EpsChoice Choose(DistanceMatrix distances, int minSamples, EpsRule? rule = null)
    {
        rule ??= new EpsRule();
        var curve = KDistance.SortedCurve(distances, minSamples, DistinctPoints(distances));
        if (rule.FixedEps is { } eps) return new EpsChoice(eps, null, curve, rule);
        var knee = Kneedle.KneeIndex(curve, rule.Knee);
        return new EpsChoice(knee is { } index ? curve[index] : 0, knee, curve, rule);
    }

    /// <summary>
    /// The first point of every group of copies (points at distance 0 from each other), in index order. A point is a
    /// copy when an earlier kept point is at distance 0 from it, so each kept point's row marks the copies after it.
    /// Only rows that hold a 0 can mark anything; which do is found on all cores first, and uploads that are all
    /// different (soft prompts with noise: no 0 at all) need no row read one by one.
    /// </summary>
    public static int[] DistinctPoints(DistanceMatrix distances)
    {
        var marks = new bool[distances.Count];
        Parallel.For(0, distances.Count, i => marks[i] = distances.After(i).Contains(0.0));
        var kept = new List<int>();
        var copy = new bool[distances.Count];
        for (var i = 0; i < distances.Count; i++)
        {
            if (copy[i]) continue;
            kept.Add(i);
            if (!marks[i]) continue;
            var row = distances.After(i);
            for (var k = 0; k < row.Length; k++)
                if (row[k] == 0) copy[i + 1 + k] = true;
        }
        return [.. kept];
    }
}

/// <summary>The chosen eps, the knee it came from (null when fixed or without a knee), the distinct points' k-distance curve, and the rule.</summary>
public sealed record EpsChoice(double Eps, int? KneeIndex, IReadOnlyList<double> KDistanceCurve, EpsRule Rule);
