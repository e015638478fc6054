namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>
/// Knee of a convex increasing curve (such as a sorted k-distance curve) by Kneedle (Satopää et al., 2011), offline
/// variant without the sensitivity threshold: x = index / (n − 1) and y = (v − min) / (max − min) are normalised to
/// [0, 1]; Kneedle's difference curve D = y − x is defined for concave increasing curves, so the convex curve is first
/// rotated by 180° (x → 1 − x, y → 1 − y), which makes D = x − y; the knee is the point of maximum D, the one farthest
/// below the chord. Ties go to the smallest index.
/// </summary>
public static class Kneedle
{
    /// <summary>Spreads this small (relative) are rounding noise of equal distances, not a curve.</summary>
    const double FlatTolerance = 1e-12;

    /// <summary>
    /// The knee's index in <paramref name="ascending"/>, or null when the curve has none: fewer than 3 points, all
    /// values equal (within rounding), or no point strictly below the chord (a straight or concave curve).
    /// </summary>
    public static int? KneeIndex(IReadOnlyList<double> ascending)
    {
        var n = ascending.Count;
        if (n < 3) return null;
        for (var i = 1; i < n; i++)
            if (ascending[i] < ascending[i - 1]) throw new ArgumentException($"curve must be sorted ascending; value {i} is below value {i - 1}");
        double min = ascending[0], max = ascending[n - 1];
        if (max - min <= FlatTolerance * Math.Max(1, Math.Abs(max))) return null;
        int? knee = null;
        var best = 0.0;
        for (var i = 0; i < n; i++)
        {
            var difference = (double)i / (n - 1) - (ascending[i] - min) / (max - min);
            if (difference > best)
            {
                best = difference;
                knee = i;
            }
        }
        return knee;
    }
}
