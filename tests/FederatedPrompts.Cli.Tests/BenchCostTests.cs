using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary>
/// The cost parts of the benchmarks on tiny settings: <c>bench pretrain</c>'s step cost against a minimal loop and
/// <c>bench post-cost</c>'s stage table; the JSON holds what the markdown reports, and bad settings are refused.
/// </summary>
public class BenchCostTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    static void Ok(CliRun run) => Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

    string Corpus() => _dir.Write("corpus.txt", string.Join("\n\n", Enumerable.Range(0, 30).Select(i =>
        i % 2 == 0 ? $"review {i}: is this movie great? It was great." : $"review {i}: is this movie terrible? It was terrible.")));

    [Fact]
    public void Pretrain_bench_reports_the_step_cost_of_alternating_rounds()
    {
        string output = _dir.Combine("results");
        Ok(Fedprompt.Run("bench", "pretrain", "--corpus", Corpus(), "--model-out", _dir.Combine("teacher"), "--out", output,
            "--layers", "1", "--hidden", "16", "--heads", "2", "--context", "16", "--vocab-size", "300", "--steps", "2", "--eval-every", "3",
            "--cost-rounds", "3", "--cost-steps", "2", "--cost-warmup", "1"));
        foreach (var ext in new[] { "json", "md", "png" }) Assert.True(File.Exists(Path.Combine(output, $"pretrain.{ext}")), ext);

        var cost = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "pretrain.json"))).RootElement.GetProperty("step_cost");
        Assert.Equal(3, cost.GetProperty("rounds").GetInt32());
        Assert.Equal(2, cost.GetProperty("steps_per_round").GetInt32());
        var product = cost.GetProperty("pretrainer_round_ms").EnumerateArray().Select(e => e.GetDouble()).ToList();
        var minimal = cost.GetProperty("minimal_round_ms").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal(3, product.Count);
        Assert.Equal(3, minimal.Count);
        Assert.All(product.Concat(minimal), ms => Assert.True(ms > 0));
        Assert.Equal(product.Sum() / 6, cost.GetProperty("pretrainer_ms_per_step").GetDouble(), 9);
        Assert.Equal(minimal.Sum() / 6, cost.GetProperty("minimal_ms_per_step").GetDouble(), 9);
        Assert.Equal(product.Sum() / minimal.Sum(), cost.GetProperty("ratio").GetDouble(), 9);
        Assert.Equal(cost.GetProperty("ratio").GetDouble() <= 1.15, cost.GetProperty("target_met").GetBoolean());
        Assert.Contains("minimal loop", File.ReadAllText(Path.Combine(output, "pretrain.md")));
    }

    [Fact]
    public void Post_cost_bench_writes_the_stage_table_and_its_ratios()
    {
        string teacher = _dir.Combine("teacher");
        Ok(Fedprompt.Run("pretrain", "--corpus", Corpus(), "--out", teacher, "--layers", "1", "--hidden", "16", "--heads", "2",
            "--context", "32", "--vocab-size", "300", "--steps", "1", "--eval-every", "1", "--checkpoint-every", "1", "--held-out", "0.3"));
        string task = _dir.Write("task.jsonl", string.Join("\n", Enumerable.Range(0, 12).Select(i => JsonSerializer.Serialize(
            new { text = i % 2 == 0 ? $"lovely film {i}" : $"dull film {i}", label = i % 2 == 0 ? "positive" : "negative" }))));
        string output = _dir.Combine("results");
        Ok(Fedprompt.Run("bench", "post-cost", "--tokenizer", teacher, "--task", task, "--layers", "3", "--hidden", "16", "--heads", "2",
            "--context", "32", "--student-layers", "0", "--prompt-length", "4", "--batch-size", "2", "--steps", "2",
            "--examples", "10", "--epochs", "3", "--public", "4", "--transfer-steps", "5", "--out", output));
        foreach (var ext in new[] { "json", "md", "png" }) Assert.True(File.Exists(Path.Combine(output, $"post-cost.{ext}")), ext);

        var root = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "post-cost.json"))).RootElement;
        Assert.Equal(3, root.GetProperty("teacher").GetProperty("layers").GetInt32());
        Assert.Equal(1, root.GetProperty("student").GetProperty("layers").GetInt32());
        var stages = root.GetProperty("stages").EnumerateArray().ToList();
        // Units: epochs × examples of tuning, public texts of the fixed passes, steps × batch of the transfer.
        Assert.Equal([30L, 4L, 10L, 30L], stages.Select(s => s.GetProperty("units").GetInt64()));
        Assert.Equal([true, true, true, false], stages.Select(s => s.GetProperty("post").GetBoolean()));
        Assert.All(stages, s => Assert.True(s.GetProperty("flops_per_unit").GetDouble() > 0 && s.GetProperty("seconds_per_unit").GetDouble() >= 0));
        Assert.Equal(2, stages[0].GetProperty("step_seconds").GetArrayLength());   // the untimed first step is left out

        double Total(string field, bool post) => stages.Where(s => s.GetProperty("post").GetBoolean() == post).Sum(s => s.GetProperty(field).GetDouble());
        Assert.Equal(Total("total_flops", true) / Total("total_flops", false), root.GetProperty("ratio_flops").GetDouble(), 9);
        Assert.Equal(Total("total_seconds", true) / Total("total_seconds", false), root.GetProperty("ratio_seconds").GetDouble(), 9);
        // The 1-layer student's tuning costs less than the 3-layer teacher's per example, in FLOPs.
        Assert.InRange(root.GetProperty("student_floor").GetDouble(), 0.2, 0.6);
        Assert.Contains("POST / full PT, FLOPs", File.ReadAllText(Path.Combine(output, "post-cost.md")));
    }

    [Fact]
    public void Zero_cost_rounds_are_refused() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "pretrain", "--cost-rounds", "0", "--out", _dir.Path), "--cost-rounds");

    [Fact]
    public void Zero_timed_steps_are_refused() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "post-cost", "--steps", "0", "--out", _dir.Path), "--steps");

    [Fact]
    public void A_prompt_longer_than_the_context_is_refused() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "post-cost", "--prompt-length", "200", "--out", _dir.Path), "--prompt-length", "--context");
}
