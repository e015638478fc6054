namespace FederatedPrompts.Post.Privacy;

/// <summary>Which accountant turns DP-SGD steps into (ε, δ).</summary>
public enum AccountantKind
{
    /// <summary>Numerical composition of privacy loss random variables (<see cref="PrvAccountant"/>): tight, the default.</summary>
    Prv,

    /// <summary>Rényi DP (<see cref="RdpAccountant"/>): a looser upper bound, closed form per order.</summary>
    Rdp,
}

/// <summary>An accountant that records DP-SGD steps and reports the ε they spend.</summary>
public interface IPrivacyAccountant
{
    /// <summary>The segments recorded so far, in order.</summary>
    IReadOnlyList<SampledGaussianSteps> History { get; }

    /// <summary>Adds <paramref name="steps"/> Poisson-subsampled Gaussian steps with sampling rate q and noise multiplier σ.</summary>
    void Record(double sampleRate, double noiseMultiplier, int steps);

    /// <summary>The ε guaranteed at δ for everything recorded: an upper bound on the true ε.</summary>
    double Epsilon(double delta);
}

/// <summary>The accountants by kind, and σ calibrated with either.</summary>
public static class PrivacyAccountants
{
    /// <summary>As Opacus' PrivacyEngine and the official POST code: the PRV accountant.</summary>
    public const AccountantKind Default = AccountantKind.Prv;

    /// <summary>Largest noise multiplier <see cref="NoiseForEpsilon"/> tries (Opacus' MAX_SIGMA).</summary>
    public const double MaxNoiseMultiplier = 1e6;

    public static IPrivacyAccountant Create(AccountantKind kind) => kind switch
    {
        AccountantKind.Prv => new PrvAccountant(),
        AccountantKind.Rdp => new RdpAccountant(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The name used on the command line and in run configurations: "prv" or "rdp".</summary>
    public static string Name(AccountantKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>Every accountant's <see cref="Name"/>, the default first.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<AccountantKind>().Select(Name)];

    /// <summary>Parses "prv" or "rdp" (any case); <paramref name="what"/> names the option in the error.</summary>
    public static AccountantKind Parse(string? value, string what = "accountant")
    {
        foreach (var kind in Enum.GetValues<AccountantKind>())
            if (string.Equals(Name(kind), value, StringComparison.OrdinalIgnoreCase)) return kind;
        throw new ArgumentException($"{what} must be one of {string.Join(", ", Names)}, got '{value}'");
    }

    /// <summary>ε at δ after <paramref name="steps"/> steps at sampling rate q and noise σ.</summary>
    public static double Epsilon(AccountantKind kind, double sampleRate, double noiseMultiplier, int steps, double delta)
    {
        PrivacyParameters.RequireDelta(delta);
        var accountant = Create(kind);
        accountant.Record(sampleRate, noiseMultiplier, steps);
        return accountant.Epsilon(delta);
    }

    /// <summary>The noise multiplier for a target (ε, δ) over <paramref name="steps"/> steps, with the accountant of that kind.</summary>
    public static double NoiseForEpsilon(AccountantKind kind, double targetEpsilon, double delta, double sampleRate, int steps, double epsilonTolerance = 0.01)
    {
        PrivacyParameters.RequireSampleRate(sampleRate);
        PrivacyParameters.RequireSteps(steps);
        return NoiseForEpsilon(sigma => Epsilon(kind, sampleRate, sigma, steps, delta), targetEpsilon, delta, epsilonTolerance,
            $"at sample rate {sampleRate} over {steps} steps with the {Name(kind)} accountant");
    }

    /// <summary>
    /// As Opacus' get_noise_multiplier: double σ from 20 until ε(σ) ≤ target, then bisect until target − tolerance &lt;
    /// ε(σ) ≤ target, and return that σ (so its ε never exceeds the target). Throws when even σ =
    /// <see cref="MaxNoiseMultiplier"/> overspends (an accountant's ε has a floor above 0: RDP's over finitely many
    /// orders, PRV's its ε error).
    /// </summary>
    internal static double NoiseForEpsilon(Func<double, double> epsilonAt, double targetEpsilon, double delta, double epsilonTolerance, string setting)
    {
        PrivacyParameters.RequireEpsilon(targetEpsilon, nameof(targetEpsilon));
        PrivacyParameters.RequireDelta(delta);
        PrivacyParameters.RequireEpsilon(epsilonTolerance, nameof(epsilonTolerance));
        double sigmaLow = 0, sigmaHigh = 10, epsilonHigh;
        do
        {
            sigmaHigh *= 2;
            if (sigmaHigh > MaxNoiseMultiplier)
                throw new ArgumentException($"epsilon {targetEpsilon} with delta {delta} cannot be reached {setting}, even with noise multiplier {MaxNoiseMultiplier}");
            epsilonHigh = epsilonAt(sigmaHigh);
        } while (epsilonHigh > targetEpsilon);

        while (targetEpsilon - epsilonHigh > epsilonTolerance)
        {
            double sigma = (sigmaLow + sigmaHigh) / 2;
            double epsilon = epsilonAt(sigma);
            if (epsilon < targetEpsilon) (sigmaHigh, epsilonHigh) = (sigma, epsilon);
            else sigmaLow = sigma;
        }
        return sigmaHigh;
    }
}
