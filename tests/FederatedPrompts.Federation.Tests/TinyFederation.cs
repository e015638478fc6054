using System.Text.Json;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Distillation;
using FederatedPrompts.Protocol.Security;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// A complete, tiny federation setting on disk: a random 2-layer GPT-2 "large" model with a tokenizer trained on a
/// small corpus, a 1-layer student built from it, a two-class task split over three clients, the coordinator's
/// held-out set, public texts and a public labeled set. Untrained models make the numbers meaningless; the tests
/// check the protocol, the state machine and the storage, not accuracy.
/// </summary>
public sealed class TinyFederation : IDisposable
{
    readonly TempFolder _dir = new();
    public static readonly string[] Clients = ["client-1", "client-2", "client-3"];

    public TinyFederation()
    {
        var corpus = Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? $"note {i}: the day was lovely. It was great." : $"note {i}: the day was dull. It was terrible.").ToList();
        var tokenizer = Cl100kSubsetTokenizer.Train(corpus, 300);
        Large = _dir.Combine("large");
        Small = _dir.Combine("small");
        using (var teacher = HfCheckpoint.Create(new GptShape(Layers: 2, Hidden: 16, Heads: 2, Context: 48).ToConfig(tokenizer.VocabSize, tokenizer), seed: 1))
        {
            HfCheckpoint.Save(teacher, Large);
            TokenizerFiles.Save(tokenizer, null, Large);
            using var student = StudentBuilder.Build(teacher, [0]);
            HfCheckpoint.Save(student, Small);
            TokenizerFiles.Save(tokenizer, null, Small);
        }
        string Examples(int count, int offset) => string.Join("\n", Enumerable.Range(offset, count).Select(i =>
            JsonSerializer.Serialize(new { text = i % 2 == 0 ? $"a lovely day {i}" : $"a dull day {i}", label = i % 2 == 0 ? "positive" : "negative" })));
        ClientData = Clients.Select((c, k) => _dir.Write($"{c}.jsonl", Examples(6 + k, 100 * k))).ToArray();
        EvalTask = _dir.Write("eval.jsonl", Examples(6, 1000));
        PublicLabeled = _dir.Write("public.jsonl", Examples(6, 2000));
        PublicTexts = _dir.Write("public.txt", string.Join("\n\n", corpus.Take(10)));
    }

    public string Large { get; }
    public string Small { get; }
    public string[] ClientData { get; }
    public string EvalTask { get; }
    public string PublicLabeled { get; }
    public string PublicTexts { get; }

    public TaskDataset Data(int client) => TaskFile.Load(ClientData[client]);

    /// <summary>A run of <paramref name="rounds"/> rounds over all three clients, quick settings, any overrides applied.</summary>
    public RunConfig Config(string mode, int rounds = 2, Func<RunConfig, RunConfig>? change = null)
    {
        var config = new RunConfig
        {
            Name = $"tiny-{mode}", Mode = mode, Rounds = rounds, MinClients = 2, RoundTimeoutSeconds = 120, Clients = Clients,
            SmallModel = Small, LargeModel = Large, Preset = "synthetic-sentiment", EvalTask = EvalTask, PublicTexts = PublicTexts,
            PublicLabeled = PublicLabeled, PublicPerLabel = 1,
            Soft = new SoftRunConfig { PromptLength = 2, Epochs = 1, BatchSize = 4, LearningRate = 0.1 },
            Discrete = new DiscreteRunConfig { InitialPrompt = "the day", Iterations = 1, CandidatesPerPosition = 2, LocalBatchSize = 4, PublicPerLabel = 1, QueryBudget = 500 },
            Transfer = new TransferRunConfig { Steps = 2, BatchSize = 4 },
        };
        config = change?.Invoke(config) ?? config;
        return RunConfig.Parse(config.ToJson(), "/");
    }

    public string Combine(string name) => _dir.Combine(name);

    /// <summary>The federation's CA; certificates for the coordinator, the operator and each client come from it.</summary>
    public CertificateAuthority Ca { get; } = CertificateAuthority.Create("Tiny federation CA");

    public CoordinatorCredentials CoordinatorTls => new(Ca.IssueServer("coordinator"), Ca.Certificate);

    public ClientCredentials Tls(string identity) => new(Ca.IssueClient(identity), Ca.Certificate);

    public void Dispose()
    {
        Ca.Dispose();
        _dir.Dispose();
    }
}
