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
    public void Clients_that_train_download_the_model_each_into_a_folder_of_their_own_from_a_coordinator_process()
    {
        var run = Fedprompt.Run("bench", "federation", "--client-work", "train", "--clients", "2", "--rounds", "1", "--model-dtype", "BF16",
            "--examples", "4", "--out", _dir.Path, "--seed", "3");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        foreach (var ext in new[] { "json", "md", "png" }) Assert.True(File.Exists(_dir.Combine($"federation-bf16-train.{ext}")), ext);

        var root = JsonDocument.Parse(File.ReadAllText(_dir.Combine("federation-bf16-train.json"))).RootElement;
        Assert.Equal(("train", "soft", 4), (root.GetProperty("client_work").GetString(), root.GetProperty("mode").GetString(), root.GetProperty("examples_per_client").GetInt32()));
        Assert.Equal(("tiny", "BF16"), (root.GetProperty("model").GetProperty("name").GetString(), root.GetProperty("model").GetProperty("dtype").GetString()));
        var n = Assert.Single(root.GetProperty("runs").EnumerateArray());
        Assert.Equal((2, "finished"), (n.GetProperty("clients").GetInt32(), n.GetProperty("run_state").GetString()));

        // Every client fetched the whole model, in chunk messages a little larger than the files; the coordinator read the files to send them.
        var download = n.GetProperty("download");
        long model = download.GetProperty("model_bytes").GetInt64();
        Assert.Equal(root.GetProperty("model").GetProperty("small_bytes").GetInt64(), model);
        Assert.Equal(2 * model, download.GetProperty("downloaded_bytes").GetInt64());
        Assert.InRange(download.GetProperty("grpc_message_bytes").GetInt64(), 2 * model + 1, 2 * model * 11 / 10);
        Assert.True(download.GetProperty("coordinator_read_bytes").GetInt64() >= 2 * model);
        Assert.True(download.GetProperty("aggregate_mb_per_second").GetDouble() > 0);
        foreach (var client in n.GetProperty("per_client").EnumerateArray())
        {
            Assert.Equal(model, client.GetProperty("downloaded_bytes").GetInt64());
            var round = Assert.Single(client.GetProperty("rounds").EnumerateArray());
            Assert.Equal(("accepted", 1), (round.GetProperty("outcome").GetString(), round.GetProperty("steps").GetInt32()));   // 4 examples, batches of 4
        }

        // The coordinator's own memory, read from /proc: idle before the clients, its peak while they downloaded, its lifetime peak.
        var memory = n.GetProperty("coordinator_memory");
        long idle = memory.GetProperty("idle_rss_bytes").GetInt64(), peak = memory.GetProperty("download_peak_rss_bytes").GetInt64();
        Assert.True(idle > 0 && peak > 0 && memory.GetProperty("lifetime_peak_rss_bytes").GetInt64() >= peak, $"idle {idle}, download peak {peak}");
        Assert.Equal(peak - idle, memory.GetProperty("download_growth_bytes").GetInt64(), tolerance: 1);
        var round1 = Assert.Single(n.GetProperty("rounds").EnumerateArray());
        Assert.True(round1.GetProperty("local_work_seconds_mean").GetDouble() > 0);
        Assert.True(round1.GetProperty("client_round_seconds_mean").GetDouble() >= round1.GetProperty("download_seconds_mean").GetDouble());
    }

    [Fact]
    public void Clients_spread_over_processes_each_enrol_and_upload_every_round()
    {
        var run = Fedprompt.Run("bench", "federation", "--clients", "5", "--rounds", "2", "--client-processes", "2", "--out", _dir.Path, "--seed", "4");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

        var n = Assert.Single(JsonDocument.Parse(File.ReadAllText(_dir.Combine("federation.json"))).RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal((5, 2), (n.GetProperty("clients").GetInt32(), n.GetProperty("client_processes").GetInt32()));
        // Each child process reported its own peak, and the coordinator stored every client's update in each round.
        Assert.All(n.GetProperty("client_process_peak_rss_mib").EnumerateArray().ToList(), peak => Assert.True(peak.GetDouble() > 0));
        Assert.Equal(2, n.GetProperty("client_process_peak_rss_mib").GetArrayLength());
        Assert.Equal([5, 5], n.GetProperty("rounds").EnumerateArray().Select(r => r.GetProperty("uploads").GetInt32()));
        Assert.Equal(0, n.GetProperty("refused_uploads").GetInt32());
        Assert.True(n.GetProperty("request_bytes_per_upload").GetDouble() > 0);
        Assert.Contains("2, peak ≤", File.ReadAllText(_dir.Combine("federation.md")));
    }

    [Fact]
    public void Zero_clients_is_bad_input() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "federation", "--clients", "0", "--out", _dir.Path), "--clients", "\"0\"");

    [Theory]
    [InlineData("--tokenizer", "--tokenizer", "x", "--model", "tiny")]
    [InlineData("--examples", "--examples", "8")]
    [InlineData("at least 2", "--examples", "1", "--client-work", "train")]
    [InlineData("no such folder", "--model", "gpt2-small", "--tokenizer", "no-such-tokenizer")]
    [InlineData("--model-dtype", "--model-dtype", "F8")]
    [InlineData("--client-work", "--client-work", "none")]
    [InlineData("--client-processes", "--client-processes", "0")]
    [InlineData("--client-processes", "--client-processes", "2", "--client-work", "train")]
    public void Options_that_do_not_fit_the_model_or_the_client_work_are_bad_input(string mention, params string[] arguments) =>
        BadInputTests.AssertOneLineError(Fedprompt.Run(["bench", "federation", "--out", _dir.Path, .. arguments]), mention);
}
