using System.Text.Json;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Tests;

/// <summary>
/// A tiny model pretrained through the CLI (as <see cref="WorkflowTests"/> does), whose embeddings of tokens
/// <see cref="Shared"/> and <see cref="Synonym"/> are then set nearly parallel: a freshly initialised model's embeddings
/// are random, so without this no two distinct tokens are semantically close and the k-distance curve's knee would sit
/// on the exact duplicates (eps 0).
/// </summary>
public sealed class TinyAggregationModel : IDisposable
{
    public const int Shared = 100, Synonym = 101;

    readonly TempFolder _dir = new();

    public TinyAggregationModel()
    {
        string corpus = _dir.Write("corpus.txt", string.Join("\n\n", Enumerable.Range(0, 30).Select(i =>
            i % 2 == 0 ? $"review {i}: the film was lovely. It was great." : $"review {i}: the film was dull. It was terrible.")));
        Dir = _dir.Combine("model");
        var pretrain = Fedprompt.Run("pretrain", "--corpus", corpus, "--out", Dir, "--layers", "1", "--hidden", "16", "--heads", "2",
            "--context", "16", "--vocab-size", "300", "--steps", "1");
        Assert.True(pretrain.ExitCode == 0, pretrain.Stderr);

        using var model = HfCheckpoint.Load(Dir);
        VocabSize = model.VocabSize;
        var embeddings = model.named_parameters().Single(p => p.name == "transformer.wte.weight").parameter;
        float[] Direction(float across)
        {
            var values = new float[model.HiddenSize];
            (values[0], values[1]) = (0.1f, across);
            return values;
        }
        using (no_grad())
        {
            embeddings[Shared].copy_(tensor(Direction(0)));
            embeddings[Synonym].copy_(tensor(Direction(0.005f))); // cosine distance ≈ 0.001 from Shared
        }
        HfCheckpoint.Save(model, Dir);
        TokenizerIdentity = TokenizerLoader.FromFolder(Dir).Identity;
        EmbeddingIdentity = ModelIdentity.Of(model);
        HiddenSize = model.HiddenSize;
    }

    public string Dir { get; }
    public int VocabSize { get; }
    public int HiddenSize { get; }
    public string TokenizerIdentity { get; }
    public string EmbeddingIdentity { get; }

    public void Dispose() => _dir.Dispose();
}

public class AggregateCommandTests(TinyAggregationModel model) : IClassFixture<TinyAggregationModel>, IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    string Discrete(string client, int[] tokenIds, int examples = 10) =>
        JsonSerializer.Serialize(new { client, token_ids = tokenIds, tokenizer = model.TokenizerIdentity, examples });

    string Uploads(params string[] lines) => _dir.Write("uploads.jsonl", string.Join("\n", lines) + "\n");

    /// <summary>org-a and org-b share a token; org-c uploads a near-synonym of it among tokens of its own.</summary>
    string ThreeClients() => Uploads(
        Discrete("org-a", [TinyAggregationModel.Shared, 50, 60], 120),
        Discrete("org-b", [TinyAggregationModel.Shared, 70, 80], 80),
        Discrete("org-c", [TinyAggregationModel.Synonym, 110, 120, 130, 140], 40));

    [Fact]
    public void Discrete_uploads_report_attention_eps_clusters_and_a_global_prompt_with_the_shared_token()
    {
        string outFile = _dir.Combine("global.json");
        // The synonym's bend sits at the low end of the k-distance curve, where kneed confirms no knee (KneeTests): the global one finds it.
        var run = Fedprompt.Run("aggregate", "--prompts", ThreeClients(), "--model", model.Dir, "--embeddings", "lm", "--knee", "kneedle-global",
            "--json", "--out", outFile);
        Assert.True(run.ExitCode == 0, run.Stderr);

        var report = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("lm", report.GetProperty("embeddings").GetString());
        var clients = report.GetProperty("clients").EnumerateArray().ToArray();
        Assert.Equal(["org-a", "org-b", "org-c"], clients.Select(c => c.GetProperty("client").GetString()));
        foreach (var client in clients)
            Assert.Equal(1.0, client.GetProperty("prompt").EnumerateArray().Sum(t => t.GetProperty("attention").GetDouble()), 9);

        var kDistance = report.GetProperty("k_distance");
        Assert.Equal(10, kDistance.GetProperty("length").GetInt32());   // 11 tokens, the two copies of Shared one distinct point
        Assert.True(kDistance.GetProperty("eps").GetDouble() > 0, kDistance.ToString());
        var sharedCluster = report.GetProperty("clusters").GetProperty("groups").EnumerateArray()
            .Single(group => group.EnumerateArray().Any(member => member.GetProperty("token_id").GetInt32() == TinyAggregationModel.Shared));
        Assert.Equal(["org-a", "org-b", "org-c"], sharedCluster.EnumerateArray().Select(m => m.GetProperty("client").GetString()));

        var globalIds = report.GetProperty("global_prompt").GetProperty("token_ids").EnumerateArray().Select(id => id.GetInt32()).ToArray();
        Assert.Contains(TinyAggregationModel.Shared, globalIds);
        var written = Core.Prompts.DiscretePrompt.Load(outFile);
        Assert.Equal(globalIds, written.TokenIds);
        Assert.Equal(model.TokenizerIdentity, written.TokenizerIdentity);
    }

    [Fact]
    public void Eps_rule_embeddings_and_k_reach_the_aggregation_and_the_report()
    {
        JsonElement Report(params string[] options)
        {
            var run = Fedprompt.Run(["aggregate", "--prompts", ThreeClients(), "--model", model.Dir, "--json", .. options]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            return JsonDocument.Parse(run.Stdout).RootElement;
        }
        var defaults = Report();
        Assert.Equal("minilm", defaults.GetProperty("embeddings").GetString());
        Assert.Equal("knee kneed", defaults.GetProperty("k_distance").GetProperty("rule").GetString());

        var fixedEps = Report("--embeddings", "lm", "--eps", "2").GetProperty("k_distance");
        Assert.Equal(("fixed eps 2", 2.0, JsonValueKind.Null), (fixedEps.GetProperty("rule").GetString(), fixedEps.GetProperty("eps").GetDouble(),
            fixedEps.GetProperty("knee_index").ValueKind));
        Assert.Equal(2.0, fixedEps.GetProperty("fixed_eps").GetDouble());
        Assert.Equal(JsonValueKind.Null, defaults.GetProperty("k_distance").GetProperty("fixed_eps").ValueKind);
        Assert.Equal("knee kneedle-global", Report("--knee", "kneedle-global").GetProperty("k_distance").GetProperty("rule").GetString());
        Assert.Equal(2, Report("--strategy", "kmeans", "--max-length", "4", "--k", "2").GetProperty("global_prompt").GetProperty("length").GetInt32());
    }

    [Theory]
    [InlineData("--eps", "-0.5")]
    [InlineData("--eps", "Infinity")]
    [InlineData("--k", "0")]
    [InlineData("--knee", "elbow")]
    [InlineData("--embeddings", "bert")]
    public void Bad_clustering_options_are_refused(string option, string value) =>
        BadInputTests.AssertOneLineError(Fedprompt.Run("aggregate", "--prompts", ThreeClients(), "--model", model.Dir, option, value), option);

    [Fact]
    public void Text_output_shows_the_curve_the_clusters_and_the_global_prompt()
    {
        var run = Fedprompt.Run("aggregate", "--prompts", ThreeClients(), "--model", model.Dir);
        Assert.True(run.ExitCode == 0, run.Stderr);
        foreach (var expected in new[] { "org-c", "attention", "knee at index", "eps", "clusters", "global prompt" })
            Assert.Contains(expected, run.Stdout);
    }

    [Theory]
    [InlineData("fedavg")]
    [InlineData("attention")]
    [InlineData("kmeans")]
    public void Every_token_strategy_runs_and_reports_no_curve_without_dbscan(string strategy)
    {
        var run = Fedprompt.Run("aggregate", "--prompts", ThreeClients(), "--model", model.Dir, "--strategy", strategy, "--max-length", "3", "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var report = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(JsonValueKind.Null, report.GetProperty("k_distance").ValueKind);
        Assert.Equal(strategy == "fedavg" ? 5 : 3, report.GetProperty("global_prompt").GetProperty("length").GetInt32());
    }

    [Fact]
    public void Soft_uploads_with_fedavg_give_the_example_weighted_positionwise_mean()
    {
        string uploads = Uploads(
            """{"client": "a", "vectors": [[1, 2, 3], [4, 5, 6]], "model": "emb-test", "examples": 1}""",
            """{"client": "b", "vectors": [[3, 4, 5]], "model": "emb-test", "examples": 3}""",
            """{"client": "c", "vectors": [[2, 0, 1], [0, 1, 0], [7, 7, 7]], "model": "emb-test"}""");
        string outFile = _dir.Combine("global-soft.json");
        var run = Fedprompt.Run("aggregate", "--prompts", uploads, "--strategy", "fedavg", "--json", "--out", outFile);
        Assert.True(run.ExitCode == 0, run.Stderr);

        // Position 0: (1·[1,2,3] + 3·[3,4,5] + 1·[2,0,1]) / 5; position 1: ([4,5,6] + [0,1,0]) / 2; position 2: only c has it.
        float[][] expected = [[2.4f, 2.8f, 3.8f], [2f, 3f, 3f], [7f, 7f, 7f]];
        var vectors = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("global_prompt").GetProperty("vectors")
            .EnumerateArray().Select(v => v.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
        Assert.Equal(expected.Length, vectors.Length);
        for (var n = 0; n < expected.Length; n++)
            for (var d = 0; d < 3; d++) Assert.Equal(expected[n][d], vectors[n][d], 5);
        var written = Core.Prompts.SoftPrompt.Load(outFile);
        Assert.Equal((3, 3, "emb-test"), (written.Length, written.HiddenSize, written.ModelIdentity));
        Assert.Equal(expected.SelectMany(v => v), written.Values.ToArray());
    }

    /// <summary>
    /// Five clients, one of them hostile ([1000, −1000], claiming 1,000 examples): per coordinate the median is 3 and 6;
    /// the trimmed mean with β 0.2 drops one value at each end, (2 + 3 + 4)/3 and (5 + 6 + 7)/3; the default (FedAvg) is
    /// dragged to the hostile values. A β of 0.5 or more is refused.
    /// </summary>
    [Fact]
    public void Soft_uploads_with_median_or_trimmed_mean_resist_one_hostile_client()
    {
        string uploads = Uploads([.. new[] { (1, 5), (2, 6), (3, 7), (4, 8) }.Select((v, k) =>
                $$"""{"client": "c{{k}}", "vectors": [[{{v.Item1}}, {{v.Item2}}]], "model": "emb-test"}"""),
            """{"client": "hostile", "vectors": [[1000, -1000]], "model": "emb-test", "examples": 1000}"""]);
        float[] Global(params string[] options)
        {
            var run = Fedprompt.Run(["aggregate", "--prompts", uploads, "--json", .. options]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            var report = JsonDocument.Parse(run.Stdout).RootElement;
            return report.GetProperty("global_prompt").GetProperty("vectors")[0].EnumerateArray().Select(x => x.GetSingle()).ToArray();
        }
        Assert.Equal([3f, 6f], Global("--strategy", "median"));
        Assert.Equal([3f, 6f], Global("--strategy", "trimmed-mean", "--trim-fraction", "0.2"));
        Assert.True(Global()[0] > 900);   // fedavg, the soft default, trusts the count
        BadInputTests.AssertOneLineError(Fedprompt.Run("aggregate", "--prompts", uploads, "--strategy", "trimmed-mean", "--trim-fraction", "0.5"),
            "--trim-fraction must be in [0, 0.5) (the share of values dropped at each end), not 0.5");
    }

    [Fact]
    public void Soft_uploads_are_checked_against_the_model_when_one_is_given()
    {
        string Soft(string identity) => Uploads(
            JsonSerializer.Serialize(new { client = "a", vectors = new[] { Enumerable.Repeat(0.5f, model.HiddenSize) }, model = identity }),
            JsonSerializer.Serialize(new { client = "b", vectors = new[] { Enumerable.Repeat(0.25f, model.HiddenSize) }, model = identity }));
        var matching = Fedprompt.Run("aggregate", "--prompts", Soft(model.EmbeddingIdentity), "--model", model.Dir, "--json");
        Assert.True(matching.ExitCode == 0, matching.Stderr);
        BadInputTests.AssertOneLineError(Fedprompt.Run("aggregate", "--prompts", Soft("emb-other"), "--model", model.Dir),
            "emb-other", model.EmbeddingIdentity);
    }

    [Fact]
    public void Nan_vector_is_named_by_client_and_position() => BadInputTests.AssertOneLineError(Fedprompt.Run("aggregate", "--prompts", Uploads(
            """{"client": "a", "vectors": [[1, 2]], "model": "m"}""",
            """{"client": "b", "vectors": [[1, 2], [3, "NaN"]], "model": "m"}""")),
        "uploads.jsonl", "client 'b' position 1", "NaN", "not finite");

    [Fact]
    public void Wrong_dimension_is_named_by_client() => BadInputTests.AssertOneLineError(Fedprompt.Run("aggregate", "--prompts", Uploads(
            """{"client": "a", "vectors": [[1, 2]], "model": "m"}""",
            """{"client": "b", "vectors": [[1, 2, 3]], "model": "m"}""")),
        "uploads.jsonl", "client 'b' position 0", "3 dimensions, expected 2");

    [Fact]
    public void Token_id_outside_the_vocabulary_is_named_by_line_client_and_position() => BadInputTests.AssertOneLineError(
        Fedprompt.Run("aggregate", "--prompts", Uploads(Discrete("org-a", [1, 2]), Discrete("org-b", [3, model.VocabSize])), "--model", model.Dir),
        "uploads.jsonl:2", "client 'org-b' position 1", $"token id {model.VocabSize}", "vocabulary");

    [Fact]
    public void Malformed_line_is_named_with_file_and_line() => BadInputTests.AssertOneLineError(Fedprompt.Run("aggregate", "--prompts", Uploads(
            """{"client": "a", "vectors": [[1, 2]], "model": "m"}""",
            """{"client": "b", "vectors": [[1, 2]""")),
        "uploads.jsonl:2", "not valid JSON");

    [Fact]
    public void Mixed_kinds_are_rejected() => BadInputTests.AssertOneLineError(Fedprompt.Run("aggregate", "--prompts", Uploads(
            """{"client": "a", "vectors": [[1, 2]], "model": "m"}""",
            Discrete("b", [1, 2])), "--model", model.Dir),
        "uploads.jsonl:2", "discrete upload after soft ones", "one kind");

    [Fact]
    public void Tokenizer_of_another_vocabulary_is_rejected() => BadInputTests.AssertOneLineError(Fedprompt.Run("aggregate", "--prompts", Uploads(
            """{"client": "a", "token_ids": [1, 2], "tokenizer": "gpt2-bpe:0000000000000000"}"""), "--model", model.Dir),
        "gpt2-bpe:0000000000000000", model.TokenizerIdentity);

    [Fact]
    public void Discrete_uploads_need_a_model() => BadInputTests.AssertOneLineError(
        Fedprompt.Run("aggregate", "--prompts", Uploads(Discrete("a", [1, 2]))), "--model");
}
