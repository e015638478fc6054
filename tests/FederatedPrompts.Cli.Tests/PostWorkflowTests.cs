using System.Text.Json;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using static TorchSharp.torch;

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
    public void Post_bench_transfers_with_texts_of_a_public_corpus_and_reports_the_validated_and_the_last_prompt()
    {
        var (teacher, student, _, _, corpus) = Setup();
        string sst2 = Path.Combine(_dir.Combine("tasks"), "sst2");
        Directory.CreateDirectory(sst2);
        void Split(string name, int count, int first) => File.WriteAllLines(Path.Combine(sst2, name), Enumerable.Range(first, count).Select(i =>
            JsonSerializer.Serialize(new { text = i % 2 == 0 ? $"the day {i} was lovely" : $"the day {i} was dull", label = i % 2 == 0 ? "positive" : "negative" })));
        Split("train.jsonl", 12, 0);
        Split("test.jsonl", 8, 100);
        Split("dev.jsonl", 6, 200);
        string[] Bench(string publicTexts) => ["bench", "post", "--tasks", "sst2", "--data", _dir.Combine("tasks"), "--teacher", teacher, "--student", student,
            "--public-corpus", corpus, "--public-texts", publicTexts, "--train-limit", "12", "--test-limit", "8", "--public-limit", "6",
            "--prompt-length", "2", "--epochs", "1", "--transfer-steps", "4", "--validate-every", "2", "--init-text", "the day",
            "--work", _dir.Combine("work"), "--out", _dir.Combine("results")];
        Ok(Fedprompt.Run(Bench("7")));

        var task = JsonDocument.Parse(File.ReadAllText(_dir.Combine("results", "post.json"))).RootElement.GetProperty("tasks")[0];
        Assert.Equal(7, task.GetProperty("transfer_texts").GetInt32());
        Assert.Contains(corpus, task.GetProperty("transfer_texts_source").GetString());
        // The transfer read 7 documents of the corpus, not the labeled split's texts.
        var documents = File.ReadAllText(corpus).Split("\n\n");
        var read = File.ReadAllLines(_dir.Combine("work", "sst2-public-corpus.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()).ToList();
        Assert.Equal(7, read.Count);
        Assert.All(read, text => Assert.Contains(text, documents));
        foreach (var variant in new[] { "no_dp", "with_dp" })
        {
            var v = task.GetProperty(variant);
            Assert.Contains(v.GetProperty("post_step").GetInt32(), new[] { 0, 2, 4 });
            Assert.InRange(v.GetProperty("post_last").GetProperty("accuracy").GetDouble(), 0, 1);
        }
        string markdown = File.ReadAllText(_dir.Combine("results", "post.md"));
        Assert.Contains("(4′) POST, the transfer's last step (4)", markdown);
        Assert.Contains("DP: ε = 8, δ = 1/N, clip 1,", markdown);   // the run's settings, not a placeholder

        BadInput(Fedprompt.Run(Bench("0")), "--public-texts must be positive");
        BadInput(Fedprompt.Run(Bench("31")), "fewer than the 31");
    }

    [Fact]
    public void Dp_tuned_prompt_transfers_to_the_teacher_and_evaluates()
    {
        var (teacher, student, train, test, corpus) = Setup();
        string[] sentiment = ["--template", "{text} It was", "--verbalizer", "positive=great;negative=terrible"];
        string ps = _dir.Combine("ps.json"), pt = _dir.Combine("pt.json");

        var tune = Fedprompt.Run(["tune", "--model", student, "--task", train, .. sentiment, "--out", ps, "--prompt-length", "3",
            "--epochs", "1", "--batch-size", "4", "--clip", "1", "--epsilon", "8", "--json"]);
        Ok(tune);
        var dp = JsonDocument.Parse(tune.Stdout).RootElement.GetProperty("dp");
        Assert.Equal(3, dp.GetProperty("steps").GetInt32());                     // 1 epoch / q, q = 4/12
        Assert.InRange(dp.GetProperty("epsilon").GetDouble(), 7.99, 8.0);         // σ calibrated so that ε ≤ 8, within 0.01
        Assert.Equal(1.0 / 12, dp.GetProperty("delta").GetDouble(), 12);          // δ defaults to 1/N
        var tuned = JsonDocument.Parse(tune.Stdout).RootElement;
        Assert.Equal("sgd", tuned.GetProperty("optimizer").GetString());         // the official DP path
        Assert.Equal(1.0, tuned.GetProperty("learning_rate").GetDouble());

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

    [Fact]
    public void Tune_starts_from_the_preset_init_text_unless_random_init_is_asked_for()
    {
        var (_, student, train, _, _) = Setup();
        string textStart = _dir.Combine("text.json"), randomStart = _dir.Combine("random.json");
        // Learning rate 0: the written prompt is the initial one.
        string[] common = ["tune", "--model", student, "--task", train, "--preset", "synthetic-sentiment", "--prompt-length", "5", "--epochs", "1", "--lr", "0", "--json"];
        var byText = Fedprompt.Run([.. common, "--out", textStart]);
        Ok(byText);
        Assert.Equal(TaskPreset.SyntheticSentiment.InitText, JsonDocument.Parse(byText.Stdout).RootElement.GetProperty("init_text").GetString());
        Ok(Fedprompt.Run([.. common, "--out", randomStart, "--random-init"]));

        using var model = HfCheckpoint.Load(student);
        var tokenizer = TokenizerLoader.FromFolder(student);
        // PEFT's TEXT init: the text's token ids repeated to the prompt length, then cut.
        var ids = tokenizer.Encode(TaskPreset.SyntheticSentiment.InitText);
        Tensor Embeddings(IEnumerable<int> tokenIds) => model.EmbedTokens(tensor(tokenIds.Select(i => (long)i).ToArray())).detach();
        Tensor Loaded(string path) { var p = SoftPrompt.Load(path); return tensor(p.Values.ToArray()).reshape(p.Length, p.HiddenSize); }
        var expected = Embeddings(Enumerable.Range(0, 5).Select(i => ids[i % ids.Count]));
        Assert.True(allclose(Loaded(textStart), expected));
        // Seeded random vocabulary tokens (seed 1, as the run's --seed).
        var random = new Random(1);
        Assert.True(allclose(Loaded(randomStart), Embeddings(Enumerable.Range(0, 5).Select(_ => random.Next(model.VocabSize)))));

        BadInput(Fedprompt.Run([.. common, "--out", randomStart, "--random-init", "--init-text", "Is it good?"]), "--init-text and --random-init");
    }

    [Fact]
    public void Transfer_json_reports_alpha_steps_and_whole_set_losses_and_keeps_the_best_validated_prompt()
    {
        var (teacher, student, train, test, corpus) = Setup();
        string[] sentiment = ["--template", "{text} It was", "--verbalizer", "positive=great;negative=terrible"];
        string ps = _dir.Combine("ps.json"), pt = _dir.Combine("pt.json");
        Ok(Fedprompt.Run(["tune", "--model", student, "--task", train, .. sentiment, "--out", ps, "--prompt-length", "3", "--epochs", "2", "--lr", "0.1", "--json"]));

        var transfer = Fedprompt.Run(["transfer", "--large", teacher, "--small", student, "--prompt", ps, "--public", corpus, "--alpha", "0.5",
            .. sentiment, "--steps", "30", "--lr", "0.05", "--validate-every", "10", "--validation", test, "--out", pt, "--json"]);
        Ok(transfer);
        var json = JsonDocument.Parse(transfer.Stdout).RootElement;
        Assert.Equal(0.5, json.GetProperty("alpha").GetDouble());
        Assert.Equal(30, json.GetProperty("steps").GetInt32());
        Assert.Equal(2.0, json.GetProperty("temperature").GetDouble());
        Assert.Equal(30, json.GetProperty("public_texts").GetInt32());            // the corpus's 30 paragraphs, all of them
        double initial = json.GetProperty("initial_loss").GetDouble(), final = json.GetProperty("final_loss").GetDouble();
        Assert.True(final < initial, $"loss over the public set {initial} → {final}");

        var validation = json.GetProperty("validation");
        Assert.Equal([0, 10, 20, 30], validation.GetProperty("accuracies").EnumerateArray().Select(a => a.GetProperty("step").GetInt32()));
        var accuracies = validation.GetProperty("accuracies").EnumerateArray().Select(a => a.GetProperty("accuracy").GetDouble()).ToList();
        Assert.Equal(accuracies.Max(), validation.GetProperty("best_accuracy").GetDouble());
        Assert.Equal(accuracies[^1], validation.GetProperty("last_accuracy").GetDouble());

        // The written prompt is the best one: evaluating it on the validation file gives the best accuracy.
        var eval = Fedprompt.Run(["eval", "--model", teacher, "--task", test, .. sentiment, "--soft-prompt", pt, "--json"]);
        Ok(eval);
        var evaluated = JsonDocument.Parse(eval.Stdout).RootElement;
        Assert.Equal(accuracies.Max(), evaluated.GetProperty("accuracy").GetDouble(), 12);
        Assert.InRange(evaluated.GetProperty("macro_accuracy").GetDouble(), 0, 1);

        BadInput(Fedprompt.Run(["transfer", "--large", teacher, "--small", student, "--prompt", ps, "--public", corpus, "--alpha", "0.5",
            .. sentiment, "--validate-every", "5", "--out", pt]), "--validate-every needs a public labeled file");
    }
}
