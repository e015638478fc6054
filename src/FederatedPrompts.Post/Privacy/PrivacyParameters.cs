using System.Globalization;

namespace FederatedPrompts.Post.Privacy;

/// <summary>
/// Checks of the accountant's inputs. Each takes the name to report, so the library names its parameters
/// and the CLI names its options with the same rule and the same words.
/// </summary>
public static class PrivacyParameters
{
    /// <summary>Poisson sampling rate q ∈ (0, 1].</summary>
    public static double RequireSampleRate(double value, string name = "sampleRate") =>
        value > 0 && value <= 1 ? value : throw Invalid(name, value, "must be in (0, 1]");

    /// <summary>Noise multiplier σ (noise standard deviation over the clipping norm) &gt; 0.</summary>
    public static double RequireNoiseMultiplier(double value, string name = "noiseMultiplier") =>
        value > 0 && double.IsFinite(value) ? value : throw Invalid(name, value, "must be a positive finite number");

    /// <summary>δ ∈ (0, 1).</summary>
    public static double RequireDelta(double value, string name = "delta") =>
        value > 0 && value < 1 ? value : throw Invalid(name, value, "must be in (0, 1)");

    /// <summary>ε &gt; 0.</summary>
    public static double RequireEpsilon(double value, string name = "epsilon") =>
        value > 0 && double.IsFinite(value) ? value : throw Invalid(name, value, "must be a positive finite number");

    /// <summary>Number of noisy steps ≥ 1.</summary>
    public static int RequireSteps(int value, string name = "steps") =>
        value >= 1 ? value : throw Invalid(name, value, "must be at least 1");

    /// <summary>Rényi order α &gt; 1, finite.</summary>
    public static double RequireOrder(double value, string name = "order") =>
        value > 1 && double.IsFinite(value) ? value : throw Invalid(name, value, "must be a finite number greater than 1");

    static ArgumentException Invalid(string name, IFormattable value, string rule) =>
        new($"{name} {rule}, got {value.ToString(null, CultureInfo.InvariantCulture)}");
}
