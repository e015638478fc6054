using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary><c>fedprompt bench inference</c> on the tiny setting: a real coordinator's inference service over mutual TLS, served both ways.</summary>
public class BenchInferenceTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Three_clients_are_measured_one_request_at_a_time_and_batched()
    {
        var run = Fedprompt.Run("bench", "inference", "--clients", "1,3", "--requests", "2", "--texts", "3", "--out", _dir.Path, "--seed", "5");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        foreach (var ext in new[] { "json", "md", "png" }) Assert.True(File.Exists(_dir.Combine($"inference.{ext}")), ext);
        var root = JsonDocument.Parse(File.ReadAllText(_dir.Combine("inference.json"))).RootElement;
        var results = root.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([(1, "one request at a time"), (1, "batched"), (3, "one request at a time"), (3, "batched")],
            results.Select(r => (r.GetProperty("clients").GetInt32(), r.GetProperty("serving").GetString()!)));
        foreach (var r in results)
        {
            int clients = r.GetProperty("clients").GetInt32();
            Assert.Equal((clients * 2, clients * 2 * 3), (r.GetProperty("requests").GetInt32(), r.GetProperty("queries").GetInt32()));
            Assert.True(r.GetProperty("queries_per_second").GetDouble() > 0);
            Assert.InRange(r.GetProperty("p50_milliseconds").GetDouble(), 0, r.GetProperty("p99_milliseconds").GetDouble());
        }
    }

    [Fact]
    public void A_teacher_without_its_student_is_bad_input() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "inference", "--teacher", _dir.Path, "--out", _dir.Path), "--teacher and --student together");
}
