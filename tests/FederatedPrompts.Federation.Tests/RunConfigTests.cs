using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Post.Tuning;

namespace FederatedPrompts.Federation.Tests;

/// <summary>The soft section's optimizer, learning rate and init text as the coordinator resolves them for its clients.</summary>
public class RunConfigTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    RunConfig Parse(string soft, string transfer = "{}", bool publicLabeled = true, string extra = "")
    {
        Directory.CreateDirectory(_dir.Combine("small"));
        Directory.CreateDirectory(_dir.Combine("large"));
        _dir.Write("eval.jsonl", "{\"text\":\"a\",\"label\":\"positive\"}\n");
        _dir.Write("public.txt", "a public text");
        string labeled = publicLabeled ? "\"public_labeled\": \"eval.jsonl\"," : "";
        return RunConfig.Parse($$"""
            { "clients": ["a", "b"], "small_model": "small", "large_model": "large", "preset": "sst2", "eval_task": "eval.jsonl",
              "public_texts": "public.txt", {{labeled}} {{extra}} "soft": {{soft}}, "transfer": {{transfer}} }
            """, _dir.Path);
    }

    [Fact]
    public void Sgd_is_the_default_under_dp_and_adam_without_each_with_its_learning_rate()
    {
        var dp = Parse("""{ "dp": { "clip_norm": 1, "epsilon": 8 } }""").Soft;
        Assert.Equal((PromptOptimizer.Sgd, TuneOptions.DefaultLearningRate(PromptOptimizer.Sgd)), (dp.OptimizerInUse(), dp.LearningRateInUse()));
        var plain = Parse("{}").Soft;
        Assert.Equal((PromptOptimizer.Adam, SoftRunConfig.DefaultAdamLearningRate), (plain.OptimizerInUse(), plain.LearningRateInUse()));
        var chosen = Parse("""{ "optimizer": "adam", "learning_rate": 0.02, "dp": { "clip_norm": 1, "epsilon": 8 } }""").Soft;
        Assert.Equal((PromptOptimizer.Adam, 0.02), (chosen.OptimizerInUse(), chosen.LearningRateInUse()));
    }

    /// <summary>Issue #16: clients calibrate σ and compose rounds with the PRV accountant unless the run names RDP; the stored run says which.</summary>
    [Fact]
    public void The_dp_accountant_defaults_to_prv_and_can_be_rdp()
    {
        var plain = Parse("""{ "dp": { "clip_norm": 1, "epsilon": 8 } }""");
        Assert.Equal(Post.Privacy.AccountantKind.Prv, plain.Soft.Dp!.AccountantInUse);
        Assert.Equal(Post.Privacy.AccountantKind.Rdp, Parse("""{ "dp": { "clip_norm": 1, "epsilon": 8, "accountant": "rdp" } }""").Soft.Dp!.AccountantInUse);
        Assert.Contains("\"accountant\": \"rdp\"", Parse("""{ "dp": { "clip_norm": 1, "epsilon": 8, "accountant": "rdp" } }""").ToJson());
    }

    [Fact]
    public void The_initial_prompt_text_is_the_presets_unless_given_or_random()
    {
        Assert.Equal(TaskPreset.Sst2.InitText, Parse("{}").InitTextInUse());
        Assert.Equal("Is it good?", Parse("""{ "init_text": "Is it good?" }""").InitTextInUse());
        Assert.Null(Parse("""{ "random_init": true }""").InitTextInUse());
    }

    [Theory]
    [InlineData("""{ "optimizer": "rmsprop" }""", "{}", true, "soft.optimizer must be \"sgd\" or \"adam\", not \"rmsprop\"")]
    [InlineData("""{ "learning_rate": 0 }""", "{}", true, "soft.learning_rate must be positive and finite")]
    [InlineData("""{ "init_text": "x", "random_init": true }""", "{}", true, "soft.init_text and soft.random_init exclude each other")]
    [InlineData("{}", """{ "validate_every": 10 }""", false, "transfer.validate_every needs public_labeled")]
    [InlineData("{}", """{ "validate_every": -1 }""", true, "transfer.validate_every must not be negative")]
    [InlineData("""{ "max_vector_norm": 0 }""", "{}", true, "soft.max_vector_norm must be positive and finite")]
    [InlineData("""{ "max_vector_norm": -3 }""", "{}", true, "soft.max_vector_norm must be positive and finite")]
    [InlineData("""{ "strategy": "kmeans" }""", "{}", true, "soft.strategy \"kmeans\" is not one of feddtpt, fedavg, median, trimmed-mean")]
    [InlineData("""{ "dp": { "clip_norm": 1, "epsilon": 8, "accountant": "moments" } }""", "{}", true, "soft.dp.accountant must be one of prv, rdp, not \"moments\"")]
    public void Bad_soft_and_transfer_settings_are_named(string soft, string transfer, bool publicLabeled, string problem)
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse(soft, transfer, publicLabeled));
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Aggregation_defaults_to_each_modes_strategy_minilm_embeddings_and_the_kneed_knee()
    {
        var config = Parse("{}");
        Assert.Equal(("minilm", "kneed", "minilm"), (config.AggregationEmbeddings, config.AggregationKnee, config.Discrete.NeighbourEmbeddings));
        Assert.Equal(new Aggregation.Clustering.EpsRule(Aggregation.Clustering.KneeMethod.Kneed), config.AggregationEpsRule);
        Assert.Equal(("fedavg", "feddtpt"), (config.StrategyFor(PromptMode.Soft), config.StrategyFor(PromptMode.Discrete)));
        Assert.Equal("median", Parse("""{ "strategy": "median" }""").StrategyFor(PromptMode.Soft));
        Assert.Contains("\"strategy\": \"fedavg\"", config.ToJson());   // the stored run says what ran
        var chosen = Parse("{}", extra: """ "aggregation_knee": "kneedle-global", "aggregation_eps": 0.3, "aggregation_k": 4, "aggregation_embeddings": "lm", """);
        Assert.Equal(new Aggregation.Clustering.EpsRule(Aggregation.Clustering.KneeMethod.KneedleGlobal, 0.3), chosen.AggregationEpsRule);
        Assert.Equal((4, "lm"), (chosen.AggregationK, chosen.AggregationEmbeddings));
    }

    [Theory]
    [InlineData(""" "aggregation_knee": "elbow", """, "aggregation_knee \"elbow\" is not one of kneed, kneedle-global")]
    [InlineData(""" "aggregation_eps": -1, """, "aggregation_eps must be a finite number ≥ 0")]
    [InlineData(""" "aggregation_k": 0, """, "aggregation_k must be at least 1")]
    [InlineData(""" "aggregation_embeddings": "bert", """, "aggregation_embeddings \"bert\" is not one of minilm, lm")]
    [InlineData(""" "discrete": { "neighbour_embeddings": "bert" }, """, "discrete.neighbour_embeddings \"bert\" is not one of minilm, lm")]
    [InlineData(""" "aggregation_trim_fraction": 0.5, """, "aggregation_trim_fraction must be in [0, 0.5)")]
    [InlineData(""" "max_example_count": 0, """, "max_example_count must be at least 1")]
    public void Bad_aggregation_settings_are_named(string extra, string problem)
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse("{}", extra: extra));
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void The_black_box_is_the_large_model_unless_the_run_names_the_sentence_encoder_and_descriptions_follow_the_preset()
    {
        var config = Parse("{}", extra: """ "mode": "discrete", """);
        Assert.Equal("lm", config.Discrete.BlackBox);
        var minilm = Parse("{}", extra: """ "mode": "discrete", "discrete": { "black_box": "minilm" }, """);
        Assert.Equal("minilm", minilm.Discrete.BlackBox);
        Assert.Contains("\"black_box\": \"minilm\"", minilm.ToJson());   // the stored run says what answered
        var (template, verbalizer) = Coordinator.Models.RunTask.TemplateOf(minilm);
        Assert.Equal(TaskPreset.Sst2.Descriptions.ByLabel, Coordinator.Models.RunTask.DescriptionsOf(minilm, template, verbalizer).ByLabel);
        var given = Parse("{}", extra: """ "label_descriptions": { "positive": "A fine film.", "negative": "A bad film." }, """);
        Assert.Equal(["A fine film.", "A bad film."], Coordinator.Models.RunTask.DescriptionsOf(given, template, verbalizer).For(["positive", "negative"]));
    }

    [Theory]
    [InlineData(""" "discrete": { "black_box": "bert" }, """, "discrete.black_box \"bert\" is not one of lm, minilm")]
    [InlineData(""" "discrete": { "black_box": "MiniLM" }, """, "discrete.black_box \"MiniLM\" is not one of lm, minilm")]
    [InlineData(""" "label_descriptions": { "positive": "It was great." }, """, "label_descriptions has no description for label(s) 'negative'")]
    [InlineData(""" "label_descriptions": { "positive": "Good.", "negative": "Bad.", "neutral": "Fine." }, """,
        "label_descriptions describes label(s) 'neutral' that the label words do not name")]
    [InlineData(""" "label_descriptions": { "positive": " ", "negative": "Bad." }, """, "label_descriptions has a blank description for 'positive'")]
    public void Bad_black_box_settings_are_named(string extra, string problem)
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse("{}", extra: extra));
        Assert.Contains(problem, error.Message);
    }

    /// <summary>The strategy is set per mode since schema 2; a configuration written for the old top-level field is told where it went.</summary>
    [Fact]
    public void A_top_level_strategy_is_refused_with_where_it_moved_and_hybrid_runs_name_both_modes()
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse("{}", extra: """ "strategy": "median", """));
        Assert.Contains("\"strategy\" is set per mode now: soft.strategy or discrete.strategy", error.Message);
        var hybrid = Parse("{}", extra: """ "mode": "hybrid", "discrete": { "strategy": "kmeans" }, """);
        Assert.Equal([PromptMode.Soft, PromptMode.Discrete], hybrid.Modes);
        Assert.Equal(("fedavg", "kmeans"), (hybrid.StrategyFor(PromptMode.Soft), hybrid.StrategyFor(PromptMode.Discrete)));
        Assert.Contains("mode must be one of soft, discrete, hybrid, not \"both\"", Assert.Throws<InvalidDataException>(() => Parse("{}", extra: """ "mode": "both", """)).Message);
    }
}
