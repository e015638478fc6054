namespace FederatedPrompts.Post.Privacy;

/// <summary>
/// Arithmetic on numbers held as their natural logarithms, and the log of erfc, so the accountant's sums
/// of terms like 1e-400 and e^2000 neither underflow nor overflow.
/// </summary>
internal static class LogSpace
{
    static readonly double LogSqrtPi = 0.5 * Math.Log(Math.PI);

    /// <summary>log(e^a + e^b).</summary>
    public static double Add(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        double max = Math.Max(a, b);
        return max + Log1P(Math.Exp(-Math.Abs(a - b)));
    }

    /// <summary>log(e^a − e^b) for a ≥ b; the series that calls it only ever subtracts less than it has.</summary>
    public static double Subtract(double a, double b)
    {
        if (b > a) throw new InvalidOperationException($"log-space subtraction would be negative: log {a} - log {b}");
        if (double.IsNegativeInfinity(b)) return a;
        return a == b ? double.NegativeInfinity : a + Log1P(-Math.Exp(b - a));
    }

    /// <summary>log(1 + x), accurate for tiny x where Math.Log(1 + x) loses every digit of x (Goldberg 1991, Thm. 4).</summary>
    public static double Log1P(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary>
    /// log(erfc(x)) for every finite x, including x far beyond where erfc(x) underflows (erfc(27) ≈ 1e-319).
    /// </summary>
    public static double LogErfc(double x)
    {
        if (x < 0) return Math.Log(2 - ErfcOfNonNegative(-x));  // erfc(−x) = 2 − erfc(x); no cancellation, result in [1, 2]
        if (x < ContinuedFractionFrom) return Math.Log(ErfcOfNonNegative(x));
        return -x * x - LogSqrtPi - Math.Log(ErfcContinuedFraction(x));
    }

    /// <summary>erfc(x) for every x, ±∞ included, to about 14 significant digits: no cancellation on either side of 0.</summary>
    public static double Erfc(double x) => double.IsInfinity(x) ? (x > 0 ? 0 : 2) : x < 0 ? 2 - ErfcOfNonNegative(-x) : ErfcOfNonNegative(x);

    // Below this the continued fraction converges slowly; above it 1 − erf(x) would lose digits to cancellation
    // (erfc(2) ≈ 4.7e-3 costs under three of sixteen digits).
    const double ContinuedFractionFrom = 2;

    static double ErfcOfNonNegative(double x) => x < ContinuedFractionFrom
        ? 1 - ErfSeries(x)
        : Math.Exp(-x * x) / (Math.Sqrt(Math.PI) * ErfcContinuedFraction(x));

    /// <summary>
    /// erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)) (Abramowitz &amp; Stegun 7.1.6): all terms
    /// positive, so no cancellation for the x &lt; 2 it is used for.
    /// </summary>
    static double ErfSeries(double x)
    {
        double term = x, sum = x;
        for (int n = 1; term > sum * 1e-17; n++)
        {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }

    /// <summary>
    /// The continued fraction x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))) = e^(−x²) / (√π erfc(x))
    /// (Abramowitz &amp; Stegun 7.1.14), evaluated with the modified Lentz method; converges fast for x ≥ 2.
    /// </summary>
    static double ErfcContinuedFraction(double x)
    {
        const double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int n = 1; n <= 10_000; n++)
        {
            double a = n / 2.0;
            d = x + a * d;
            if (d == 0) d = tiny;
            c = x + a / c;
            if (c == 0) c = tiny;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) return f;
        }
        throw new InvalidOperationException($"erfc continued fraction did not converge at x = {x}");
    }
}
