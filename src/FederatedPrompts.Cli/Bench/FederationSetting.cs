using System.Text.Json;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Distillation;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// A complete federation setting written into a folder: the run's large and small models, the coordinator's held-out
/// set, public texts and a public labeled set (two classes, preset synthetic-sentiment). <see cref="Tiny"/> is a random
/// 2-layer GPT-2 "large" model (hidden 16, context 48) with a tokenizer trained on a small generated corpus and a 1-layer
/// student built from it; <see cref="Gpt2Small"/> one random GPT-2-small-shaped checkpoint that is both.
/// Untrained models make accuracies meaningless; tests and benchmarks that use a setting measure the protocol, the state
/// machine, storage, the coordinator's overhead and the cost of moving and running the models, not learning. A fixture,
/// not part of a federation: it lives beside <c>fedprompt bench federation</c>, which writes one at run time, and the
/// federation tests reference it from here.
/// </summary>
public sealed class FederationSetting
{
    /// <summary>The names <c>bench federation --model</c> takes.</summary>
    public const string TinyName = "tiny", Gpt2SmallName = "gpt2-small";

    FederationSetting(string folder, string name, string dtype, string small, string large)
    {
        Folder = Path.GetFullPath(folder);
        Name = name;
        Dtype = dtype;
        Small = Path.Combine(Folder, small);
        Large = Path.Combine(Folder, large);
        EvalTask = Path.Combine(Folder, "eval.jsonl");
        PublicLabeled = Path.Combine(Folder, "public.jsonl");
        PublicTexts = Path.Combine(Folder, "public.txt");
    }

    public string Folder { get; }
    /// <summary><see cref="TinyName"/> or <see cref="Gpt2SmallName"/>.</summary>
    public string Name { get; }
    /// <summary>How the models' weights are stored (F32, F16 or BF16); they compute in float32 either way.</summary>
    public string Dtype { get; }
    public string Large { get; }
    public string Small { get; }
    public string EvalTask { get; }
    public string PublicLabeled { get; }
    public string PublicTexts { get; }
    /// <summary>Size of the pair's (shared) vocabulary.</summary>
    public int VocabularySize { get; private set; }
    /// <summary>Parameters of the small model (the one clients download).</summary>
    public long SmallParameters { get; private set; }
    /// <summary>Bytes of the small model's folder: what each client downloads.</summary>
    public long SmallBytes => Directory.EnumerateFiles(Small).Sum(f => new FileInfo(f).Length);

    /// <summary>The models' shapes and files, for a report.</summary>
    public object ModelJson => new
    {
        name = Name, dtype = Dtype, small = Shape(Small), small_parameters = SmallParameters, small_bytes = SmallBytes,
        large = Large == Small ? "the small model's folder" : Shape(Large),
    };

    /// <summary>The models in a phrase, for a report's text.</summary>
    public string Describe()
    {
        var s = TransformerConfig.Load(Path.Combine(Small, HfCheckpoint.ConfigFileName));
        string small = $"{s.NumLayers} × {s.HiddenSize}, {s.NumHeads} heads, context {s.MaxPositions}, vocabulary {s.VocabSize:N0}, {SmallParameters / 1e6:F1} M parameters, " +
                       $"{SmallBytes / 1e6:F1} MB in {Dtype}";
        if (Large == Small) return $"a {Name}-shaped model with random weights ({small}) that is also the run's teacher";
        var large = TransformerConfig.Load(Path.Combine(Large, HfCheckpoint.ConfigFileName));
        return $"the {Name} generated GPT-2 pair (small model {small}; teacher {large.NumLayers} × {large.HiddenSize})";
    }

    static object Shape(string folder)
    {
        var c = TransformerConfig.Load(Path.Combine(folder, HfCheckpoint.ConfigFileName));
        return new { family = c.Family.ToString().ToLowerInvariant(), layers = c.NumLayers, hidden = c.HiddenSize, heads = c.NumHeads, context = c.MaxPositions, vocab_size = c.VocabSize };
    }

    /// <summary>The tiny setting in <paramref name="folder"/> (created if missing). Deterministic: same files every time.</summary>
    public static FederationSetting Tiny(string folder, string dtype = "F32")
    {
        var corpus = Corpus();
        var tokenizer = Cl100kSubsetTokenizer.Train(corpus, 300);
        var setting = new FederationSetting(folder, TinyName, dtype, small: "small", large: "large");
        using var teacher = HfCheckpoint.Create(new GptShape(Layers: 2, Hidden: 16, Heads: 2, Context: 48).ToConfig(tokenizer.VocabSize, tokenizer), seed: 1);
        HfCheckpoint.Save(teacher, setting.Large, dtype);
        TokenizerFiles.Save(tokenizer, null, setting.Large);
        using var student = StudentBuilder.Build(teacher, [0]);
        HfCheckpoint.Save(student, setting.Small, dtype);
        TokenizerFiles.Save(tokenizer, null, setting.Small);
        setting.WriteData(student, tokenizer, corpus);
        return setting;
    }

    /// <summary>
    /// A GPT-2-small-shaped setting in <paramref name="folder"/>: 12 layers × 768, 12 heads, context 128 and the
    /// vocabulary of the tokenizer in <paramref name="tokenizerDir"/> (GPT-2's: 50,257 tokens, about 124 M parameters,
    /// 500 MB in F32), random weights from <paramref name="seed"/>. The one checkpoint is both the small model clients
    /// download and the teacher: cost does not depend on the weights, the coordinator's evaluation and transfer run at
    /// real size, and no second 500 MB file is written (the coordinator still loads it twice, as it loads any pair).
    /// </summary>
    public static FederationSetting Gpt2Small(string folder, string tokenizerDir, string dtype, int seed)
    {
        var tokenizer = TokenizerLoader.FromFolder(tokenizerDir);
        var setting = new FederationSetting(folder, Gpt2SmallName, dtype, small: "gpt2-small", large: "gpt2-small");
        using var model = HfCheckpoint.Create(GptShape.Gpt2SmallContext128.ToConfig(tokenizer.VocabSize, tokenizer), seed);
        HfCheckpoint.Save(model, setting.Small, dtype);
        TokenizerFiles.Save(tokenizer, tokenizerDir, setting.Small);
        setting.WriteData(model, tokenizer, Corpus());
        return setting;
    }

    static List<string> Corpus() => Enumerable.Range(0, 40)
        .Select(i => i % 2 == 0 ? $"note {i}: the day was lovely. It was great." : $"note {i}: the day was dull. It was terrible.").ToList();

    void WriteData(CausalLM small, ITextTokenizer tokenizer, IReadOnlyList<string> corpus)
    {
        VocabularySize = tokenizer.VocabSize;
        SmallParameters = small.parameters().Sum(p => p.numel());
        File.WriteAllText(EvalTask, Examples(6, 1000));
        File.WriteAllText(PublicLabeled, Examples(6, 2000));
        File.WriteAllText(PublicTexts, string.Join("\n\n", corpus.Take(10)));
    }

    /// <summary><paramref name="count"/> labeled examples as JSON Lines (alternating positive / negative), numbered from <paramref name="offset"/>.</summary>
    public static string Examples(int count, int offset) => string.Join("\n", Enumerable.Range(offset, count).Select(i =>
        JsonSerializer.Serialize(new { text = i % 2 == 0 ? $"a lovely day {i}" : $"a dull day {i}", label = i % 2 == 0 ? "positive" : "negative" })));

    /// <summary>
    /// A validated run over <paramref name="clients"/> with quick settings (soft prompt of 2, one local epoch of batches
    /// of 4, a 2-step transfer; one discrete search iteration), all sampled; <paramref name="change"/> overrides anything.
    /// </summary>
    public RunConfig Config(string mode, IReadOnlyList<string> clients, int rounds = 2, int minClients = 2, Func<RunConfig, RunConfig>? change = null)
    {
        var config = new RunConfig
        {
            Name = $"{Name}-{mode}", Mode = mode, Rounds = rounds, MinClients = minClients, RoundTimeoutSeconds = 120, Clients = clients,
            SmallModel = Small, LargeModel = Large, Preset = "synthetic-sentiment", EvalTask = EvalTask, PublicTexts = PublicTexts,
            PublicLabeled = PublicLabeled, PublicPerLabel = 1,
            Soft = new SoftRunConfig { PromptLength = 2, Epochs = 1, BatchSize = 4, LearningRate = 0.1 },
            Discrete = new DiscreteRunConfig { InitialPrompt = "the day", Iterations = 1, CandidatesPerPosition = 2, LocalBatchSize = 4, PublicPerLabel = 1, QueryBudget = 500 },
            Transfer = new TransferRunConfig { Steps = 2, BatchSize = 4 },
        };
        config = change?.Invoke(config) ?? config;
        return RunConfig.Parse(config.ToJson(), "/");
    }
}
