using System.Text.Json;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Distillation;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// A complete, tiny federation setting written into a folder: a random 2-layer GPT-2 "large" model (hidden 16,
/// context 48) with a tokenizer trained on a small generated corpus, a 1-layer student built from it, the
/// coordinator's held-out set, public texts and a public labeled set (two classes, preset synthetic-sentiment).
/// Untrained models make accuracies meaningless; tests and benchmarks that use it measure the protocol, the state
/// machine, storage and the coordinator's overhead, not learning. A fixture, not part of a federation: it lives beside
/// <c>fedprompt bench federation</c>, which writes one at run time, and the federation tests reference it from here.
/// </summary>
public sealed class TinyFederationSetting
{
    TinyFederationSetting(string folder)
    {
        Folder = Path.GetFullPath(folder);
        Large = Path.Combine(Folder, "large");
        Small = Path.Combine(Folder, "small");
        EvalTask = Path.Combine(Folder, "eval.jsonl");
        PublicLabeled = Path.Combine(Folder, "public.jsonl");
        PublicTexts = Path.Combine(Folder, "public.txt");
    }

    public string Folder { get; }
    public string Large { get; }
    public string Small { get; }
    public string EvalTask { get; }
    public string PublicLabeled { get; }
    public string PublicTexts { get; }
    /// <summary>Size of the pair's (shared) vocabulary.</summary>
    public int VocabularySize { get; private init; }

    /// <summary>Writes the setting into <paramref name="folder"/> (created if missing). Deterministic: same files every time.</summary>
    public static TinyFederationSetting Create(string folder)
    {
        Directory.CreateDirectory(folder);
        var corpus = Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? $"note {i}: the day was lovely. It was great." : $"note {i}: the day was dull. It was terrible.").ToList();
        var tokenizer = Cl100kSubsetTokenizer.Train(corpus, 300);
        var setting = new TinyFederationSetting(folder) { VocabularySize = tokenizer.VocabSize };
        using (var teacher = HfCheckpoint.Create(new GptShape(Layers: 2, Hidden: 16, Heads: 2, Context: 48).ToConfig(tokenizer.VocabSize, tokenizer), seed: 1))
        {
            HfCheckpoint.Save(teacher, setting.Large);
            TokenizerFiles.Save(tokenizer, null, setting.Large);
            using var student = StudentBuilder.Build(teacher, [0]);
            HfCheckpoint.Save(student, setting.Small);
            TokenizerFiles.Save(tokenizer, null, setting.Small);
        }
        File.WriteAllText(setting.EvalTask, Examples(6, 1000));
        File.WriteAllText(setting.PublicLabeled, Examples(6, 2000));
        File.WriteAllText(setting.PublicTexts, string.Join("\n\n", corpus.Take(10)));
        return setting;
    }

    /// <summary><paramref name="count"/> labeled examples as JSON Lines (alternating positive / negative), numbered from <paramref name="offset"/>.</summary>
    public static string Examples(int count, int offset) => string.Join("\n", Enumerable.Range(offset, count).Select(i =>
        JsonSerializer.Serialize(new { text = i % 2 == 0 ? $"a lovely day {i}" : $"a dull day {i}", label = i % 2 == 0 ? "positive" : "negative" })));

    /// <summary>
    /// A validated run over <paramref name="clients"/> with quick settings (soft prompt of 2, one local epoch, a
    /// 2-step transfer; one discrete search iteration), all sampled; <paramref name="change"/> overrides anything.
    /// </summary>
    public RunConfig Config(string mode, IReadOnlyList<string> clients, int rounds = 2, int minClients = 2, Func<RunConfig, RunConfig>? change = null)
    {
        var config = new RunConfig
        {
            Name = $"tiny-{mode}", Mode = mode, Rounds = rounds, MinClients = minClients, RoundTimeoutSeconds = 120, Clients = clients,
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
