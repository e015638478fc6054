using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary>
/// A tiny teacher pretrained through the CLI on a two-sentiment corpus, and a student distilled from it: seconds of
/// work, enough for tests that need real model folders but not a useful model.
/// </summary>
public static class TinyModels
{
    public static (string Teacher, string Student, string Corpus) Build(TempFolder dir, int context, int pretrainSteps = 2, int distillSteps = 1)
    {
        string corpus = dir.Write("corpus.txt", string.Join("\n\n", Enumerable.Range(0, 30).Select(i =>
            i % 2 == 0 ? $"note {i}: the day was lovely. It was great." : $"note {i}: the day was dull. It was terrible.")));
        string teacher = dir.Combine("teacher"), student = dir.Combine("student");
        Ok(Fedprompt.Run("pretrain", "--corpus", corpus, "--out", teacher, "--layers", "2", "--hidden", "16", "--heads", "2",
            "--context", $"{context}", "--vocab-size", "300", "--steps", $"{pretrainSteps}", "--eval-every", $"{pretrainSteps}",
            "--checkpoint-every", $"{pretrainSteps}", "--held-out", "0.3"));
        Ok(Fedprompt.Run("distill", "--teacher", teacher, "--corpus", corpus, "--out", student, "--steps", $"{distillSteps}", "--context", $"{context}",
            "--eval-every", $"{distillSteps}", "--checkpoint-every", $"{distillSteps}", "--held-out", "0.3"));
        return (teacher, student, corpus);
    }

    static void Ok(CliRun run) => Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

    /// <summary>
    /// Tiny models (context 48), certificates for client-1 and client-2 in dir/certs, and a writer of soft run files over
    /// them: (name, soft section, round timeout in seconds) → the file's path.
    /// </summary>
    public static (Func<string, object, double, string> WriteConfig, string Certs) SoftRun(TempFolder dir)
    {
        var (large, small, corpus) = Build(dir, context: 48);
        string certs = dir.Combine("certs");
        Assert.Equal(0, Fedprompt.Run("certs", "--out", certs, "--clients", "2").ExitCode);
        string eval = dir.Write("eval.jsonl", "{\"text\": \"a lovely day\", \"label\": \"positive\"}\n{\"text\": \"a dull day\", \"label\": \"negative\"}\n");
        return ((name, soft, timeout) => dir.Write($"{name}.json", JsonSerializer.Serialize(new
        {
            name, mode = "soft", round_timeout_seconds = timeout, clients = new[] { "client-1", "client-2" }, small_model = small, large_model = large,
            preset = "synthetic-sentiment", eval_task = eval, public_texts = corpus, soft,
        })), certs);
    }
}
