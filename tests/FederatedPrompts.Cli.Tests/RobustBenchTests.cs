using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary>`fedprompt bench robust` on tiny models: every strategy under every attack, and the median holds where FedAvg does not.</summary>
public class RobustBenchTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void One_hostile_client_moves_fedavg_far_and_the_median_little()
    {
        var (large, small, _) = TinyModels.Build(_dir, context: 64);
        string Rows(int n, int offset) => string.Join("\n", Enumerable.Range(offset, n).Select(i => JsonSerializer.Serialize(
            new { text = i % 2 == 0 ? $"lovely film {i}" : $"dull film {i}", label = i % 2 == 0 ? "positive" : "negative" })));
        Directory.CreateDirectory(_dir.Combine("data", "sst2"));
        _dir.Write(Path.Combine("data", "sst2", "train.jsonl"), Rows(24, 0));
        _dir.Write(Path.Combine("data", "sst2", "test.jsonl"), Rows(6, 100));
        string output = _dir.Combine("results");

        var run = Fedprompt.Run("bench", "robust", "--task", "sst2", "--data", _dir.Combine("data"), "--teacher", large, "--student", small,
            "--clients", "3", "--alpha", "100", "--train-limit", "24", "--test-limit", "6", "--epochs", "1", "--prompt-length", "2", "--out", output);
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        foreach (var file in new[] { "robust.json", "robust.md", "robust.png" }) Assert.True(File.Exists(Path.Combine(output, file)), file);

        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "robust.json"))).RootElement.GetProperty("result");
        Assert.Equal(24, result.GetProperty("client_examples").EnumerateArray().Sum(c => c.GetInt32()));
        var rows = result.GetProperty("rows").EnumerateArray().ToList();
        string[] attacks = ["none", "sign-flip", "sign-flip, max count", "noise, max count"];
        Assert.Equal(attacks.Length * 5, rows.Count);   // feddtpt, fedavg, median, trimmed-mean, krum
        Assert.All(rows, row => Assert.InRange(row.GetProperty("accuracy").GetDouble(), 0, 1));
        double Distance(string attack, string strategy) =>
            rows.Single(r => r.GetProperty("attack").GetString() == attack && r.GetProperty("strategy").GetString() == strategy).GetProperty("distance").GetDouble();
        // The attacker's vectors sit at the norm bound and claim 100,000 examples: FedAvg is its prompt; the median of three
        // values per coordinate lies between the two honest ones.
        Assert.True(Distance("sign-flip, max count", "fedavg") > 5 * Distance("sign-flip, max count", "median"));
    }

    [Fact]
    public void Fewer_than_three_clients_are_refused() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "robust", "--clients", "2", "--out", _dir.Path), "--clients must be at least 3");
}
