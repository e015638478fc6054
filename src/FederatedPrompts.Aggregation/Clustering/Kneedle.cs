namespace FederatedPrompts.Aggregation.Clustering;

/// <summary>How the knee of a k-distance curve is found (<see cref="Kneedle"/>).</summary>
public enum KneeMethod
{
    /// <summary>The global maximum of Kneedle's difference curve: the point farthest below the chord.</summary>
    KneedleGlobal,
    /// <summary>Kneedle as the kneed Python package implements it (offline, S = 1): the first significant local maximum, searched from the curve's high end.</summary>
    Kneed,
}

/// <summary>
/// Knee of a convex increasing curve (such as a sorted k-distance curve) by Kneedle (Satopää et al., 2011):
/// x = index / (n − 1) and y = (v − min) / (max − min) are normalised to [0, 1]; Kneedle's difference curve D = y − x
/// is defined for concave increasing curves, so the convex curve is first rotated by 180° (x → 1 − x, y → 1 − y),
/// which makes D(i) = x(i) − y(i), the height of point i below the chord. Two readings of "the knee":
/// <list type="bullet">
/// <item><see cref="KneeMethod.KneedleGlobal"/>: the point of maximum D (ties: smallest index).</item>
/// <item><see cref="KneeMethod.Kneed"/>: what kneed's <c>KneeLocator(curve="convex", direction="increasing",
/// online=False)</c> returns. It walks the rotated curve, i.e. from the largest value down; local maxima of D count
/// with ≥ against both neighbours (an end point against itself, as <c>argrelextrema(np.greater_equal)</c> with
/// mode "clip"), minima likewise with ≤; at a maximum the threshold becomes D(max) − S / (n − 1), at a minimum 0; the
/// first point whose successor falls below the threshold makes the last maximum the knee. So a knee high on the
/// curve wins over a deeper one further down when D falls by S/(n − 1) after it: on k-distance curves whose lower part
/// is all 0 (tokens several clients uploaded), the global maximum sits at the last 0, and kneed finds the elbow among
/// the distinct tokens above it. One departure: kneed also counts a point on or above the chord (D ≤ 0) as a maximum,
/// in particular the curve's top end, where D is always 0; where the top of a k-distance curve bends the other way
/// (D &lt; 0 just below it), kneed returns the largest k-distance, an eps that puts every point in one cluster. Here
/// only points strictly below the chord (D &gt; 0) can be maxima. Where no maximum is followed by a fall of a whole
/// step, there is no knee, as kneed returns None (typically a bend at the curve's low end, after which D can fall by
/// one step at most before the curve ends; on three points, never).</item>
/// </list>
/// Both return null where the curve has no knee: fewer than 3 points, all values equal (within rounding), or no point
/// strictly below the chord (a straight or concave curve; kneed could report a knee made of rounding there).
/// </summary>
public static class Kneedle
{
    /// <summary>Spreads this small (relative) are rounding noise of equal distances, not a curve.</summary>
    const double FlatTolerance = 1e-12;

    /// <summary>kneed's sensitivity S (its default and the paper's): how far D must fall after a maximum, in units of the x step.</summary>
    const double Sensitivity = 1.0;

    /// <summary>The knee's index in <paramref name="ascending"/> by <paramref name="method"/>, or null when the curve has none.</summary>
    public static int? KneeIndex(IReadOnlyList<double> ascending, KneeMethod method = KneeMethod.KneedleGlobal)
    {
        if (DifferenceCurve(ascending) is not { } below) return null;
        return method switch
        {
            KneeMethod.KneedleGlobal => GlobalMaximum(below),
            KneeMethod.Kneed => FirstSignificantMaximum(below),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
        };
    }

    /// <summary>D(i) = x(i) − y(i) in the curve's own index order; null for a curve without a knee.</summary>
    static double[]? DifferenceCurve(IReadOnlyList<double> ascending)
    {
        var n = ascending.Count;
        if (n < 3) return null;
        for (var i = 1; i < n; i++)
            if (ascending[i] < ascending[i - 1]) throw new ArgumentException($"curve must be sorted ascending; value {i} is below value {i - 1}");
        double min = ascending[0], max = ascending[n - 1];
        if (max - min <= FlatTolerance * Math.Max(1, Math.Abs(max))) return null;
        var below = Enumerable.Range(0, n).Select(i => (double)i / (n - 1) - (ascending[i] - min) / (max - min)).ToArray();
        return below.Max() > 0 ? below : null;
    }

    static int GlobalMaximum(double[] below)
    {
        var knee = 0;
        for (var i = 1; i < below.Length; i++)
            if (below[i] > below[knee]) knee = i;
        return knee;
    }

    static int? FirstSignificantMaximum(double[] below)
    {
        var n = below.Length;
        // kneed's difference curve runs from the top of the k-distance curve down: step t is index n − 1 − t.
        var d = Enumerable.Range(0, n).Select(t => below[n - 1 - t]).ToArray();
        bool IsMaximum(int t) => d[t] > 0 && d[t] >= d[Math.Max(t - 1, 0)] && d[t] >= d[Math.Min(t + 1, n - 1)];
        bool IsMinimum(int t) => d[t] <= d[Math.Max(t - 1, 0)] && d[t] <= d[Math.Min(t + 1, n - 1)];
        var drop = Sensitivity / (n - 1);
        var first = Enumerable.Range(0, n).First(IsMaximum); // D's largest value is positive, so it is a maximum
        double threshold = 0;
        var thresholdAt = first;
        for (var t = first; t < n - 1; t++)
        {
            if (IsMaximum(t))
            {
                threshold = d[t] - drop;
                thresholdAt = t;
            }
            if (IsMinimum(t)) threshold = 0;
            if (d[t + 1] < threshold) return n - 1 - thresholdAt;
        }
        return null;
    }
}
