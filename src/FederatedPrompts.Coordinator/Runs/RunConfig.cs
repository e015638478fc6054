using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Soft;
using FederatedPrompts.Coordinator.Strategies;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Post.Privacy;
using FederatedPrompts.Post.Tuning;

namespace FederatedPrompts.Coordinator.Runs;

/// <summary>
/// One federated run as the operator describes it (JSON, snake_case). Paths are resolved against the file's folder.
/// Everything a client needs from it travels in the round task; private data paths never appear here.
/// </summary>
public sealed record RunConfig
{
    public string Name { get; init; } = "run";
    /// <summary>
    /// "soft" (POST tuning on the distilled model), "discrete" (FedDTPT search through the inference service), or "hybrid":
    /// clients of both modes in one run, each mode with its own global prompt and strategy.
    /// </summary>
    public string Mode { get; init; } = "soft";
    public static IReadOnlyList<string> ModeNames { get; } = ["soft", "discrete", "hybrid"];
    public int Rounds { get; init; } = 3;
    /// <summary>
    /// A round opens once this many clients are enrolled, and closes at its timeout only once this many have uploaded; in a
    /// hybrid run, this many of each mode.
    /// </summary>
    public int MinClients { get; init; } = 2;
    /// <summary>Fraction of enrolled clients sampled per round (at least MinClients).</summary>
    public double Fraction { get; init; } = 1.0;
    public double RoundTimeoutSeconds { get; init; } = 600;
    public const double MaxRoundTimeoutSeconds = 30 * 24 * 3600;
    public int Seed { get; init; } = 1;
    /// <summary>The largest example count a client may enrol with (FedAvg weighs updates by it; see README, "Hostile clients").</summary>
    public int MaxExampleCount { get; init; } = 100_000;
    /// <summary>Client identities (certificate common names) admitted to this run.</summary>
    public IReadOnlyList<string> Clients { get; init; } = [];
    public string Operator { get; init; } = "operator";

    /// <summary>The distilled small model clients download (soft: tuned on; discrete: token proposer).</summary>
    public string SmallModel { get; init; } = "";
    /// <summary>The large model: target of the transfer (soft) or the black box behind the inference service (discrete).</summary>
    public string LargeModel { get; init; } = "";
    /// <summary>Template and label words: a preset name (sst2, trec, spam, synthetic-sentiment) or both given.</summary>
    public string? Preset { get; init; }
    public string? Template { get; init; }
    public Dictionary<string, string[]>? LabelWords { get; init; }
    /// <summary>
    /// What the "minilm" black box compares inputs with (discrete.black_box), one sentence per label; null: the preset's,
    /// else the template's closing with each label's first word (<see cref="Core.Tasks.LabelDescriptions.Derived"/>).
    /// </summary>
    public Dictionary<string, string>? LabelDescriptions { get; init; }
    /// <summary>The coordinator's held-out labeled set: every round's global prompt is evaluated on it.</summary>
    public string EvalTask { get; init; } = "";
    public int? EvalLimit { get; init; }
    /// <summary>Public unlabeled texts for POST transfer.</summary>
    public string PublicTexts { get; init; } = "";
    public int? PublicTextsLimit { get; init; } = 1000;
    /// <summary>Public labeled examples: the α heuristic's set, and the balanced set sent to discrete-mode clients.</summary>
    public string? PublicLabeled { get; init; }
    public int PublicPerLabel { get; init; } = 8;

    public SoftRunConfig Soft { get; init; } = new();
    public DiscreteRunConfig Discrete { get; init; } = new();
    public TransferRunConfig Transfer { get; init; } = new();
    public int AggregationMinSamples { get; init; } = 2;
    /// <summary>Longest global prompt (clusters kept by attention mass); default: soft.prompt_length, or the model's prompt limit for token prompts, so a round's prompt is always one clients may upload.</summary>
    public int? AggregationMaxLength { get; init; }
    /// <summary>Discrete mode: what uploaded tokens are compared in, "minilm" (the sentence encoder on each token's text) or "lm" (the large model's input embeddings).</summary>
    public string AggregationEmbeddings { get; init; } = TokenSpaces.MiniLm;
    /// <summary>How DBSCAN's eps is read off the k-distance curve: "kneed" or "kneedle-global" (<see cref="KneeMethod"/>).</summary>
    public string AggregationKnee { get; init; } = "kneed";
    /// <summary>A fixed DBSCAN eps instead of the knee.</summary>
    public double? AggregationEps { get; init; }
    /// <summary>k of the "kmeans" strategy (default: the prompt length).</summary>
    public int? AggregationK { get; init; }
    /// <summary>β of the "trimmed-mean" strategy: the share of values dropped at each end of every coordinate.</summary>
    public double AggregationTrimFraction { get; init; } = 0.1;

    /// <summary>How eps is set, from aggregation_knee and aggregation_eps.</summary>
    [JsonIgnore] public EpsRule AggregationEpsRule => new(KneeNames.Parse(AggregationKnee), AggregationEps);

    /// <summary>The modes of the run's clients: one, or both in a hybrid run (soft first).</summary>
    [JsonIgnore] public IReadOnlyList<PromptMode> Modes => Mode switch
    {
        "soft" => [PromptMode.Soft],
        "discrete" => [PromptMode.Discrete],
        "hybrid" => [PromptMode.Soft, PromptMode.Discrete],
        _ => throw new InvalidOperationException($"mode \"{Mode}\" is not one of {string.Join(", ", ModeNames)}"),
    };

    public bool Has(PromptMode mode) => Modes.Contains(mode);

    /// <summary>The strategy of one mode's clients (<see cref="FederationStrategies"/>).</summary>
    public string StrategyFor(PromptMode mode) => mode == PromptMode.Soft ? Soft.Strategy : Discrete.Strategy;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        // "soft": null would otherwise leave a section null and fail later with a NullReferenceException.
        RespectNullableAnnotations = true,
        WriteIndented = true,
    };

    /// <summary>Parses and validates; relative paths are resolved against <paramref name="baseDirectory"/>.</summary>
    public static RunConfig Parse(string json, string baseDirectory)
    {
        RunConfig config;
        try
        {
            if (JsonNode.Parse(json) is JsonObject root && root.ContainsKey("strategy"))
                throw new InvalidDataException("run configuration: \"strategy\" is set per mode now: soft.strategy or discrete.strategy");
            config = JsonSerializer.Deserialize<RunConfig>(json, Json) ?? throw new InvalidDataException("run configuration is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"run configuration is not valid: {e.Message}", e);
        }
        string Resolve(string path) => path.Length == 0 ? path : Path.GetFullPath(path, baseDirectory);
        config = config with
        {
            SmallModel = Resolve(config.SmallModel), LargeModel = Resolve(config.LargeModel), EvalTask = Resolve(config.EvalTask),
            PublicTexts = Resolve(config.PublicTexts), PublicLabeled = config.PublicLabeled is { } p ? Resolve(p) : null,
        };
        config.Validate();
        return config;
    }

    /// <summary>
    /// A configuration as the store kept it: validated when its run was created, paths already absolute. It is not checked
    /// against the file system again, so a moved model folder fails only the step that needs the model, not every read
    /// of a finished run.
    /// </summary>
    public static RunConfig FromStored(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<RunConfig>(json, Json) ?? throw new InvalidDataException("stored run configuration is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"stored run configuration is not valid: {e.Message}", e);
        }
    }

    public static RunConfig Load(string path) =>
        Parse(File.ReadAllText(path), Path.GetDirectoryName(Path.GetFullPath(path))!);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>
    /// The models and data files the run needs that are not on disk, each named; empty when all are there. Checked when a
    /// run is created, and by the coordinator's health check while a run goes on (a folder moved under a running run).
    /// </summary>
    public IReadOnlyList<string> MissingFiles()
    {
        var missing = new List<string>();
        if (!Directory.Exists(SmallModel)) missing.Add($"small_model folder \"{SmallModel}\" does not exist");
        if (!Directory.Exists(LargeModel)) missing.Add($"large_model folder \"{LargeModel}\" does not exist");
        if (!File.Exists(EvalTask)) missing.Add($"eval_task file \"{EvalTask}\" does not exist");
        if (Has(PromptMode.Soft) && !File.Exists(PublicTexts)) missing.Add($"public_texts file \"{PublicTexts}\" does not exist");
        if (PublicLabeled is not null && !File.Exists(PublicLabeled)) missing.Add($"public_labeled file \"{PublicLabeled}\" does not exist");
        return missing;
    }

    void Validate()
    {
        var problems = new List<string>();
        void Require(bool ok, string problem) { if (!ok) problems.Add(problem); }
        if (!ModeNames.Contains(Mode)) throw new InvalidDataException($"run configuration: mode must be one of {string.Join(", ", ModeNames)}, not \"{Mode}\"");
        Require(Rounds >= 1, "rounds must be at least 1");
        Require(MinClients >= 1, "min_clients must be at least 1");
        Require(Fraction is > 0 and <= 1, "fraction must be in (0, 1]");
        Require(RoundTimeoutSeconds is > 0 and <= MaxRoundTimeoutSeconds, $"round_timeout_seconds must be positive and at most {MaxRoundTimeoutSeconds} (30 days)");
        Require(Clients.Count >= MinClients, $"clients lists {Clients.Count} identities, fewer than min_clients {MinClients}");
        Require(Clients.Distinct().Count() == Clients.Count, "clients has repeated identities");
        Require(Clients.All(c => !string.IsNullOrWhiteSpace(c)), "clients has a blank identity");
        Require(!Clients.Contains(Operator), $"the operator identity \"{Operator}\" is also listed as a client");
        problems.AddRange(MissingFiles());
        Require(Preset is not null || (Template is not null && LabelWords is not null), "give preset, or template and label_words");
        if (LabelDescriptions is { } descriptions)
        {
            Require(descriptions.All(d => !string.IsNullOrWhiteSpace(d.Value)),
                $"label_descriptions has a blank description for {string.Join(", ", descriptions.Where(d => string.IsNullOrWhiteSpace(d.Value)).Select(d => $"'{d.Key}'"))}");
            if ((LabelWords?.Keys.ToList() ?? (Preset is { } name ? TaskPreset.Find(name)?.Verbalizer.Labels : null)) is { } labels)
            {
                var missing = labels.Where(label => !descriptions.ContainsKey(label)).ToList();
                var unknown = descriptions.Keys.Where(label => !labels.Contains(label)).ToList();
                Require(missing.Count == 0, $"label_descriptions has no description for label(s) {string.Join(", ", missing.Select(l => $"'{l}'"))}");
                Require(unknown.Count == 0, $"label_descriptions describes label(s) {string.Join(", ", unknown.Select(l => $"'{l}'"))} that the label words do not name");
            }
        }
        Require(AggregationMinSamples >= 1, "aggregation_min_samples must be at least 1");
        Require(AggregationMaxLength is null or >= 1, "aggregation_max_length must be at least 1");
        Require(TokenSpaces.Names.Contains(AggregationEmbeddings), $"aggregation_embeddings \"{AggregationEmbeddings}\" is not one of {string.Join(", ", TokenSpaces.Names)}");
        Require(KneeNames.Names.Contains(AggregationKnee), $"aggregation_knee \"{AggregationKnee}\" is not one of {string.Join(", ", KneeNames.Names)}");
        Require(AggregationEps is null || (AggregationEps >= 0 && double.IsFinite(AggregationEps.Value)), "aggregation_eps must be a finite number ≥ 0");
        Require(AggregationK is null or >= 1, "aggregation_k must be at least 1");
        Require(SoftAggregationOptions.TrimFractionProblem(AggregationTrimFraction) is null,
            $"aggregation_trim_fraction {SoftAggregationOptions.TrimFractionProblem(AggregationTrimFraction)}");
        Require(MaxExampleCount >= 1, "max_example_count must be at least 1");
        Require(PublicPerLabel >= 0, "public_per_label must not be negative");
        Require(Transfer.ValidateEvery == 0 || PublicLabeled is not null, "transfer.validate_every needs public_labeled, the set it validates on");
        problems.AddRange(Soft.Problems().Concat(Discrete.Problems()).Concat(Transfer.Problems()));
        foreach (var mode in Modes)
        {
            var strategies = FederationStrategies.Names(mode);
            Require(strategies.Contains(StrategyFor(mode)),
                $"{Prompt.NameOf(mode)}.strategy \"{StrategyFor(mode)}\" is not one of {string.Join(", ", strategies)}");
        }
        if (problems.Count > 0) throw new InvalidDataException("run configuration: " + string.Join("; ", problems));
    }
}

public sealed record SoftRunConfig
{
    /// <summary>
    /// How soft updates are aggregated: fedavg (default), median, trimmed-mean, feddtpt, ... (<see cref="FederationStrategies"/>).
    /// Not feddtpt by default: it clusters each client's own vectors together (docs/ARCHITECTURE.md, "Soft prompts").
    /// </summary>
    public string Strategy { get; init; } = "fedavg";
    public int PromptLength { get; init; } = 10;
    /// <summary>The text the initial global prompt is embedded from; null: the preset's init text (none without a preset: random).</summary>
    public string? InitText { get; init; }
    /// <summary>Start from seeded random vocabulary tokens instead of a text.</summary>
    public bool RandomInit { get; init; }
    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 16;
    /// <summary>"sgd" or "adam"; null: sgd under DP (the official DP path), adam without.</summary>
    public string? Optimizer { get; init; }
    /// <summary>Null: <see cref="DefaultAdamLearningRate"/> with adam, <see cref="TuneOptions.DefaultLearningRate"/> with sgd.</summary>
    public double? LearningRate { get; init; }
    /// <summary>
    /// Adam's step for a client's soft prompt when the run names none. A round is a few local steps, so it is larger than
    /// <c>tune</c>'s 1e-3; 0.1, the default until issue #13, overshot: on the built-in scenario (seed 1, teacher of
    /// training recipe 2) clients reached 90 % locally while FedAvg of their prompts stayed at chance, and full prompt
    /// tuning of the teacher at 0.1 reached 79.7 %; at 0.03 and 0.01 both reached 94.5–100 % (docs/ARCHITECTURE.md,
    /// "Client learning rate").
    /// </summary>
    public const double DefaultAdamLearningRate = 0.03;
    /// <summary>Null: no DP. Otherwise every client runs DP-SGD and spends at most this ε over the whole run.</summary>
    public DpRunConfig? Dp { get; init; }
    /// <summary>
    /// Largest L2 norm an uploaded prompt vector may have; larger ones are refused. Null: <see cref="DefaultMaxVectorNorm"/>
    /// of the small model's largest input-embedding norm.
    /// </summary>
    public double? MaxVectorNorm { get; init; }

    /// <summary>
    /// The default bound's multiple of the largest input-embedding norm. Tuning moves prompts well past the embeddings:
    /// on the main job the largest uploaded norm was 11.9 against embeddings of at most 1.26 (9.4×); 32× leaves room for
    /// other learning rates and still refuses the ±1e4 coordinates (norm ≈ 1e5) that took over a run.
    /// </summary>
    public const double NormBoundFactor = 32;

    /// <summary>
    /// <see cref="NormBoundFactor"/> × the largest input-embedding norm, taken as at least 1. An optimizer's step does not
    /// shrink with the embeddings (Adam moves a coordinate by about its learning rate), so a model whose embeddings are
    /// small needs the same room: a 2 × 16 test model (norms ≤ 0.11) uploaded a tuned vector of norm 3.8, over 32 × 0.11.
    /// </summary>
    public static double DefaultMaxVectorNorm(double largestEmbeddingNorm) => NormBoundFactor * Math.Max(1, largestEmbeddingNorm);

    internal IEnumerable<string> Problems()
    {
        if (PromptLength < 1) yield return "soft.prompt_length must be at least 1";
        if (Epochs < 1 || BatchSize < 1) yield return "soft.epochs and soft.batch_size must be at least 1";
        if (LearningRate is not null && !(LearningRate > 0 && double.IsFinite(LearningRate.Value))) yield return "soft.learning_rate must be positive and finite";
        if (MaxVectorNorm is not null && !(MaxVectorNorm > 0 && double.IsFinite(MaxVectorNorm.Value))) yield return "soft.max_vector_norm must be positive and finite";
        if (Optimizer is not (null or "sgd" or "adam")) yield return $"soft.optimizer must be \"sgd\" or \"adam\", not \"{Optimizer}\"";
        if (RandomInit && InitText is not null) yield return "soft.init_text and soft.random_init exclude each other";
        if (Dp is { } dp)
        {
            if (!(dp.ClipNorm > 0)) yield return "soft.dp.clip_norm must be positive";
            if (!(dp.Epsilon > 0) || double.IsInfinity(dp.Epsilon)) yield return "soft.dp.epsilon must be positive and finite";
            if (dp.Delta is not null and (<= 0 or >= 1)) yield return "soft.dp.delta must be in (0, 1)";
            if (dp.Accountant is not null && !PrivacyAccountants.Names.Contains(dp.Accountant))
                yield return $"soft.dp.accountant must be one of {string.Join(", ", PrivacyAccountants.Names)}, not \"{dp.Accountant}\"";
        }
    }
}

public static class SoftRunConfigDefaults
{
    /// <summary>The optimizer clients tune with.</summary>
    public static PromptOptimizer OptimizerInUse(this SoftRunConfig soft) =>
        soft.Optimizer is { } name ? TuneOptions.ParseOptimizer(name) : soft.Dp is null ? PromptOptimizer.Adam : PromptOptimizer.Sgd;

    public static double LearningRateInUse(this SoftRunConfig soft) =>
        soft.LearningRate ?? (soft.OptimizerInUse() == PromptOptimizer.Sgd ? TuneOptions.DefaultLearningRate(PromptOptimizer.Sgd) : SoftRunConfig.DefaultAdamLearningRate);

    /// <summary>The initial global prompt's text: soft.init_text, else the preset's (null: seeded random tokens).</summary>
    public static string? InitTextInUse(this RunConfig config) =>
        config.Soft.RandomInit ? null : config.Soft.InitText ?? (config.Preset is { } name ? TaskPreset.Get(name).InitText : null);
}

/// <summary>
/// δ null: each client uses 1/N of its own example count. Accountant ("prv" or "rdp") calibrates σ and composes the
/// rounds; null: <see cref="PrivacyAccountants.Default"/>.
/// </summary>
public sealed record DpRunConfig(double ClipNorm, double Epsilon, double? Delta = null, string? Accountant = null)
{
    public AccountantKind AccountantInUse => Accountant is null ? PrivacyAccountants.Default : PrivacyAccountants.Parse(Accountant, "soft.dp.accountant");
}

public sealed record DiscreteRunConfig
{
    /// <summary>How token prompts are aggregated: feddtpt (default), or the ablations fedavg, attention, kmeans (<see cref="FederationStrategies"/>).</summary>
    public string Strategy { get; init; } = "feddtpt";
    public string InitialPrompt { get; init; } = "Review:";
    public int Iterations { get; init; } = 4;
    public int PositionsPerIteration { get; init; } = 1;
    public int CandidatesPerPosition { get; init; } = 4;
    public int LocalBatchSize { get; init; } = 32;
    public int PublicPerLabel { get; init; } = 2;
    public bool UseFeedback { get; init; } = true;
    /// <summary>Where clients' proposers find a token's neighbours: "minilm" (the sentence encoder on each token's text) or "lm" (the small model's input embeddings).</summary>
    public string NeighbourEmbeddings { get; init; } = TokenSpaces.MiniLm;
    /// <summary>Inputs a client may send to the inference service per round.</summary>
    public long QueryBudget { get; init; } = 2000;
    /// <summary>
    /// What the inference service answers with (<see cref="BlackBoxes"/>): "lm" (the large model) or "minilm" (the sentence
    /// encoder, by similarity to label_descriptions). It also evaluates every round's global token prompt.
    /// </summary>
    public string BlackBox { get; init; } = BlackBoxes.Lm;

    internal IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(InitialPrompt)) yield return "discrete.initial_prompt must not be blank";
        if (Iterations < 1 || PositionsPerIteration < 1 || CandidatesPerPosition < 1 || LocalBatchSize < 1)
            yield return "discrete.iterations, positions_per_iteration, candidates_per_position and local_batch_size must be at least 1";
        if (PublicPerLabel < 0) yield return "discrete.public_per_label must not be negative";
        if (QueryBudget < 1) yield return "discrete.query_budget must be at least 1";
        if (!TokenSpaces.Names.Contains(NeighbourEmbeddings))
            yield return $"discrete.neighbour_embeddings \"{NeighbourEmbeddings}\" is not one of {string.Join(", ", TokenSpaces.Names)}";
        if (!BlackBoxes.Names.Contains(BlackBox))
            yield return $"discrete.black_box \"{BlackBox}\" is not one of {string.Join(", ", BlackBoxes.Names)}";
    }
}

public sealed record TransferRunConfig
{
    public int Steps { get; init; } = 300;
    public double LearningRate { get; init; } = 0.05;
    public int BatchSize { get; init; } = 16;
    /// <summary>Null: α from the heuristic on public_labeled (or 0.5 without one, said so in the report).</summary>
    public double? Alpha { get; init; }
    /// <summary>Also transfer every k rounds (0: only after the last round).</summary>
    public int EveryRounds { get; init; }
    /// <summary>Check the transferred prompt's accuracy on public_labeled every this many steps and publish the best (0: the last).</summary>
    public int ValidateEvery { get; init; }

    internal IEnumerable<string> Problems()
    {
        if (Steps < 1 || BatchSize < 1) yield return "transfer.steps and transfer.batch_size must be at least 1";
        if (!(LearningRate > 0)) yield return "transfer.learning_rate must be positive";
        if (Alpha is not null and (< 0 or > 1)) yield return "transfer.alpha must be in [0, 1]";
        if (EveryRounds < 0) yield return "transfer.every_rounds must not be negative";
        if (ValidateEvery < 0) yield return "transfer.validate_every must not be negative";
    }
}
