using System.Net;
using System.Net.Sockets;
using FederatedPrompts.Cli.Simulation;

namespace FederatedPrompts.Cli.Tests;

/// <summary>`fedprompt client` as a real process against a coordinator that is not there, and stopped as systemd stops it.</summary>
public class ClientCommandTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>SIGTERM, as systemd's stop sends it, through kill(1).</summary>
    static void Terminate(int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", pid.ToString()]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    [LinuxFact]
    public async Task A_client_without_a_coordinator_says_so_at_once_and_SIGTERM_stops_it_cleanly()
    {
        string certs = _dir.Combine("certs");
        Assert.Equal(0, Fedprompt.Run("certs", "--out", certs, "--clients", "1").ExitCode);
        string data = _dir.Write("private.jsonl", "{\"text\": \"a lovely day\", \"label\": \"positive\"}\n{\"text\": \"a dull day\", \"label\": \"negative\"}\n");
        int closed;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closed = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        string log = _dir.Combine("client.log");
        using var client = new FedpromptProcess("client", log, ["client", "--coordinator", $"https://127.0.0.1:{closed}", "--certs", certs,
            "--identity", "client-1", "--task", data, "--mode", "soft", "--cache", _dir.Combine("cache"), "--state", _dir.Combine("state")]);

        string Log()
        {
            using var reader = new StreamReader(new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            return reader.ReadToEnd();
        }
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!Log().Contains("no answer from the coordinator (Unavailable"))
        {
            Assert.True(DateTime.UtcNow < until && !client.HasExited, $"the client said nothing of the missing coordinator in 30 s:\n{Log()}");
            await Task.Delay(200);
        }
        Assert.Contains("attempt 1 of 30", Log());

        Terminate(client.Id);
        await client.WaitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        Assert.Equal(130, client.ExitCode);
        Assert.Contains("stopped: cancelled by a signal", Log());
        Assert.DoesNotContain("Exception", Log());
    }
}

/// <summary>A test that sends a POSIX signal with kill(1).</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute() { if (!OperatingSystem.IsLinux()) Skip = "sends a POSIX signal with kill(1)"; }
}
