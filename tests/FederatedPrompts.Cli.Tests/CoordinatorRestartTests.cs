using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FederatedPrompts.Cli.Simulation;
using Microsoft.Data.Sqlite;

namespace FederatedPrompts.Cli.Tests;

/// <summary>
/// The failure model's main promise, with real processes: the coordinator is killed mid-run (after it accepted an
/// update), started again on the same database and address, and the run completes with the clients it had; no
/// accepted update is lost or changed.
/// </summary>
public class CoordinatorRestartTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    static void Ok(CliRun run) => Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

    [Fact]
    public async Task Killed_coordinator_resumes_the_run_and_keeps_every_accepted_update()
    {
        var (large, small, corpus) = TinyModels.Build(_dir, context: 48);
        string Examples(int count) => string.Join("\n", Enumerable.Range(0, count).Select(i =>
            JsonSerializer.Serialize(new { text = i % 2 == 0 ? $"lovely day {i}" : $"dull day {i}", label = i % 2 == 0 ? "positive" : "negative" })));
        string certs = _dir.Combine("certs");
        Ok(Fedprompt.Run("certs", "--out", certs, "--clients", "2"));
        // client-2 has far more data, so its round-1 update lands well after client-1's: the kill falls between them.
        string[] data = [_dir.Write("client-1.jsonl", Examples(6)), _dir.Write("client-2.jsonl", Examples(600))];
        string config = _dir.Write("run.json", JsonSerializer.Serialize(new
        {
            name = "restart", mode = "soft", rounds = 2, min_clients = 2, clients = new[] { "client-1", "client-2" },
            small_model = small, large_model = large, preset = "synthetic-sentiment", eval_task = _dir.Write("eval.jsonl", Examples(4)),
            public_texts = corpus, soft = new { prompt_length = 2, epochs = 2, batch_size = 4 }, transfer = new { steps = 2, batch_size = 4 },
        }));
        string db = _dir.Combine("coordinator.db"), address = $"https://127.0.0.1:{FreePort()}";
        string[] coordinatorArgs = ["coordinator", "--config", config, "--db", db, "--listen", address, "--certs", certs, "--exit-when-finished"];

        var first = new FedpromptProcess("coordinator", _dir.Combine("coordinator-1.log"), coordinatorArgs);
        await first.Listening.WaitAsync(TimeSpan.FromMinutes(2));
        var clients = data.Select((file, i) => new FedpromptProcess($"client-{i + 1}", _dir.Combine($"client-{i + 1}.log"),
            ["client", "--coordinator", address, "--certs", certs, "--identity", $"client-{i + 1}", "--task", file, "--mode", "soft",
             "--cache", _dir.Combine("cache"), "--state", _dir.Combine($"state-{i + 1}")])).ToList();
        try
        {
            var accepted = await WaitForUpdates(db, TimeSpan.FromMinutes(2));
            first.Kill();
            first.Dispose();
            var beforeRestart = Updates(db);
            Assert.NotEmpty(beforeRestart);
            Assert.True(beforeRestart.Count < 4, "the kill should come before the run's last update");

            using var second = new FedpromptProcess("coordinator", _dir.Combine("coordinator-2.log"), coordinatorArgs);
            await second.Listening.WaitAsync(TimeSpan.FromMinutes(2));
            try
            {
                await second.WaitAsync().WaitAsync(TimeSpan.FromMinutes(6));
                foreach (var client in clients) await client.WaitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            }
            catch (TimeoutException)
            {
                string Tail(string path) => string.Join('\n', File.ReadLines(path).TakeLast(15));
                Assert.Fail($"the resumed run did not finish.\ncoordinator:\n{Tail(second.LogPath)}\n" +
                            string.Join('\n', clients.Select(c => $"{c.Name}:\n{Tail(c.LogPath)}")));
            }

            Assert.All(clients, c => Assert.True(c.ExitCode == 0, File.ReadAllText(c.LogPath)));
            var after = Updates(db);
            Assert.Equal(4, after.Count);   // 2 clients × 2 rounds, each exactly once
            foreach (var (key, bytes) in beforeRestart) Assert.Equal(bytes, after[key]);
            using var connection = Open(db);
            Assert.Equal("finished", Scalar(connection, "SELECT state FROM runs"));
            Assert.Equal(2L, Scalar(connection, "SELECT COUNT(*) FROM rounds WHERE state = 'closed'"));
            Assert.Contains("run restart", File.ReadAllText(_dir.Combine("coordinator-2.log")));
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static SqliteConnection Open(string db)
    {
        var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        connection.Open();
        return connection;
    }

    static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Accepted updates by (round, client), with the stored prompt bytes.</summary>
    static Dictionary<(long, string), byte[]> Updates(string db)
    {
        using var connection = Open(db);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT round, client_id, prompt FROM updates";
        using var reader = command.ExecuteReader();
        var rows = new Dictionary<(long, string), byte[]>();
        while (reader.Read()) rows[(reader.GetInt64(0), reader.GetString(1))] = (byte[])reader[2];
        return rows;
    }

    static async Task<int> WaitForUpdates(string db, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(db))
            {
                try
                {
                    int count = Updates(db).Count;
                    if (count > 0) return count;
                }
                catch (SqliteException)
                {
                    // the coordinator is still creating its tables
                }
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("no update was accepted in time");
    }
}
