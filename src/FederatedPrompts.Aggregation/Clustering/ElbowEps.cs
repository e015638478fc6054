using FederatedPrompts.Aggregation.Geometry;

namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>DBSCAN's eps as FedDTPT chooses it: the k-distance at the knee of the sorted k-distance curve.</summary>
public static class ElbowEps
{
    /// <summary>
    /// The k-distance at the Kneedle knee of the curve (k = <paramref name="minSamples"/>). Where the curve has no knee
    /// (fewer than 3 points, all equal, or straight) the fallback is its lower median: for an all-equal curve that is
    /// the common value (every point becomes core), and otherwise half the points are dense enough to be core.
    /// </summary>
    public static EpsChoice Choose(DistanceMatrix distances, int minSamples)
    {
        var curve = KDistance.SortedCurve(distances, minSamples);
        var knee = Kneedle.KneeIndex(curve);
        return new EpsChoice(knee is { } index ? curve[index] : curve[(curve.Length - 1) / 2], knee, curve);
    }
}

/// <summary>The chosen eps, the knee it came from (null when the median fallback was used), and the curve.</summary>
public sealed record EpsChoice(double Eps, int? KneeIndex, IReadOnlyList<double> KDistanceCurve);
