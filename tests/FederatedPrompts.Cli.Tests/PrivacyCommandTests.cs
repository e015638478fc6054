using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary><c>fedprompt privacy epsilon|noise</c>: the JSON contract of both accountants, the defaults (PRV, δ = 1e-5), and one-line errors for bad values.</summary>
public class PrivacyCommandTests
{
    static JsonElement RunJson(params string[] args)
    {
        var run = Fedprompt.Run(args);
        Assert.True(run.ExitCode == 0, run.Stderr);
        return JsonDocument.Parse(run.Stdout).RootElement;
    }

    static void AssertOneLineError(CliRun run, params string[] mentions) => BadInputTests.AssertOneLineError(run, mentions);

    // q = 0.01, σ = 1, 1000 steps, δ = 1e-5: ε = 2.10136527 at order 7.8 by an independent implementation
    // (see FederatedPrompts.Post.Tests' PrivacyReferenceValues).
    [Fact]
    public void Rdp_epsilon_json_has_every_field_and_defaults_delta_to_1e_5()
    {
        var result = RunJson("privacy", "epsilon", "--sample-rate", "0.01", "--noise", "1", "--steps", "1000", "--accountant", "rdp", "--json");
        Assert.Equal(2.1013652716485463, result.GetProperty("epsilon").GetDouble(), 1e-6);
        Assert.Equal(1e-5, result.GetProperty("delta").GetDouble());
        Assert.Equal("rdp", result.GetProperty("accountant").GetString());
        Assert.Equal(7.8, result.GetProperty("order").GetDouble());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("epsilon_estimate").ValueKind);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("epsilon_lower").ValueKind);
        Assert.Equal(0.01, result.GetProperty("sample_rate").GetDouble());
        Assert.Equal(1.0, result.GetProperty("noise_multiplier").GetDouble());
        Assert.Equal(1000, result.GetProperty("steps").GetInt32());
        Assert.Equal(9, result.EnumerateObject().Count());
    }

    [Fact]
    public void Rdp_epsilon_text_names_epsilon_delta_and_order()
    {
        var run = Fedprompt.Run("privacy", "epsilon", "--sample-rate", "0.01", "--noise", "1", "--steps", "1000", "--delta", "1e-5", "--accountant", "rdp");
        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("epsilon 2.1014 at delta 1E-05 (RDP accountant, order 7.8;", run.Stdout);
    }

    // Opacus' PRV accountant test: σ 0.8, q 0.001, 100 steps, δ = 1e-6 → ε 0.2704034 (the upper end it reports).
    [Fact]
    public void The_default_accountant_is_prv_and_reports_the_interval_of_the_true_epsilon()
    {
        var result = RunJson("privacy", "epsilon", "--sample-rate", "0.001", "--noise", "0.8", "--steps", "100", "--delta", "1e-6", "--json");
        Assert.Equal("prv", result.GetProperty("accountant").GetString());
        Assert.Equal(0.270403364058, result.GetProperty("epsilon").GetDouble(), 5e-6);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("order").ValueKind);
        double estimate = result.GetProperty("epsilon_estimate").GetDouble(), lower = result.GetProperty("epsilon_lower").GetDouble();
        Assert.True(lower < estimate && estimate < result.GetProperty("epsilon").GetDouble());

        var text = Fedprompt.Run("privacy", "epsilon", "--sample-rate", "0.001", "--noise", "0.8", "--steps", "100", "--delta", "1e-6");
        Assert.StartsWith("epsilon 0.2704 at delta 1E-06 (PRV accountant: estimate 0.2603, true epsilon in [0.2503, 0.2704];", text.Stdout);
    }

    [Fact]
    public void For_the_same_target_the_prv_accountant_calibrates_less_noise_than_rdp()
    {
        string[] target = ["privacy", "noise", "--epsilon", "8", "--delta", "1e-5", "--sample-rate", "0.16", "--steps", "54", "--json"];
        double prv = RunJson([.. target, "--accountant", "prv"]).GetProperty("noise_multiplier").GetDouble();
        double rdp = RunJson([.. target, "--accountant", "rdp"]).GetProperty("noise_multiplier").GetDouble();
        Assert.True(prv < rdp, $"σ {prv} (prv) against {rdp} (rdp)");
    }

    [Fact]
    public void Noise_finds_a_multiplier_whose_epsilon_is_just_under_the_target()
    {
        var result = RunJson("privacy", "noise", "--epsilon", "2", "--delta", "1e-6", "--sample-rate", "0.02", "--steps", "2000", "--json");
        double sigma = result.GetProperty("noise_multiplier").GetDouble();
        Assert.InRange(result.GetProperty("epsilon").GetDouble(), 1.99, 2.0);
        Assert.Equal(1e-6, result.GetProperty("delta").GetDouble());

        var check = RunJson("privacy", "epsilon", "--sample-rate", "0.02", "--noise", sigma.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            "--steps", "2000", "--delta", "1e-6", "--json");
        Assert.Equal(result.GetProperty("epsilon").GetDouble(), check.GetProperty("epsilon").GetDouble(), 1e-12);
    }

    [Fact]
    public void Noise_text_leads_with_the_multiplier() =>
        Assert.StartsWith("noise multiplier ", Fedprompt.Run("privacy", "noise", "--epsilon", "3", "--delta", "1e-5", "--sample-rate", "0.01", "--steps", "100").Stdout);

    [Theory]
    [InlineData("--sample-rate", "0", "--sample-rate must be in (0, 1], got 0")]
    [InlineData("--sample-rate", "1.5", "--sample-rate must be in (0, 1], got 1.5")]
    [InlineData("--sample-rate", "NaN", "--sample-rate must be in (0, 1], got NaN")]
    [InlineData("--noise", "-1", "--noise must be a positive finite number, got -1")]
    [InlineData("--noise", "0", "--noise must be a positive finite number, got 0")]
    [InlineData("--steps", "0", "--steps must be at least 1, got 0")]
    [InlineData("--delta", "1", "--delta must be in (0, 1), got 1")]
    [InlineData("--delta", "0", "--delta must be in (0, 1), got 0")]
    [InlineData("--noise", "lots", "--noise: \"lots\" is not a number")]
    [InlineData("--steps", "1.5", "--steps: \"1.5\" is not a whole number")]
    [InlineData("--accountant", "moments", "moments")]
    public void Epsilon_rejects_bad_values_in_one_line(string option, string value, string message)
    {
        var args = new Dictionary<string, string> { ["--sample-rate"] = "0.01", ["--noise"] = "1", ["--steps"] = "100", [option] = value };
        AssertOneLineError(Fedprompt.Run(["privacy", "epsilon", .. args.SelectMany(pair => new[] { pair.Key, pair.Value })]), message);
    }

    [Theory]
    [InlineData("--epsilon", "0", "--epsilon must be a positive finite number, got 0")]
    [InlineData("--epsilon", "-2", "--epsilon must be a positive finite number, got -2")]
    [InlineData("--delta", "-1e-5", "--delta must be in (0, 1), got -1E-05")]
    [InlineData("--sample-rate", "2", "--sample-rate must be in (0, 1], got 2")]
    [InlineData("--epsilon", "0.005", "cannot be reached")]   // below the PRV accountant's ε error of 0.01
    public void Noise_rejects_bad_values_in_one_line(string option, string value, string message)
    {
        var args = new Dictionary<string, string> { ["--epsilon"] = "1", ["--delta"] = "1e-5", ["--sample-rate"] = "0.01", ["--steps"] = "100", [option] = value };
        AssertOneLineError(Fedprompt.Run(["privacy", "noise", .. args.SelectMany(pair => new[] { pair.Key, pair.Value })]), message);
    }
}
