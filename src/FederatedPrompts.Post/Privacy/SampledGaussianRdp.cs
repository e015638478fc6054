namespace FederatedPrompts.Post.Privacy;

/// <summary>
/// Rényi DP of one step of the Poisson-subsampled Gaussian mechanism with sensitivity 1 (DP-SGD's step):
/// each record is used with probability q and Gaussian noise N(0, σ²) is added to the sum. Mironov, Talwar
/// and Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism" (2019), Section 3.3:
/// RDP(α) = log(A_α) / (α − 1) with A_α = E_{z∼μ₀}[((1 − q) + q·μ₁(z)/μ₀(z))^α], μ₀ = N(0, σ²), μ₁ = N(1, σ²).
/// All sums are in log space; the same computation as Opacus/TF-Privacy's _compute_log_a_int/_frac.
/// </summary>
public static class SampledGaussianRdp
{
    /// <summary>RDP at <paramref name="order"/> of one step; compose T steps by multiplying by T.</summary>
    public static double Rdp(double sampleRate, double noiseMultiplier, double order)
    {
        PrivacyParameters.RequireSampleRate(sampleRate);
        PrivacyParameters.RequireNoiseMultiplier(noiseMultiplier);
        PrivacyParameters.RequireOrder(order);
        if (sampleRate == 1) return order / (2 * noiseMultiplier * noiseMultiplier);  // the Gaussian mechanism (Mironov 2017)
        double logA = order == Math.Floor(order)
            ? LogAOfIntegerOrder(sampleRate, noiseMultiplier, order)
            : LogAOfFractionalOrder(sampleRate, noiseMultiplier, order);
        // A_α ≥ 1, but for q ≲ 1e-6 log A_α is below double resolution and rounding can leave it at −1e-16.
        return Math.Max(0, logA) / (order - 1);
    }

    /// <summary>
    /// Integer α: binomial expansion A_α = Σ_{k=0}^{α} C(α,k) (1−q)^(α−k) q^k exp((k² − k) / (2σ²)),
    /// every term positive, so the sum is exact up to rounding.
    /// </summary>
    static double LogAOfIntegerOrder(double q, double sigma, double alpha)
    {
        double logQ = Math.Log(q), log1MinusQ = LogSpace.Log1P(-q);
        double logA = double.NegativeInfinity;
        var coefficient = new LogBinomial(alpha);
        for (int k = 0; k <= alpha; k++, coefficient.Next())
            logA = LogSpace.Add(logA, coefficient.LogMagnitude + k * logQ + (alpha - k) * log1MinusQ + (k * (double)k - k) / (2 * sigma * sigma));
        return logA;
    }

    /// <summary>
    /// Fractional α: A_α = A₀ + A₁, the integral split at z₀ = σ² log(1/q − 1) + 1/2, where the mixture's two
    /// parts are equal, q·μ₁(z₀) = (1 − q)·μ₀(z₀) (paper, Section 3.3):
    /// A₀ = Σₖ C(α,k) q^k (1−q)^(α−k) e^((k²−k)/(2σ²)) · ½ erfc((k − z₀)/(√2 σ)),
    /// A₁ = Σₖ C(α,k) q^(α−k) (1−q)^k e^((j²−j)/(2σ²)) · ½ erfc((z₀ − j)/(√2 σ)) with j = α − k.
    /// The generalised binomial coefficients change sign past k = α + 1, so terms are added or subtracted.
    /// </summary>
    static double LogAOfFractionalOrder(double q, double sigma, double alpha)
    {
        double logQ = Math.Log(q), log1MinusQ = LogSpace.Log1P(-q);
        double twoSigmaSquared = 2 * sigma * sigma, sqrt2Sigma = Math.Sqrt(2) * sigma;
        double z0 = sigma * sigma * (log1MinusQ - logQ) + 0.5;
        double logA0 = double.NegativeInfinity, logA1 = double.NegativeInfinity;
        var coefficient = new LogBinomial(alpha);
        for (int k = 0; ; k++, coefficient.Next())
        {
            double j = alpha - k;
            double logS0 = coefficient.LogMagnitude + k * logQ + j * log1MinusQ + (k * (double)k - k) / twoSigmaSquared
                + Math.Log(0.5) + LogSpace.LogErfc((k - z0) / sqrt2Sigma);
            double logS1 = coefficient.LogMagnitude + j * logQ + k * log1MinusQ + (j * j - j) / twoSigmaSquared
                + Math.Log(0.5) + LogSpace.LogErfc((z0 - j) / sqrt2Sigma);
            if (coefficient.IsPositive) { logA0 = LogSpace.Add(logA0, logS0); logA1 = LogSpace.Add(logA1, logS1); }
            else { logA0 = LogSpace.Subtract(logA0, logS0); logA1 = LogSpace.Subtract(logA1, logS1); }
            // Past k = α the terms decay; stop once they cannot move A_α ≥ 1 (Jensen) by more than e^−30, Opacus'
            // rule. Opacus applies it from k = 0, which can stop on a tiny first term when q is near ½ and α is large.
            if (k > alpha && Math.Max(logS0, logS1) < -30) break;
        }
        return LogSpace.Add(logA0, logA1);
    }

    /// <summary>C(α, k) for k = 0, 1, 2, … as sign and log magnitude, by C(α,k) = C(α,k−1)·(α−k+1)/k.</summary>
    struct LogBinomial(double alpha)
    {
        int _k;
        public double LogMagnitude { get; private set; }
        public bool IsPositive { get; private set; } = true;

        public void Next()
        {
            _k++;
            double factor = (alpha - _k + 1) / _k;
            LogMagnitude += Math.Log(Math.Abs(factor));
            if (factor < 0) IsPositive = !IsPositive;
        }
    }
}
