using System.Net;
using System.Net.Sockets;
using FederatedPrompts.Cli.Simulation;
using Microsoft.Data.Sqlite;

namespace FederatedPrompts.Cli.Tests;

/// <summary>
/// `fedprompt coordinator` on settings the models cannot honour, a null section, a timeout past any date, a file that is
/// not a database and a port in use: each ends with one `error:` line and exit code 2, and no refused run is stored.
/// </summary>
public class CoordinatorCommandTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Runs_databases_and_ports_the_coordinator_cannot_use_end_with_one_error_line()
    {
        var (write, certs) = TinyModels.SoftRun(_dir);
        string Config(string name, object soft, double timeout = 600) => write(name, soft, timeout);
        CliRun Coordinator(string config, string db, int? port = null) => Fedprompt.Run("coordinator", "--config", config, "--db", db,
            "--listen", $"https://127.0.0.1:{port ?? 1}", "--certs", certs);

        string db = _dir.Combine("coordinator.db");
        BadInputTests.AssertOneLineError(Coordinator(Config("long", new { prompt_length = 1000 }), db),
            "soft.prompt_length 1000 exceeds the small model's limit of 24 (half its 48 positions)");
        BadInputTests.AssertOneLineError(Coordinator(Config("forever", new { prompt_length = 2 }, timeout: 1e300), db),
            "round_timeout_seconds must be positive and at most 2592000");
        BadInputTests.AssertOneLineError(Coordinator(Config("null", (object)null!), db), "run configuration is not valid", "'soft'");
        using (var connection = new SqliteConnection($"Data Source={db};Pooling=false"))
        {
            connection.Open();
            using var count = connection.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM runs";
            Assert.Equal(0L, count.ExecuteScalar());   // the refused run was never stored
        }

        string garbage = _dir.Write("garbage.db", "this is not a database, but it is long enough to have a header........");
        BadInputTests.AssertOneLineError(Coordinator(Config("fine", new { prompt_length = 2 }), garbage), "garbage.db is not a usable coordinator database");

        using var occupied = new TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        int port = ((IPEndPoint)occupied.LocalEndpoint).Port;
        // The run is created before the listener starts, and the coordinator's log says so on stdout; stderr has the one line.
        var busy = Coordinator(Config("fine", new { prompt_length = 2 }), _dir.Combine("other.db"), port);
        Assert.Equal(2, busy.ExitCode);
        var line = Assert.Single(busy.Stderr.Trim().Split('\n'));
        Assert.StartsWith($"error: cannot listen on https://127.0.0.1:{port}/", line);
        Assert.Contains("address already in use", line);
        Assert.DoesNotContain("   at ", busy.Stdout);
    }

    /// <summary>
    /// A coordinator killed with SIGKILL leaves its newest state in coordinator.db-wal. Started on the .db alone (the log
    /// lost, or the file copied without it) it refuses, naming the log and the flag; with a damaged log, whose later
    /// commits SQLite would drop, it refuses too; with the log it resumes the run; with --accept-lost-state it starts
    /// from what the .db holds.
    /// </summary>
    [Fact]
    public async Task A_database_that_lost_its_write_ahead_log_after_a_crash_is_refused()
    {
        var (write, certs) = TinyModels.SoftRun(_dir);
        string config = write("crash", new { prompt_length = 2 }, 600);
        string db = _dir.Combine("live", "coordinator.db"), alone = _dir.Combine("alone", "coordinator.db");
        async Task<FedpromptProcess> Serve(string database, params string[] extra)
        {
            var process = new FedpromptProcess("coordinator", _dir.Combine($"coordinator-{Guid.NewGuid():N}.log"),
                ["coordinator", "--config", config, "--db", database, "--listen", "https://127.0.0.1:0", "--certs", certs, .. extra]);
            await process.Listening.WaitAsync(TimeSpan.FromSeconds(90));
            return process;
        }

        using (var first = await Serve(db)) first.Kill();   // SIGKILL: no clean close
        Assert.True(File.Exists(db + "-wal"));
        Directory.CreateDirectory(_dir.Combine("alone"));
        File.Copy(db, alone);   // the database without its log
        string damaged = _dir.Combine("damaged", "coordinator.db");
        Directory.CreateDirectory(_dir.Combine("damaged"));
        File.Copy(db, damaged);
        var log = File.ReadAllBytes(db + "-wal");
        log[32 + 24 + 100] ^= 0xFF;   // a byte of the first frame's page: every commit after it fails its checksum
        File.WriteAllBytes(damaged + "-wal", log);
        BadInputTests.AssertOneLineError(Fedprompt.Run("coordinator", "--config", config, "--db", damaged, "--listen", "https://127.0.0.1:0", "--certs", certs),
            "coordinator.db-wal is damaged", "committed transactions lie beyond a frame that fails its checksum");

        BadInputTests.AssertOneLineError(Fedprompt.Run("coordinator", "--config", config, "--db", alone, "--listen", "https://127.0.0.1:0", "--certs", certs),
            "was not closed cleanly and its write-ahead log", "coordinator.db-wal is missing", "--accept-lost-state");
        using (var accepted = await Serve(alone, "--accept-lost-state")) accepted.Kill();
        using (var resumed = await Serve(db)) resumed.Kill();
        // With its log, the database still holds the one run the first coordinator created: resumed, not begun again.
        using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var runs = connection.CreateCommand();
        runs.CommandText = "SELECT COUNT(*) FROM runs";
        Assert.Equal(1L, runs.ExecuteScalar());
    }
}
