namespace FederatedPrompts.Core.Federation;

/// <summary>What a client reports about its local work in a round (for the run's report; nothing is decided on it).</summary>
public sealed record LocalWorkMetrics(double AccuracyBefore, double AccuracyAfter, double FinalLoss, int Steps, long Queries, long TokensSent, double Seconds)
{
    /// <summary>Accuracies in [0, 1], every number finite, counts and seconds ≥ 0; ArgumentException naming the first problem otherwise.</summary>
    public LocalWorkMetrics Validated()
    {
        double[] values = [AccuracyBefore, AccuracyAfter, FinalLoss, Seconds];
        if (values.Any(v => !double.IsFinite(v)) || Steps < 0 || Queries < 0 || TokensSent < 0 || Seconds < 0
            || AccuracyBefore is < 0 or > 1 || AccuracyAfter is < 0 or > 1)
            throw new ArgumentException($"metrics are not valid (accuracies in [0,1], finite, counts ≥ 0): {this}");
        return this;
    }
}

/// <summary>
/// A client's DP-SGD spend as it reports it: this round's mechanism (clip norm, σ, sampling rate, steps, δ) and ε for
/// the round alone and for all its rounds composed. The coordinator checks it against the run's budget.
/// </summary>
public sealed record DpSpend(double ClipNorm, double NoiseMultiplier, double SampleRate, int Steps, double Delta, double EpsilonRound, double EpsilonTotal)
{
    /// <summary>Finite and non-negative, sample rate ≤ 1, δ &lt; 1; ArgumentException otherwise.</summary>
    public DpSpend Validated()
    {
        double[] values = [ClipNorm, NoiseMultiplier, SampleRate, Delta, EpsilonRound, EpsilonTotal];
        if (values.Any(v => !double.IsFinite(v) || v < 0) || Steps < 0 || SampleRate > 1 || Delta >= 1)
            throw new ArgumentException($"privacy spend is not valid (finite, non-negative, sample rate ≤ 1, δ < 1): {this}");
        return this;
    }
}
