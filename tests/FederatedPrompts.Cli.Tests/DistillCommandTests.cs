using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary>pretrain a tiny teacher → distill → reload, and bad layer lists, through the CLI.</summary>
public class DistillCommandTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    string PretrainTeacher(string corpus)
    {
        string teacher = _dir.Combine("teacher");
        var run = Fedprompt.Run("pretrain", "--corpus", corpus, "--out", teacher, "--steps", "5", "--layers", "2", "--hidden", "16",
            "--heads", "2", "--context", "16", "--vocab-size", "300");
        Assert.True(run.ExitCode == 0, run.Stderr);
        return teacher;
    }

    string Corpus() => _dir.Write("small.txt", string.Join("\n\n", Enumerable.Range(0, 30).Select(i =>
        i % 2 == 0 ? $"review {i}: the film was lovely. It was great." : $"review {i}: the film was dull. It was terrible.")));

    [Fact]
    public void Distill_writes_a_student_folder_and_resumes()
    {
        string corpus = Corpus(), teacher = PretrainTeacher(corpus), student = _dir.Combine("student");
        string[] common = ["distill", "--teacher", teacher, "--corpus", corpus, "--out", student, "--layers", "-1", "--context", "16",
                           "--batch-size", "4", "--eval-every", "2", "--checkpoint-every", "2", "--freeze-head"];
        var first = Fedprompt.Run([.. common, "--steps", "2"]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var second = Fedprompt.Run([.. common, "--steps", "4", "--resume"]);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("resuming from the checkpoint of step 2", second.Stdout);

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(student, "distill_report.json")));
        Assert.Equal([1], report.RootElement.GetProperty("TeacherLayers").EnumerateArray().Select(l => l.GetInt32()));
        var state = report.RootElement.GetProperty("State");
        Assert.Equal([0, 2, 4], state.GetProperty("HeldOutCurve").EnumerateArray().Select(p => p.GetProperty("Step").GetInt32()));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(student, "config.json")));
        Assert.Equal(1, config.RootElement.GetProperty("n_layer").GetInt32());
        Assert.True(File.Exists(Path.Combine(student, "fedprompt-tokenizer.json")));

        var score = Fedprompt.Run("lm", "score", "--model", student, "--text", "the film was lovely.", "--json");
        Assert.True(score.ExitCode == 0, score.Stderr);
    }

    [Theory]
    [InlineData("0,2", "out of range")]
    [InlineData("1,1", "chosen twice")]
    public void Bad_layer_lists_end_with_one_error_line(string layers, string reason)
    {
        string corpus = Corpus(), teacher = PretrainTeacher(corpus);
        var run = Fedprompt.Run("distill", "--teacher", teacher, "--corpus", corpus, "--out", _dir.Combine("student"), "--layers", layers);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        var line = Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        Assert.Contains(reason, line);
    }
}
