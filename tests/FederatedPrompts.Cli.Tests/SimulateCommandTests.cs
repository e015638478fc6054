using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary><c>fedprompt simulate</c> end to end: a coordinator process and clients over mutual TLS on loopback.</summary>
public class SimulateCommandTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    static void Ok(CliRun run) => Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

    [Fact]
    public void In_process_clients_each_train_every_round_and_the_report_counts_them()
    {
        var (large, small, corpus) = TinyModels.Build(_dir, context: 64);
        string output = _dir.Combine("sim");

        var run = Fedprompt.Run("simulate", "--in-process", "--concurrent-work", "2", "--clients", "5", "--rounds", "2", "--partition", "iid",
            "--large", large, "--small", small, "--public-texts", corpus, "--out", output,
            "--local-epochs", "1", "--lr", "0.05", "--random-init", "--validate-every", "50");

        Ok(run);
        // The local-work and transfer options reach the run file the coordinator ran.
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "run.json"))))
        {
            var soft = config.RootElement.GetProperty("soft");
            Assert.Equal((1, 0.05, true), (soft.GetProperty("epochs").GetInt32(), soft.GetProperty("learning_rate").GetDouble(), soft.GetProperty("random_init").GetBoolean()));
            Assert.Equal(JsonValueKind.Null, soft.GetProperty("init_text").ValueKind);
            Assert.Equal(50, config.RootElement.GetProperty("transfer").GetProperty("validate_every").GetInt32());
            Assert.Equal("fedavg", soft.GetProperty("strategy").GetString());   // the soft default
        }
        Assert.Contains("starting 5 clients in this process", run.Stdout);
        Assert.Contains(Path.Combine(output, "report.md"), run.Stdout.Replace("\n", ""));
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        Assert.Equal("finished", report.RootElement.GetProperty("state").GetString());
        var rounds = report.RootElement.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(2, rounds.Count);
        Assert.All(rounds, r => Assert.Equal(5, r.GetProperty("modes").GetProperty("soft").GetProperty("uploads").GetInt32()));
        for (int i = 1; i <= 5; i++)   // each hosted client wrote its own log, ending with what it trained
            Assert.Contains($"client-{i} trained in rounds [1, 2]", File.ReadAllText(Path.Combine(output, "logs", $"client-{i}.log")));
    }
}
