namespace FederatedPrompts.Post.Privacy;

/// <summary>
/// The ε of a PRV accountant: the estimate from the discrete distribution, and the interval that Gopi et al. (Theorem
/// 5.5 with the mesh and domain below) prove holds the true ε. <see cref="Upper"/> is the guarantee reported.
/// </summary>
public readonly record struct PrvEpsilon(double Lower, double Estimate, double Upper);

/// <summary>
/// A tight accountant for DP-SGD: numerical composition of privacy loss random variables (Gopi, Lee, Wutschitz,
/// "Numerical Composition of Differential Privacy", NeurIPS 2021), as Opacus' PRVAccountant, its default since 1.3
/// and the accountant the official POST code set σ with. Each recorded segment's PRV is truncated to a safe domain
/// [−L, L], discretised on a mesh h, self-composed with the FFT, and the segments convolved; ε is read off the result.
///
/// Errors (Opacus' defaults): ε error 0.01 and δ error δ/1000. L = max(RDP ε of the whole history at δ_err/4, RDP ε
/// of one step of any segment at δ_err/(8T), ε_err) + 3 (Remark 5.6), h = ε_err / √(T·log(12/δ_err)/2) for T steps
/// in all. With these, the true ε(δ) lies in [ε̂(δ + δ_err) − ε_err, ε̂(δ − δ_err) + ε_err], and the accountant
/// reports the upper end: it may exceed the true ε by up to about 2·ε_err, never fall below it.
/// </summary>
public sealed class PrvAccountant : IPrivacyAccountant
{
    public const double DefaultEpsilonError = 0.01;

    /// <summary>δ error as a fraction of δ (Opacus: δ/1000).</summary>
    public const double DeltaErrorFraction = 1e-3;

    /// <summary>Losses beyond this overflow e^t in double precision; an ε near it means no privacy anyway.</summary>
    const double MaxDomain = 700;

    const double MachineEpsilon = 2.220446049250313e-16;

    readonly List<SampledGaussianSteps> _history = [];

    public PrvAccountant(double epsilonError = DefaultEpsilonError) =>
        EpsilonError = PrivacyParameters.RequireEpsilon(epsilonError, nameof(epsilonError));

    public double EpsilonError { get; }

    public IReadOnlyList<SampledGaussianSteps> History => _history;

    /// <summary>Adds steps; consecutive segments with the same q and σ are one segment (one self-composition).</summary>
    public void Record(double sampleRate, double noiseMultiplier, int steps)
    {
        PrivacyParameters.RequireSampleRate(sampleRate);
        PrivacyParameters.RequireNoiseMultiplier(noiseMultiplier);
        PrivacyParameters.RequireSteps(steps);
        if (_history.Count > 0 && _history[^1] is var last && last.SampleRate == sampleRate && last.NoiseMultiplier == noiseMultiplier)
            _history[^1] = last with { Steps = checked(last.Steps + steps) };
        else _history.Add(new SampledGaussianSteps(sampleRate, noiseMultiplier, steps));
    }

    double IPrivacyAccountant.Epsilon(double delta) => GetEpsilon(delta).Upper;

    /// <summary>The ε of everything recorded at δ, with the interval that holds the true value.</summary>
    public PrvEpsilon GetEpsilon(double delta)
    {
        PrivacyParameters.RequireDelta(delta);
        if (_history.Count == 0) throw new InvalidOperationException("no steps recorded");
        double deltaError = delta * DeltaErrorFraction;
        var composed = Compose(deltaError);
        if (MachineEpsilon * composed.Grid.Size > delta - deltaError)   // Opacus' check, with double's epsilon (its sums are in double too)
            throw new ArgumentException($"delta {delta:G3} is too small for a grid of {composed.Grid.Size} points: rounding would dominate it; use the RDP accountant");
        // ε is never negative; where the discrete curve solves below 0 (almost no loss at all), 0 is what each bound says.
        return new PrvEpsilon(
            Math.Max(0, composed.EpsilonAt(delta + deltaError) - EpsilonError),
            Math.Max(0, composed.EpsilonAt(delta)),
            Math.Max(0, composed.EpsilonAt(delta - deltaError) + EpsilonError));
    }

    /// <summary>ε after <paramref name="steps"/> steps at sampling rate q and noise σ.</summary>
    public static PrvEpsilon Epsilon(double sampleRate, double noiseMultiplier, int steps, double delta, double epsilonError = DefaultEpsilonError)
    {
        var accountant = new PrvAccountant(epsilonError);
        accountant.Record(sampleRate, noiseMultiplier, steps);
        return accountant.GetEpsilon(delta);
    }

    DiscretePrv Compose(double deltaError)
    {
        long totalSteps = _history.Sum(s => (long)s.Steps);
        double halfWidth = SafeDomain(deltaError, totalSteps);
        if (halfWidth > MaxDomain)
            throw new ArgumentException($"the privacy loss reaches ε ≈ {halfWidth - 3:G4} (RDP bound): beyond what the PRV accountant can represent; this is no meaningful privacy");
        double mesh = EpsilonError / Math.Sqrt(totalSteps * Math.Log(12 / deltaError) / 2);
        var grid = PrvGrid.Covering(halfWidth, mesh);
        return _history
            .Select(s => DiscretePrv.Discretise(new SubsampledGaussianPrv(s.SampleRate, s.NoiseMultiplier), grid).SelfCompose(s.Steps))
            .Aggregate((left, right) => left.Compose(right));
    }

    /// <summary>L of Remark 5.6, from RDP tail bounds, as Opacus' compute_safe_domain_size.</summary>
    double SafeDomain(double deltaError, long totalSteps)
    {
        var whole = new RdpAccountant();
        foreach (var s in _history) whole.Record(s.SampleRate, s.NoiseMultiplier, s.Steps);
        double largest = whole.GetEpsilon(deltaError / 4).Epsilon;
        foreach (var s in _history)
            largest = Math.Max(largest, RdpAccountant.Epsilon(s.SampleRate, s.NoiseMultiplier, 1, deltaError / (8.0 * totalSteps)).Epsilon);
        return Math.Max(largest, EpsilonError) + 3;
    }
}
