namespace FederatedPrompts.Post.Privacy;

/// <summary>
/// The privacy loss random variable (PRV) of one step of the Poisson-subsampled Gaussian mechanism, noise multiplier σ
/// and sampling rate q: the law of log(P(x)/Q(x)) for x ~ P, with P = q·N(1, σ²) + (1 − q)·N(0, σ²) and Q = N(0, σ²)
/// (Gopi, Lee, Wutschitz, "Numerical Composition of Differential Privacy", NeurIPS 2021, Propositions B1 and B4).
/// The loss t comes from the Gaussian point z(t) = log((eᵗ − (1 − q))/q), so the support starts at log(1 − q) and
/// P(Y ≤ t) = [q·erfc(−a) + (1 − q)·erfc(−b)]/2 with a, b = (2zσ² ∓ 1)/(2√2 σ). Opacus writes the same CDF as
/// 1 − [q·erfc(a) + (1 − q)·erfc(b)]/2; here the CDF and the survival function are each computed without
/// cancellation, so the far right tail, where δ comes from, keeps its digits.
/// </summary>
internal sealed class SubsampledGaussianPrv
{
    readonly double _q, _sigma, _logQ, _twoSqrt2Sigma, _twoSigmaSquared;

    public SubsampledGaussianPrv(double sampleRate, double noiseMultiplier)
    {
        _q = PrivacyParameters.RequireSampleRate(sampleRate);
        _sigma = PrivacyParameters.RequireNoiseMultiplier(noiseMultiplier);
        _logQ = Math.Log(_q);
        _twoSqrt2Sigma = 2 * Math.Sqrt(2) * _sigma;
        _twoSigmaSquared = 2 * _sigma * _sigma;
        SupportStart = Math.Log(1 - _q);   // −∞ for q = 1: then the PRV is N(1/(2σ²), 1/σ²)
    }

    public double SampleRate => _q;
    public double NoiseMultiplier => _sigma;

    /// <summary>log(1 − q): no loss lies at or below it.</summary>
    public double SupportStart { get; }

    /// <summary>P(Y ≤ t).</summary>
    public double Cdf(double t)
    {
        if (t <= SupportStart) return 0;
        var (a, b) = Arguments(t);
        return (_q * LogSpace.Erfc(-a) + (1 - _q) * LogSpace.Erfc(-b)) / 2;
    }

    /// <summary>P(Y &gt; t).</summary>
    public double Survival(double t)
    {
        if (t <= SupportStart) return 1;
        var (a, b) = Arguments(t);
        return (_q * LogSpace.Erfc(a) + (1 - _q) * LogSpace.Erfc(b)) / 2;
    }

    (double A, double B) Arguments(double t)
    {
        // z = log(eᵗ − (1 − q)) − log q, written so eᵗ never overflows and t near log(1 − q) keeps its digits.
        double z = t + LogSpace.Log1P(-(1 - _q) * Math.Exp(-t)) - _logQ;
        double scaled = z * _twoSigmaSquared;
        return ((scaled - 1) / _twoSqrt2Sigma, (scaled + 1) / _twoSqrt2Sigma);
    }
}

/// <summary>
/// A PRV conditioned on [<see cref="Low"/>, <see cref="High"/>]: the mass outside is dropped and the rest renormalised,
/// as Opacus' TruncatedPrivacyRandomVariable (the safe domain makes the dropped mass part of the δ error).
/// </summary>
internal sealed class TruncatedPrv
{
    readonly SubsampledGaussianPrv _prv;
    readonly double _cdfLow, _survivalHigh, _mass;

    public TruncatedPrv(SubsampledGaussianPrv prv, double low, double high)
    {
        if (!(low < 0 && high > 0)) throw new ArgumentException($"the truncation interval must contain 0, got [{low}, {high}]");
        _prv = prv;
        Low = low;
        High = high;
        _cdfLow = prv.Cdf(low);
        _survivalHigh = prv.Survival(high);
        _mass = 1 - _cdfLow - _survivalHigh;
    }

    public double Low { get; }
    public double High { get; }

    /// <summary>P(l ≤ Y &lt; r) after truncation; from the survival function right of 0, from the CDF left of it.</summary>
    public double Probability(double l, double r)
    {
        l = Math.Max(l, Low);
        r = Math.Min(r, High);
        if (r <= l) return 0;
        return l >= 0 ? (_prv.Survival(l) - _prv.Survival(r)) / _mass : (_prv.Cdf(r) - _prv.Cdf(l)) / _mass;
    }

    /// <summary>
    /// E[Y] after truncation, as ∫₀^High P(Y &gt; t) dt − ∫_Low^0 P(Y ≤ t) dt (integration by parts): both integrands
    /// fall to 0 away from the origin, so the quadrature's absolute error stays near 1e-13. Opacus integrates the CDF
    /// instead (t·F(t) − ∫F); the two are the same number.
    /// </summary>
    public double Mean()
    {
        const double tolerance = 1e-13;
        double right = 0, left = 0;
        double[] scales = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100];
        double start = 0;
        foreach (double end in scales.Where(s => s < High).Append(High))
        {
            right += GaussKronrod.Integrate(t => (_prv.Survival(t) - _survivalHigh) / _mass, start, end, tolerance);
            start = end;
        }
        double lowest = Math.Max(Low, _prv.SupportStart);
        double stop = 0;
        foreach (double end in scales.Select(s => -s).Where(s => s > lowest).Append(lowest))
        {
            left += GaussKronrod.Integrate(t => (_prv.Cdf(t) - _cdfLow) / _mass, end, stop, tolerance);
            stop = end;
        }
        return right - left;
    }
}
