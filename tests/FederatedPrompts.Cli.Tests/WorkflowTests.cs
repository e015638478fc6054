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
        string model = SharedData.Under("models", "tiny-random-gpt2"), dev = SharedData.Under("tasks", "sst2", "dev.jsonl");
        // The folder's preset is sst2's, whose words this 1,000-token vocabulary splits, every one of them: refused, naming the class.
        var preset = Fedprompt.Run("eval", "--model", model, "--task", dev, "--limit", "40");
        Assert.Equal(2, preset.ExitCode);
        Assert.StartsWith("error: label \"negative\" has no label word that is one token of this tokenizer (\" terrible\" is [", preset.Stderr.Trim());

        // With words it has whole (" a" and " the" are single tokens there), the folder preset still gives the template and labels.
        var run = Fedprompt.Run("eval", "--model", model, "--task", dev, "--limit", "40", "--verbalizer", "positive=a;negative=the", "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var result = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(["negative", "positive"], result.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        var confusion = result.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        Assert.Equal(40, confusion.Sum(r => r.Sum()));
        Assert.Equal((confusion[0][0] + confusion[1][1]) / 40.0, result.GetProperty("accuracy").GetDouble(), 12);
        // Macro accuracy: the mean of the two classes' recalls (both occur in 40 dev examples).
        double Recall(int c) => (double)confusion[c][c] / confusion[c].Sum();
        Assert.Equal((Recall(0) + Recall(1)) / 2, result.GetProperty("macro_accuracy").GetDouble(), 12);
    }
}
