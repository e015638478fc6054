using System.Text.Json;
using System.Text.RegularExpressions;
using FederatedPrompts.Cli.Simulation;

namespace FederatedPrompts.Cli.Tests;

/// <summary>
/// Issue #14 from the command line, as an operator and a container health check use it: `fedprompt coordinator` with
/// its ops and probe listeners, JSON logs and audit trail, and `fedprompt health` against both listeners, before and
/// after the coordinator is gone.
/// </summary>
public class OperationsCommandTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Health_metrics_json_logs_and_audit_from_a_coordinator_process()
    {
        var (write, certs) = TinyModels.SoftRun(_dir);
        string config = write("ops", new { prompt_length = 2 }, 600);
        string token = _dir.Write("token", "a-token-that-is-long-enough\n"), audit = _dir.Combine("audit", "trail.jsonl");
        var coordinator = new FedpromptProcess("coordinator", _dir.Combine("coordinator.log"),
            ["coordinator", "--config", config, "--db", _dir.Combine("coordinator.db"), "--listen", "https://127.0.0.1:0", "--certs", certs,
             "--ops-listen", "http://127.0.0.1:0", "--probe-listen", "http://127.0.0.1:0", "--dashboard-token-file", token,
             "--log-format", "json", "--audit-log", audit]);
        string address = await coordinator.Listening.WaitAsync(TimeSpan.FromSeconds(90));
        string announced = await coordinator.OpsListening.WaitAsync(TimeSpan.FromSeconds(30));
        string ops = Regex.Match(announced, @"^(\S+)metrics;").Groups[1].Value;
        Assert.EndsWith($"dashboard (token in {token})", announced);   // a token given in a file is never printed
        Assert.DoesNotContain("a-token-that-is-long-enough", File.ReadAllText(coordinator.LogPath));
        string probe = "";
        for (int i = 0; i < 100 && probe.Length == 0; i++, await Task.Delay(50))
            probe = Regex.Match(File.ReadAllText(coordinator.LogPath), @"health probes on (\S+)").Groups[1].Value;

        using (coordinator)
        {
            var plain = Fedprompt.Run("health", "--coordinator", probe);
            Assert.Equal((0, "serving"), (plain.ExitCode, plain.Stdout.Trim()));
            var tls = Fedprompt.Run("health", "--coordinator", address, "--certs", certs);
            Assert.Equal((0, "serving"), (tls.ExitCode, tls.Stdout.Trim()));

            using var http = new HttpClient();
            Assert.Contains("fedprompt_store_size_bytes", await http.GetStringAsync(ops + "metrics"));
            var json = File.ReadAllLines(coordinator.LogPath).Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Contains(json, e => e.GetProperty("Message").GetString()!.Contains("round 1 open"));
            Assert.All(json, e => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", e.GetProperty("Timestamp").GetString()));
            var start = JsonDocument.Parse(File.ReadLines(audit).First()).RootElement;
            Assert.Equal(("start", address), (start.GetProperty("event").GetString(), start.GetProperty("address").GetString()));
            coordinator.Kill();
        }
        var gone = Fedprompt.Run("health", "--coordinator", probe, "--timeout", "2");
        Assert.Equal(1, gone.ExitCode);
        Assert.StartsWith("not serving: Unavailable", gone.Stdout.Trim());
    }

    [Fact]
    public void Listener_and_token_options_it_cannot_use_end_with_one_error_line()
    {
        BadInputTests.AssertOneLineError(Fedprompt.Run("coordinator", "--insecure", "--listen", "http://127.0.0.1:0", "--db", _dir.Combine("a.db"),
            "--ops-listen", "https://127.0.0.1:9464"), "--ops-listen https://127.0.0.1:9464", "http://host:port");
        BadInputTests.AssertOneLineError(Fedprompt.Run("coordinator", "--insecure", "--listen", "http://127.0.0.1:0", "--db", _dir.Combine("b.db"),
            "--dashboard-token-file", _dir.Write("short", "abc")), "the token has 3 characters; give at least 16");
        BadInputTests.AssertOneLineError(Fedprompt.Run("coordinator", "--log-format", "xml"), "xml");
        BadInputTests.AssertOneLineError(Fedprompt.Run("health", "--coordinator", "http://127.0.0.1:1/path"), "give http://host:port");
    }
}
