namespace FederatedPrompts.Post.Privacy;

/// <summary>
/// Adaptive Gauss–Kronrod quadrature (the 7-point Gauss rule inside the 15-point Kronrod rule, QUADPACK's QK15). The
/// difference of the two estimates on an interval is its error estimate; for smooth integrands such as a privacy loss
/// distribution's CDF the Kronrod estimate's true error is far below it.
/// </summary>
internal static class GaussKronrod
{
    // Abscissae of the 15-point Kronrod rule on [-1, 1] (the odd-indexed ones are the 7-point Gauss rule's), and weights.
    static readonly double[] Nodes =
    [
        0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926,
        0.741531185599394439863864773280788, 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
        0.207784955007898467600689403773245, 0,
    ];

    static readonly double[] KronrodWeights =
    [
        0.022935322010529224963732008058970, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518,
        0.140653259715525918745189590510238, 0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
        0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
    ];

    // Weights of the 7-point Gauss rule at Nodes[1], Nodes[3], Nodes[5] and Nodes[7] = 0.
    static readonly double[] GaussWeights =
    [
        0.129484966168869693270611432679082, 0.279705391489276667901467771423780, 0.381830050505118944950369775488975,
        0.417959183673469387755102040816327,
    ];

    /// <summary>Most intervals one integral is split into: a tolerance below the integrand's rounding error stops here.</summary>
    const int MaxIntervals = 4096;

    /// <summary>
    /// ∫ f over [a, b] to an absolute error of about <paramref name="tolerance"/>, globally adaptive: the interval
    /// with the largest error estimate is halved next, so the work goes where the integrand is hard.
    /// </summary>
    public static double Integrate(Func<double, double> f, double a, double b, double tolerance)
    {
        if (!(a <= b) || !double.IsFinite(a) || !double.IsFinite(b))
            throw new ArgumentException($"the interval must be finite with a ≤ b, got [{a}, {b}]");
        if (!(tolerance > 0)) throw new ArgumentException($"tolerance must be positive, got {tolerance}");
        if (a == b) return 0;

        var intervals = new PriorityQueue<(double A, double B, double Value, double Error), double>();
        double Add(double left, double right)   // returns the new interval's error estimate
        {
            var (kronrod, gauss) = Rule(f, left, right);
            double error = Math.Abs(kronrod - gauss);
            intervals.Enqueue((left, right, kronrod, error), -error);
            return error;
        }

        double totalError = Add(a, b);
        while (totalError > tolerance && intervals.Count < MaxIntervals)
        {
            var worst = intervals.Dequeue();
            double middle = (worst.A + worst.B) / 2;
            totalError += Add(worst.A, middle) + Add(middle, worst.B) - worst.Error;
        }
        return intervals.UnorderedItems.Sum(item => item.Element.Value);
    }

    static (double Kronrod, double Gauss) Rule(Func<double, double> f, double a, double b)
    {
        double centre = (a + b) / 2, halfWidth = (b - a) / 2;
        double kronrod = 0, gauss = 0;
        for (int i = 0; i < Nodes.Length; i++)
        {
            double values = i == Nodes.Length - 1
                ? f(centre)
                : f(centre - halfWidth * Nodes[i]) + f(centre + halfWidth * Nodes[i]);
            kronrod += KronrodWeights[i] * values;
            if (i % 2 == 1) gauss += GaussWeights[i / 2] * values;
        }
        return (kronrod * halfWidth, gauss * halfWidth);
    }
}
