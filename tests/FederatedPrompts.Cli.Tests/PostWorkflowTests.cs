using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary>POST through the CLI on tiny models: pretrain → distill → tune (DP) → transfer → eval, and its bad inputs.</summary>
public class PostWorkflowTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    static void Ok(CliRun run) => Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

    static void BadInput(CliRun run, string mention)
    {
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        Assert.Contains(mention, line);
    }

    (string Teacher, string Student, string Train, string Test, string Corpus) Setup()
    {
        var (teacher, student, corpus) = TinyModels.Build(_dir, context: 32, pretrainSteps: 4, distillSteps: 2);
        string train = _dir.Write("train.jsonl", string.Join("\n", Enumerable.Range(0, 12).Select(i =>
            JsonSerializer.Serialize(new { text = i % 2 == 0 ? $"lovely day {i}" : $"dull day {i}", label = i % 2 == 0 ? "positive" : "negative" }))));
        string test = _dir.Write("test.jsonl", "{\"text\":\"a lovely day\",\"label\":\"positive\"}\n{\"text\":\"a dull day\",\"label\":\"negative\"}\n");
        return (teacher, student, train, test, corpus);
    }

    [Fact]
    public void Dp_tuned_prompt_transfers_to_the_teacher_and_evaluates()
    {
        var (teacher, student, train, test, corpus) = Setup();
        string[] sentiment = ["--template", "{text} It was", "--verbalizer", "positive=great;negative=terrible"];
        string ps = _dir.Combine("ps.json"), pt = _dir.Combine("pt.json");

        var tune = Fedprompt.Run(["tune", "--model", student, "--task", train, .. sentiment, "--out", ps, "--length", "3",
            "--epochs", "1", "--batch-size", "4", "--clip", "1", "--epsilon", "8", "--json"]);
        Ok(tune);
        var dp = JsonDocument.Parse(tune.Stdout).RootElement.GetProperty("dp");
        Assert.Equal(3, dp.GetProperty("steps").GetInt32());                     // 1 epoch / q, q = 4/12
        Assert.InRange(dp.GetProperty("epsilon").GetDouble(), 7.99, 8.0);         // σ calibrated so that ε ≤ 8, within 0.01
        Assert.Equal(1.0 / 12, dp.GetProperty("delta").GetDouble(), 12);          // δ defaults to 1/N

        var transfer = Fedprompt.Run(["transfer", "--large", teacher, "--small", student, "--prompt", ps, "--public", corpus,
            "--alpha-task", test, .. sentiment, "--steps", "3", "--out", pt, "--json"]);
        Ok(transfer);
        var alpha = JsonDocument.Parse(transfer.Stdout).RootElement.GetProperty("alpha").GetDouble();
        Assert.InRange(alpha, 0, 1);

        var eval = Fedprompt.Run(["eval", "--model", teacher, "--task", test, .. sentiment, "--soft-prompt", pt, "--json"]);
        Ok(eval);
        Assert.Equal(2, JsonDocument.Parse(eval.Stdout).RootElement.GetProperty("count").GetInt32());
        Assert.DoesNotContain("warning", eval.Stderr);   // the transferred prompt is the teacher's own

        var direct = Fedprompt.Run(["eval", "--model", teacher, "--task", test, .. sentiment, "--soft-prompt", ps, "--json"]);
        Ok(direct);   // the student's prompt on the teacher is allowed (direct use), but said
        Assert.Contains($"warning: {ps} was tuned for model", direct.Stderr);
    }

    [Fact]
    public void Bad_privacy_settings_single_class_tasks_and_mismatched_prompts_are_rejected()
    {
        var (teacher, student, train, test, _) = Setup();
        string[] sentiment = ["--template", "{text} It was", "--verbalizer", "positive=great;negative=terrible"];
        string ps = _dir.Combine("ps.json");
        BadInput(Fedprompt.Run(["tune", "--model", student, "--task", train, .. sentiment, "--out", ps, "--clip", "1", "--epsilon", "0"]), "epsilon");
        BadInput(Fedprompt.Run(["tune", "--model", student, "--task", train, .. sentiment, "--out", ps, "--clip", "1", "--epsilon", "8", "--delta", "1"]), "--delta");
        string oneClass = _dir.Write("one.jsonl", "{\"text\":\"a\",\"label\":\"positive\"}\n{\"text\":\"b\",\"label\":\"positive\"}\n");
        BadInput(Fedprompt.Run(["tune", "--model", student, "--task", oneClass, .. sentiment, "--out", ps]), "one.jsonl");

        string wide = _dir.Combine("wide.json");
        new Core.Prompts.SoftPrompt([0.1f, 0.2f, 0.3f], length: 1, hiddenSize: 3, modelIdentity: "another model").Save(wide);
        BadInput(Fedprompt.Run(["eval", "--model", teacher, "--task", test, .. sentiment, "--soft-prompt", wide]), "3");
    }
}
