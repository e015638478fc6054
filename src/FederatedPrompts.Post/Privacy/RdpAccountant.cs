namespace FederatedPrompts.Post.Privacy;

/// <summary>Steps of DP-SGD run with one sampling rate and noise multiplier.</summary>
public sealed record SampledGaussianSteps(double SampleRate, double NoiseMultiplier, int Steps);

/// <summary>
/// Rényi DP accountant for DP-SGD (Poisson-subsampled Gaussian steps), as Opacus' RDPAccountant: RDP adds up
/// over steps at each order (Mironov 2017, Prop. 1), and the total is converted to (ε, δ) at the best order.
/// An instance records the segments a training run has spent, so each round's cumulative ε can be reported.
/// </summary>
public sealed class RdpAccountant : IPrivacyAccountant
{
    /// <summary>Opacus' default orders: 1.1, 1.2, …, 10.9 and 12, 13, …, 63.</summary>
    public static IReadOnlyList<double> DefaultOrders { get; } =
        [.. Enumerable.Range(1, 99).Select(x => 1 + x / 10.0), .. Enumerable.Range(12, 52).Select(x => (double)x)];

    readonly List<SampledGaussianSteps> _history = [];
    readonly double[] _rdp;

    public RdpAccountant(IReadOnlyList<double>? orders = null, EpsilonConversion conversion = EpsilonConversion.HypothesisTesting)
    {
        Orders = [.. (orders ?? DefaultOrders).Select(order => PrivacyParameters.RequireOrder(order))];
        if (Orders.Count == 0) throw new ArgumentException("orders must not be empty");
        Conversion = conversion;
        _rdp = new double[Orders.Count];
    }

    public IReadOnlyList<double> Orders { get; }
    public EpsilonConversion Conversion { get; }

    /// <summary>The segments recorded so far, in order.</summary>
    public IReadOnlyList<SampledGaussianSteps> History => _history;

    /// <summary>Total RDP spent so far at each of <see cref="Orders"/>.</summary>
    public IReadOnlyList<double> Rdp => _rdp;

    /// <summary>Adds <paramref name="steps"/> steps with sampling rate q and noise multiplier σ.</summary>
    public void Record(double sampleRate, double noiseMultiplier, int steps)
    {
        PrivacyParameters.RequireSampleRate(sampleRate);
        PrivacyParameters.RequireNoiseMultiplier(noiseMultiplier);
        PrivacyParameters.RequireSteps(steps);
        for (int i = 0; i < Orders.Count; i++)
            _rdp[i] += steps * SampledGaussianRdp.Rdp(sampleRate, noiseMultiplier, Orders[i]);
        _history.Add(new SampledGaussianSteps(sampleRate, noiseMultiplier, steps));
    }

    double IPrivacyAccountant.Epsilon(double delta) => GetEpsilon(delta).Epsilon;

    /// <summary>The (ε, δ) guarantee of everything recorded so far.</summary>
    public PrivacySpent GetEpsilon(double delta) => RdpConversion.ToEpsilon(Orders, _rdp, delta, Conversion);

    /// <summary>ε (and its order) after <paramref name="steps"/> steps at sampling rate q and noise σ, over the default orders.</summary>
    public static PrivacySpent Epsilon(double sampleRate, double noiseMultiplier, int steps, double delta,
        EpsilonConversion conversion = EpsilonConversion.HypothesisTesting)
    {
        PrivacyParameters.RequireDelta(delta);
        var accountant = new RdpAccountant(conversion: conversion);
        accountant.Record(sampleRate, noiseMultiplier, steps);
        return accountant.GetEpsilon(delta);
    }

    /// <summary>The noise multiplier for a target (ε, δ) with this accountant (see <see cref="PrivacyAccountants.NoiseForEpsilon(AccountantKind, double, double, double, int, double)"/>).</summary>
    public static double NoiseForEpsilon(double targetEpsilon, double delta, double sampleRate, int steps,
        EpsilonConversion conversion = EpsilonConversion.HypothesisTesting, double epsilonTolerance = 0.01)
    {
        PrivacyParameters.RequireSampleRate(sampleRate);
        PrivacyParameters.RequireSteps(steps);
        return PrivacyAccountants.NoiseForEpsilon(sigma => Epsilon(sampleRate, sigma, steps, delta, conversion).Epsilon, targetEpsilon, delta,
            epsilonTolerance, $"at sample rate {sampleRate} over {steps} steps");
    }
}
