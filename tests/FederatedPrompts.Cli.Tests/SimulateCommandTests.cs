using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary><c>fedprompt simulate</c> end to end: a coordinator process and clients over mutual TLS on loopback.</summary>
public class SimulateCommandTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    static void Ok(CliRun run) => Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

    [Fact]
    public void In_process_clients_each_train_every_round_and_the_report_counts_them()
    {
        var (large, small, corpus) = TinyModels.Build(_dir, context: 64);
        string output = _dir.Combine("sim");

        var run = Fedprompt.Run("simulate", "--in-process", "--concurrent-work", "2", "--clients", "5", "--rounds", "2", "--partition", "iid",
            "--large", large, "--small", small, "--public-texts", corpus, "--out", output,
            "--local-epochs", "1", "--lr", "0.05", "--random-init", "--validate-every", "50");

        Ok(run);
        // The local-work and transfer options reach the run file the coordinator ran.
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "run.json"))))
        {
            var soft = config.RootElement.GetProperty("soft");
            Assert.Equal((1, 0.05, true), (soft.GetProperty("epochs").GetInt32(), soft.GetProperty("learning_rate").GetDouble(), soft.GetProperty("random_init").GetBoolean()));
            Assert.Equal(JsonValueKind.Null, soft.GetProperty("init_text").ValueKind);
            Assert.Equal(50, config.RootElement.GetProperty("transfer").GetProperty("validate_every").GetInt32());
            Assert.Equal("fedavg", soft.GetProperty("strategy").GetString());   // the soft default
        }
        Assert.Contains("starting 5 clients in this process", run.Stdout);
        Assert.Contains(Path.Combine(output, "report.md"), run.Stdout.Replace("\n", ""));
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        Assert.Equal("finished", report.RootElement.GetProperty("state").GetString());
        var rounds = report.RootElement.GetProperty("rounds").EnumerateArray().ToList();
        Assert.Equal(2, rounds.Count);
        Assert.All(rounds, r => Assert.Equal(5, r.GetProperty("modes").GetProperty("soft").GetProperty("uploads").GetInt32()));
        for (int i = 1; i <= 5; i++)   // each hosted client wrote its own log, ending with what it trained
            Assert.Contains($"client-{i} trained in rounds [1, 2]", File.ReadAllText(Path.Combine(output, "logs", $"client-{i}.log")));
    }

    /// <summary>
    /// FedDTPT against the sentence encoder: the client searches through the coordinator's inference service, which answers
    /// with MiniLM, and the coordinator evaluates the round's prompt with it. One client and one round keep it to one search
    /// (about 720 queries); the task is as small as the coordinator's 8 public examples per label allow.
    /// </summary>
    [Fact]
    public void A_discrete_run_with_the_sentence_encoder_as_black_box_runs_end_to_end()
    {
        var (large, small, corpus) = TinyModels.Build(_dir, context: 64);
        string task = _dir.Write("task.jsonl", string.Join("\n", Enumerable.Range(0, 400).Select(i => JsonSerializer.Serialize(i % 2 == 0
            ? new { text = $"a wonderful film, number {i}", label = "positive" }
            : new { text = $"a dull and boring film, number {i}", label = "negative" }))));
        string output = _dir.Combine("sim");

        var run = Fedprompt.Run("simulate", "--mode", "discrete", "--black-box", "minilm", "--in-process", "--clients", "1", "--rounds", "1",
            "--partition", "iid", "--task", task, "--template", "{text} It was", "--verbalizer", "positive=great;negative=terrible",
            "--large", large, "--small", small, "--public-texts", corpus, "--out", output);

        Ok(run);
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "run.json"))))
        {
            Assert.Equal("minilm", config.RootElement.GetProperty("discrete").GetProperty("black_box").GetString());
            // No preset: the template's closing and each label's word.
            var descriptions = config.RootElement.GetProperty("label_descriptions");
            Assert.Equal(("It was great.", "It was terrible."), (descriptions.GetProperty("positive").GetString(), descriptions.GetProperty("negative").GetString()));
        }
        Assert.Contains("references: zero-shot and the manual prompt on the black box (all-MiniLM-L6-v2", run.Stdout.Replace("\n", ""));
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        Assert.Equal("finished", report.RootElement.GetProperty("state").GetString());
        var round = Assert.Single(report.RootElement.GetProperty("rounds").EnumerateArray()).GetProperty("modes").GetProperty("discrete");
        Assert.Equal(1, round.GetProperty("uploads").GetInt32());
        Assert.InRange(round.GetProperty("accuracy").GetDouble(), 0, 1);
        var blackBox = report.RootElement.GetProperty("references").GetProperty("black_box");
        Assert.Equal("minilm", blackBox.GetProperty("name").GetString());
        Assert.InRange(blackBox.GetProperty("zero_shot").GetDouble(), 0.75, 1);   // the encoder tells "wonderful" from "dull and boring" without a prompt
    }

    [Fact]
    public void The_sentence_encoder_is_refused_for_a_soft_run_before_anything_is_built()
    {
        var run = Fedprompt.Run("simulate", "--black-box", "minilm", "--out", _dir.Combine("sim"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--black-box minilm answers discrete prompts' queries: use it with --mode discrete or hybrid", run.Stderr);
    }
}
