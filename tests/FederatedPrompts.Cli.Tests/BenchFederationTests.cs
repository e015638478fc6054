using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary><c>fedprompt bench federation</c> on a tiny setting: a real coordinator over mutual TLS and three in-process clients.</summary>
public class BenchFederationTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Three_clients_one_round_writes_the_numbers()
    {
        var run = Fedprompt.Run("bench", "federation", "--clients", "3", "--rounds", "1", "--mode", "discrete", "--out", _dir.Path, "--seed", "5");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        foreach (var ext in new[] { "json", "md", "png" }) Assert.True(File.Exists(_dir.Combine($"federation.{ext}")), ext);

        var root = JsonDocument.Parse(File.ReadAllText(_dir.Combine("federation.json"))).RootElement;
        Assert.Equal("discrete", root.GetProperty("mode").GetString());
        Assert.Equal(5, root.GetProperty("seed").GetInt32());
        var n = Assert.Single(root.GetProperty("runs").EnumerateArray());
        Assert.Equal(3, n.GetProperty("clients").GetInt32());
        Assert.Equal(0, n.GetProperty("refused_uploads").GetInt32());
        Assert.True(n.GetProperty("round_overhead_seconds").GetDouble() > 0);
        Assert.True(n.GetProperty("uploads_per_second").GetDouble() > 0);
        Assert.True(n.GetProperty("request_bytes_per_upload").GetDouble() > 0);
        Assert.True(n.GetProperty("store").GetProperty("database_bytes").GetInt64() > 0);
        Assert.True(n.GetProperty("memory").GetProperty("peak_during_run").GetProperty("working_set_bytes").GetInt64() > 0);
        var round = Assert.Single(n.GetProperty("rounds").EnumerateArray());
        Assert.Equal(3, round.GetProperty("uploads").GetInt32());
        Assert.True(round.GetProperty("aggregate_seconds").GetDouble() >= 0);
        Assert.Contains(n.GetProperty("offline_aggregation").EnumerateArray(), o => o.GetProperty("strategy").GetString() == "fedavg");
    }

    [Fact]
    public void Zero_clients_is_bad_input() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "federation", "--clients", "0", "--out", _dir.Path), "--clients", "\"0\"");
}
