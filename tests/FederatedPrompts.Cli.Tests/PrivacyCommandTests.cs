using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary><c>fedprompt privacy epsilon|noise</c>: the JSON contract, the δ default, and one-line errors for bad values.</summary>
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
    public void Epsilon_json_has_every_field_and_defaults_delta_to_1e_5()
    {
        var result = RunJson("privacy", "epsilon", "--sample-rate", "0.01", "--noise", "1", "--steps", "1000", "--json");
        Assert.Equal(2.1013652716485463, result.GetProperty("epsilon").GetDouble(), 1e-6);
        Assert.Equal(1e-5, result.GetProperty("delta").GetDouble());
        Assert.Equal(7.8, result.GetProperty("order").GetDouble());
        Assert.Equal(0.01, result.GetProperty("sample_rate").GetDouble());
        Assert.Equal(1.0, result.GetProperty("noise_multiplier").GetDouble());
        Assert.Equal(1000, result.GetProperty("steps").GetInt32());
        Assert.Equal(6, result.EnumerateObject().Count());
    }

    [Fact]
    public void Epsilon_text_names_epsilon_delta_and_order()
    {
        var run = Fedprompt.Run("privacy", "epsilon", "--sample-rate", "0.01", "--noise", "1", "--steps", "1000", "--delta", "1e-5");
        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("epsilon 2.1014 at delta 1E-05 (RDP order 7.8;", run.Stdout);
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
    [InlineData("--epsilon", "0.01", "cannot be reached")]
    public void Noise_rejects_bad_values_in_one_line(string option, string value, string message)
    {
        var args = new Dictionary<string, string> { ["--epsilon"] = "1", ["--delta"] = "1e-5", ["--sample-rate"] = "0.01", ["--steps"] = "100", [option] = value };
        AssertOneLineError(Fedprompt.Run(["privacy", "noise", .. args.SelectMany(pair => new[] { pair.Key, pair.Value })]), message);
    }
}
