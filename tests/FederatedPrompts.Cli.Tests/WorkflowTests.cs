using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary>pretrain → resume → eval through the CLI, on small settings.</summary>
public class WorkflowTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Pretrain_resumes_from_its_checkpoint_and_the_result_evaluates()
    {
        string corpus = _dir.Write("corpus.txt", string.Join("\n\n", Enumerable.Range(0, 30).Select(i =>
            i % 2 == 0 ? $"review {i}: the film was lovely. It was great." : $"review {i}: the film was dull. It was terrible.")));
        string model = _dir.Combine("teacher");
        string[] common = ["pretrain", "--corpus", corpus, "--out", model, "--layers", "1", "--hidden", "16", "--heads", "2",
                           "--context", "16", "--vocab-size", "300", "--eval-every", "3", "--checkpoint-every", "3"];

        var first = Fedprompt.Run([.. common, "--steps", "6"]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var second = Fedprompt.Run([.. common, "--steps", "9", "--resume"]);
        Assert.True(second.ExitCode == 0, second.Stderr);

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "pretrain_report.json")));
        var state = report.RootElement.GetProperty("State");
        Assert.Equal(9, state.GetProperty("Step").GetInt32());
        Assert.Equal([0, 3, 6, 9], state.GetProperty("HeldOutCurve").EnumerateArray().Select(p => p.GetProperty("Step").GetInt32()));
        Assert.True(File.Exists(Path.Combine(model, "config.json")) && File.Exists(Path.Combine(model, "fedprompt-tokenizer.json")));

        string task = _dir.Write("task.jsonl", "{\"text\":\"the film was lovely.\",\"label\":\"positive\"}\n{\"text\":\"the film was dull.\",\"label\":\"negative\"}\n");
        var eval = Fedprompt.Run("eval", "--model", model, "--task", task, "--template", "{text} It was",
            "--verbalizer", "positive=great;negative=terrible", "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        var result = JsonDocument.Parse(eval.Stdout).RootElement;
        Assert.Equal(2, result.GetProperty("count").GetInt32());
        Assert.Equal(2, result.GetProperty("confusion").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(c => c.GetInt32()));
    }

    [SharedDataFact]
    public void Eval_on_real_sst2_uses_the_folder_preset_and_reports_a_consistent_confusion_matrix()
    {
        var run = Fedprompt.Run("eval", "--model", SharedData.Under("models", "tiny-random-gpt2"),
            "--task", SharedData.Under("tasks", "sst2", "dev.jsonl"), "--limit", "40", "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var result = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(["negative", "positive"], result.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        var confusion = result.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        Assert.Equal(40, confusion.Sum(r => r.Sum()));
        Assert.Equal((confusion[0][0] + confusion[1][1]) / 40.0, result.GetProperty("accuracy").GetDouble(), 12);
    }
}
