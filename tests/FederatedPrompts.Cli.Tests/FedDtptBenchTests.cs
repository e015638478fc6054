using System.Text.Json;

namespace FederatedPrompts.Cli.Tests;

/// <summary>`fedprompt bench feddtpt` on tiny generated models and a generated sst2-shaped task: the JSON is complete and consistent; bad settings are refused.</summary>
public class FedDtptBenchTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    static void Ok(CliRun run) => Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

    /// <summary>A tiny teacher, its distilled student, and task folders data/sst2 and data/synthetic-sentiment with train.jsonl and test.jsonl.</summary>
    (string Teacher, string Student, string Data) Setup()
    {
        string corpus = _dir.Write("corpus.txt", string.Join("\n\n", Enumerable.Range(0, 30).Select(i =>
            i % 2 == 0 ? $"review {i}: is this movie great? It was great." : $"review {i}: is this movie terrible? It was terrible.")));
        string Rows(int n, int offset) => string.Join("\n", Enumerable.Range(offset, n).Select(i => JsonSerializer.Serialize(
            new { text = i % 2 == 0 ? $"lovely film {i}" : $"dull film {i}", label = i % 2 == 0 ? "positive" : "negative" })));
        foreach (var task in Tasks)
        {
            Directory.CreateDirectory(_dir.Combine("data", task));
            _dir.Write(Path.Combine("data", task, "train.jsonl"), Rows(16, 0));
            _dir.Write(Path.Combine("data", task, "test.jsonl"), Rows(4, 100));
        }
        string teacher = _dir.Combine("teacher"), student = _dir.Combine("student");
        Ok(Fedprompt.Run("pretrain", "--corpus", corpus, "--out", teacher, "--layers", "2", "--hidden", "16", "--heads", "2",
            "--context", "96", "--vocab-size", "300", "--steps", "2", "--eval-every", "2", "--checkpoint-every", "2", "--held-out", "0.3"));
        Ok(Fedprompt.Run("distill", "--teacher", teacher, "--corpus", corpus, "--out", student, "--steps", "2", "--context", "32",
            "--eval-every", "2", "--checkpoint-every", "2", "--held-out", "0.3"));
        return (teacher, student, _dir.Combine("data"));
    }

    /// <summary>Two tasks, so that each task's federations get folders of their own.</summary>
    static readonly string[] Tasks = ["sst2", "synthetic-sentiment"];

    [Fact]
    public void Tiny_federations_write_consistent_results()
    {
        var (teacher, student, data) = Setup();
        string output = _dir.Combine("results");
        Ok(Fedprompt.Run("bench", "feddtpt", "--tasks", string.Join(",", Tasks), "--data", data, "--teacher", teacher, "--student", student,
            "--clients", "2", "--rounds", "1", "--train-limit", "8", "--test-limit", "4", "--public-per-label", "1",
            "--iterations", "1", "--positions", "1", "--candidates", "2", "--local-batch", "2", "--out", output));
        foreach (var file in new[] { "feddtpt.json", "feddtpt.md", "feddtpt.png" }) Assert.True(File.Exists(Path.Combine(output, file)), file);

        var tasks = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "feddtpt.json"))).RootElement.GetProperty("tasks").EnumerateArray().ToList();
        Assert.Equal(Tasks, tasks.Select(t => t.GetProperty("task").GetString()));
        foreach (var task in tasks) AssertConsistent(task);
        // The language models as black box: issue #11's goals, and no target on the feedback ablation.
        string report = File.ReadAllText(Path.Combine(output, "feddtpt.md"));
        Assert.Contains("| target (issue #11, non-IID", report);
        Assert.Contains("| FedDTPT − manual prompt | ≥ +10.0 points |", report);
        Assert.DoesNotContain("| FedDTPT − client without feedback |", report);
    }

    [Fact]
    public void The_sentence_encoder_as_black_box_is_held_to_its_own_goals()
    {
        var (teacher, student, data) = Setup();
        string output = _dir.Combine("results-minilm");
        Ok(Fedprompt.Run("bench", "feddtpt", "--black-box", "minilm", "--tasks", "sst2", "--data", data, "--teacher", teacher, "--student", student,
            "--clients", "2", "--rounds", "1", "--train-limit", "8", "--test-limit", "4", "--public-per-label", "1", "--strategies", "feddtpt,fedavg",
            "--iterations", "1", "--positions", "1", "--candidates", "2", "--local-batch", "2", "--out", output));

        var task = Assert.Single(JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "feddtpt.json"))).RootElement.GetProperty("tasks").EnumerateArray());
        var targets = task.GetProperty("non_iid_targets");
        var fedDtpt = task.GetProperty("partitions")[0].GetProperty("federations").EnumerateArray().ToList();
        double Accuracy(string method) => fedDtpt.Single(f => f.GetProperty("method").GetString() == method).GetProperty("accuracy").GetDouble();
        Assert.Equal(Accuracy("FedDTPT") - Accuracy("client without feedback"), targets.GetProperty("fed_dtpt_minus_no_feedback").GetDouble(), 12);

        string report = File.ReadAllText(Path.Combine(output, "feddtpt.md"));
        Assert.Contains("| target (issue #17, non-IID", report);
        Assert.Contains("| FedDTPT − manual prompt | ≥ +5.0 points |", report);
        Assert.Contains("| FedDTPT − server FedAvg | ≥ +3.0 points |", report);
        Assert.Contains("| FedDTPT − client without feedback | > 0 points |", report);
    }

    static void AssertConsistent(JsonElement task)
    {
        Assert.Equal(8, task.GetProperty("train_examples").GetInt32());
        Assert.Equal(2, task.GetProperty("public_examples").GetInt32());   // one per label, outside the clients' data
        AssertAccuracy(task.GetProperty("manual_accuracy"));
        AssertAccuracy(task.GetProperty("zero_shot_accuracy"));
        var partitions = task.GetProperty("partitions").EnumerateArray().ToList();
        Assert.Equal(["Dirichlet α=0.1", "IID"], partitions.Select(p => p.GetProperty("partition").GetString()));
        foreach (var partition in partitions)
        {
            Assert.Equal(8, partition.GetProperty("label_counts").EnumerateArray().Sum(client => client.EnumerateArray().Sum(c => c.GetInt32())));
            var federations = partition.GetProperty("federations").EnumerateArray().ToList();
            Assert.Equal(["FedDTPT", "server FedAvg (embedding mean)", "server without clustering (attention top-L)", "server fixed k (k-means)", "client without feedback"],
                federations.Select(f => f.GetProperty("method").GetString()));
            foreach (var federation in federations)
            {
                var round = Assert.Single(federation.GetProperty("rounds").EnumerateArray());
                AssertAccuracy(round.GetProperty("test_accuracy"));
                Assert.True(round.GetProperty("mean_queries").GetDouble() > 0);
                Assert.True(round.GetProperty("mean_tokens_sent").GetDouble() > round.GetProperty("mean_queries").GetDouble());
                double bytes = round.GetProperty("mean_upload_bytes").GetDouble(), raw = round.GetProperty("mean_raw_bytes").GetDouble();
                Assert.True(raw > 0 && bytes > raw, $"upload {bytes} B, raw ids {raw} B");
                Assert.InRange(round.GetProperty("max_upload_bytes").GetInt32(), (int)Math.Ceiling(bytes), 1023);
                Assert.NotEmpty(round.GetProperty("global_token_ids").EnumerateArray());
                // Through the client loop: the upload's size on the wire, and the search's statistics the client kept.
                Assert.True(round.GetProperty("mean_request_bytes").GetDouble() > 0);
                Assert.True(round.GetProperty("candidates_evaluated").GetInt32() > 0);
            }
        }
        var transfers = task.GetProperty("transfers").EnumerateArray().ToList();
        Assert.Equal([("teacher", "student"), ("student", "teacher")],
            transfers.Select(t => (t.GetProperty("searched_on").GetString(), t.GetProperty("evaluated_on").GetString())));
        foreach (var t in transfers) { AssertAccuracy(t.GetProperty("source_accuracy")); AssertAccuracy(t.GetProperty("target_accuracy")); }
        Assert.InRange(task.GetProperty("non_iid_targets").GetProperty("max_upload_bytes").GetInt32(), 1, 1023);
    }

    static void AssertAccuracy(JsonElement value) => Assert.InRange(value.GetDouble(), 0, 1);

    [Fact]
    public void Unknown_strategy_is_refused() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "feddtpt", "--strategies", "feddtpt,median", "--out", _dir.Path), "--strategies", "median");

    [Fact]
    public void Fewer_than_one_client_is_refused() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "feddtpt", "--clients", "0", "--out", _dir.Path), "--clients");

    [Fact]
    public void Task_without_a_manual_prompt_is_refused() =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("bench", "feddtpt", "--tasks", "agnews", "--out", _dir.Path), "agnews");
}
