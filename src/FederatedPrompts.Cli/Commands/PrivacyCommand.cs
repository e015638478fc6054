using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FederatedPrompts.Post.Privacy;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt privacy epsilon|noise</c>: the DP-SGD privacy budget of Poisson-subsampled Gaussian steps, from the PRV
/// accountant (numerical composition, Gopi et al. 2021, as Opacus' default) or the RDP accountant (Opacus' default
/// orders and its (ε, δ) conversion, Balle et al. 2020).
/// </summary>
public static class PrivacyCommand
{
    const double DefaultDelta = 1e-5;

    public static Command Create() => new("privacy", "DP-SGD privacy accounting of the Poisson-subsampled Gaussian mechanism (PRV or RDP accountant)")
    {
        CreateEpsilon(),
        CreateNoise(),
    };

    static Command CreateEpsilon()
    {
        var sampleRate = SampleRateOption();
        var noise = Number<double>("--noise", "Noise multiplier σ: noise standard deviation over the clipping norm");
        var steps = StepsOption();
        var delta = Number<double>("--delta", "Target δ; 1e-5 unless given", DefaultDelta);
        var accountant = CommonOptions.Accountant();
        var json = CommonOptions.Json();
        var command = new Command("epsilon", "ε spent by --steps noisy steps (PRV: with the interval that holds the true ε; RDP: with the Rényi order that gives it)")
            { sampleRate, noise, steps, delta, accountant, json };
        command.SetAction(parse =>
        {
            double q = PrivacyParameters.RequireSampleRate(parse.GetValue(sampleRate), "--sample-rate");
            double sigma = PrivacyParameters.RequireNoiseMultiplier(parse.GetValue(noise), "--noise");
            int t = PrivacyParameters.RequireSteps(parse.GetValue(steps), "--steps");
            double d = PrivacyParameters.RequireDelta(parse.GetValue(delta), "--delta");
            var spent = Spent(PrivacyAccountants.Parse(parse.GetValue(accountant)), q, sigma, t, d);
            Report(spent, q, sigma, t, parse.GetValue(json), FormattableString.Invariant(
                $"epsilon {spent.Epsilon:0.####} at delta {d:G6} ({spent.Detail}; sample rate {q:G6}, noise multiplier {sigma:G6}, {t} steps)"));
            return 0;
        });
        return command;
    }

    static Command CreateNoise()
    {
        var epsilon = Number<double>("--epsilon", "Target ε");
        var delta = Number<double>("--delta", "Target δ");
        var sampleRate = SampleRateOption();
        var steps = StepsOption();
        var accountant = CommonOptions.Accountant();
        var json = CommonOptions.Json();
        var command = new Command("noise", "The noise multiplier σ that keeps --steps noisy steps within (ε, δ) (ε reached within 0.01, never exceeded)")
            { epsilon, delta, sampleRate, steps, accountant, json };
        command.SetAction(parse =>
        {
            double target = PrivacyParameters.RequireEpsilon(parse.GetValue(epsilon), "--epsilon");
            double d = PrivacyParameters.RequireDelta(parse.GetValue(delta), "--delta");
            double q = PrivacyParameters.RequireSampleRate(parse.GetValue(sampleRate), "--sample-rate");
            int t = PrivacyParameters.RequireSteps(parse.GetValue(steps), "--steps");
            var kind = PrivacyAccountants.Parse(parse.GetValue(accountant));
            double sigma = PrivacyAccountants.NoiseForEpsilon(kind, target, d, q, t);
            var spent = Spent(kind, q, sigma, t, d);
            Report(spent, q, sigma, t, parse.GetValue(json), FormattableString.Invariant(
                $"noise multiplier {sigma:G6} (epsilon {spent.Epsilon:0.####} at delta {d:G6}, {spent.Detail}; sample rate {q:G6}, {t} steps)"));
            return 0;
        });
        return command;
    }

    /// <summary>One accountant's answer: ε (the guarantee) and what qualifies it.</summary>
    sealed record Answer(AccountantKind Accountant, double Epsilon, double Delta, double? Order, PrvEpsilon? Interval)
    {
        public string Detail => Interval is { } i
            ? FormattableString.Invariant($"PRV accountant: estimate {i.Estimate:0.####}, true epsilon in [{i.Lower:0.####}, {i.Upper:0.####}]")
            : FormattableString.Invariant($"RDP accountant, order {Order:G6}");
    }

    static Answer Spent(AccountantKind kind, double q, double sigma, int steps, double delta)
    {
        if (kind == AccountantKind.Rdp)
        {
            var rdp = RdpAccountant.Epsilon(q, sigma, steps, delta);
            return new Answer(kind, rdp.Epsilon, delta, rdp.Order, null);
        }
        var prv = PrvAccountant.Epsilon(q, sigma, steps, delta);
        return new Answer(kind, prv.Upper, delta, null, prv);
    }

    static Option<double> SampleRateOption() =>
        Number<double>("--sample-rate", "Poisson sampling rate q ∈ (0, 1]: expected batch size over dataset size");

    static Option<int> StepsOption() => Number<int>("--steps", "Number of noisy steps (≥ 1)");

    /// <summary>
    /// A numeric option, required unless it has a default, whose unparsable value ends the command with one
    /// error line (exit 2) like any other bad value, rather than System.CommandLine's parse report and help.
    /// </summary>
    static Option<T> Number<T>(string name, string description, T? fallback = null) where T : struct, IParsable<T>
    {
        var option = new Option<T>(name)
        {
            Description = description,
            Required = fallback is null,
            CustomParser = result => result.Tokens.Count == 0 ? fallback.GetValueOrDefault()
                : T.TryParse(result.Tokens[^1].Value, CultureInfo.InvariantCulture, out var value) ? value
                : throw new UserInputException($"{name}: \"{result.Tokens[^1].Value}\" is not {(typeof(T) == typeof(int) ? "a whole number" : "a number")}"),
        };
        if (fallback is { } value) option.DefaultValueFactory = _ => value;
        return option;
    }

    /// <summary>Both verbs print the same JSON object; the text line leads with what was asked for.</summary>
    static void Report(Answer spent, double sampleRate, double noiseMultiplier, int steps, bool json, string text) =>
        Console.WriteLine(json
            ? JsonSerializer.Serialize(new
            {
                epsilon = spent.Epsilon, delta = spent.Delta, accountant = PrivacyAccountants.Name(spent.Accountant), order = spent.Order,
                epsilon_estimate = spent.Interval?.Estimate, epsilon_lower = spent.Interval?.Lower,
                sample_rate = sampleRate, noise_multiplier = noiseMultiplier, steps,
            }, CommonOptions.JsonLine)
            : text);
}
