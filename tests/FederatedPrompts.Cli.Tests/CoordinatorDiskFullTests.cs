using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FederatedPrompts.Cli.Simulation;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Protocol.Security;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Cli.Tests;

/// <summary>
/// Issue #12 §7: a coordinator whose disk fills up stops with exit code 1 and one `error:` line, so that a service
/// manager's Restart=on-failure starts it again (it used to stop with 0). The database lives on a 512 KiB tmpfs that the
/// test fills; mounting one needs root, and the test is skipped with that reason where it cannot.
/// </summary>
public class CoordinatorDiskFullTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [TmpfsFact]
    public async Task A_coordinator_that_cannot_write_its_database_stops_with_exit_code_1()
    {
        var (write, certs) = TinyModels.SoftRun(_dir);
        string config = write("full", new { prompt_length = 2 }, 600);
        string disk = _dir.Combine("disk");
        using var mount = Tmpfs.Mount(disk, "512k");
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0)) { probe.Start(); port = ((IPEndPoint)probe.LocalEndpoint).Port; }
        var address = new Uri($"https://127.0.0.1:{port}");
        using var coordinator = new FedpromptProcess("coordinator", _dir.Combine("coordinator.log"),
            ["coordinator", "--config", config, "--db", Path.Combine(disk, "coordinator.db"), "--listen", address.ToString(), "--certs", certs]);
        await coordinator.Listening.WaitAsync(TimeSpan.FromSeconds(60));

        // Fill the disk, then ask for a write: client-1 enrols.
        try
        {
            using var filler = File.Create(Path.Combine(disk, "filler"));
            var block = new byte[4096];
            while (true) filler.Write(block);
        }
        catch (IOException) { }   // no space left
        var tls = ClientCredentials.Load(PemFiles.CertificatePath(certs, "client-1"), PemFiles.KeyPath(certs, "client-1"), PemFiles.CertificatePath(certs, "ca"));
        using var channel = CoordinatorChannel.Create(address, tls, insecure: false, null);
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            new Protocol.V1.Federation.FederationClient(channel).EnrolAsync(new EnrolRequest { Mode = Mode.Soft, ExampleCount = 4 }).ResponseAsync);
        Assert.NotEqual(StatusCode.OK, refused.StatusCode);

        await coordinator.WaitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        Assert.Equal(1, coordinator.ExitCode);
        string log = File.ReadAllText(_dir.Combine("coordinator.log"));
        Assert.Contains("error: the coordinator stopped: ", log);
        Assert.Contains("coordinator.db could not be written", log);
    }
}

/// <summary>A test that mounts a small tmpfs (Linux, as root); skipped with the reason elsewhere.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute() { if (Tmpfs.Unavailable() is { } why) Skip = why; }
}

/// <summary>A mounted tmpfs, unmounted when disposed.</summary>
sealed class Tmpfs(string path) : IDisposable
{
    public static Tmpfs Mount(string path, string size)
    {
        Directory.CreateDirectory(path);
        Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
        return new Tmpfs(path);
    }

    /// <summary>Why a tmpfs cannot be mounted here; null when it can (tried once, on a scratch folder).</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux()) return "mounts a tmpfs: Linux only";
        string probe = Directory.CreateTempSubdirectory("fedprompt-tmpfs-probe-").FullName;
        try
        {
            using var mounted = Mount(probe, "64k");
            return null;
        }
        catch (InvalidOperationException e)
        {
            return $"cannot mount a tmpfs to fill a disk (needs root): {e.Message}";
        }
        finally
        {
            Directory.Delete(probe);
        }
    }

    public void Dispose() => Run("umount", path);

    static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', arguments)}: {error.Trim()}");
    }
}
