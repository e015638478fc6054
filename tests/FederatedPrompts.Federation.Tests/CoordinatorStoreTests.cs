using System.Text.Json;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Coordinator.Strategies;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Protocol.V1;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// The store's own format and its versions, on real SQLite files: a database written by schema 1 (the committed fixture,
/// made by the coordinator of commit 0306e98: a finished discrete run with inference queries, and a soft DP run with
/// strategy median in round 2 with one of two updates in) is migrated to the current schema, reads back exactly what was
/// stored, and its unfinished run continues; a database from a newer schema is refused; prompts encode and version stably.
/// </summary>
public class CoordinatorStoreTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    const string Model = "emb-50x2:0123456789abcdef", Tokenizer = "bpe-50:fedcba9876543210";
    static readonly ModelFacts Facts = new(Model, HiddenSize: 2, TokenizerIdentity: Tokenizer, VocabularySize: 50, MaxPromptLength: 8, MaxVectorNorm: 100);
    static SoftPrompt Soft(float a, float b) => new([a, b], 1, 2, Model);

    string Schema1Copy()
    {
        string path = _dir.Combine("coordinator.db");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "coordinator-schema1.db"), path);
        return path;
    }

    [Fact]
    public void A_schema_1_database_is_migrated_reads_back_what_was_stored_and_its_run_continues()
    {
        string path = Schema1Copy();
        using var store = new CoordinatorStore(path);
        Assert.Equal("2", Meta(path, "schema_version"));

        var tokens = store.GetRun("tokens-1")!;
        Assert.Equal((RunState.Finished, 1, "feddtpt"), (tokens.State, tokens.CurrentRound, tokens.Config.StrategyFor(PromptMode.Discrete)));
        var round = Assert.Single(store.Rounds("tokens-1"));
        var part = round.Modes[PromptMode.Discrete];
        Assert.Equal((RoundState.Closed, 0.625), (round.State, part.Accuracy!.Value));
        Assert.Equal([7, 8], ((DiscretePrompt)part.PromptIn).TokenIds);
        Assert.Equal([7, 9, 3], ((DiscretePrompt)part.PromptOut!).TokenIds);
        Assert.Equal("{\"aggregation\":{\"prompt_length\":3}}", part.NotesJson);
        var updates = store.AllUpdates("tokens-1");
        Assert.Equal(["org-a", "org-b"], updates.Select(u => u.ClientId));
        Assert.Equal([11, 8, 3], ((DiscretePrompt)updates[1].Prompt).TokenIds);
        Assert.Equal(new LocalWorkMetrics(0.5, 0.75, 0.25, 3, 12, 96, 1.5), updates[0].Metrics);
        var wire = new PromptValue { Discrete = new DiscretePromptValue { TokenizerIdentity = Tokenizer, TokenIds = { 7, 9 } } };
        Assert.Equal(wire.CalculateSize(), updates[0].Bytes);   // schema 1 kept the wire bytes, so their size is the upload's
        var result = Assert.Single(store.Results("tokens-1"));
        Assert.Equal((PromptMode.Discrete, null), (result.Mode, result.TransferJson));
        Assert.Equal([7, 9, 3], ((DiscretePrompt)result.Prompt).TokenIds);
        Assert.Equal(new Dictionary<string, long> { ["org-a"] = 12, ["org-b"] = 30 }, store.QueriesPerClient("tokens-1"));
        Assert.All(store.Clients("tokens-1"), c => Assert.Equal(PromptMode.Discrete, c.Mode));

        var soft = store.LatestRun()!;
        Assert.Equal(("soft-2", RunState.Running, 2, "median"), (soft.RunId, soft.State, soft.CurrentRound, soft.Config.StrategyFor(PromptMode.Soft)));
        Assert.Equal([(PromptMode.Soft, 10), (PromptMode.Soft, 30)], store.Clients("soft-2").Select(c => (c.Mode, c.ExampleCount)));
        var spends = store.AllUpdates("soft-2").Select(u => u.Privacy!.EpsilonTotal);
        Assert.Equal([1.5, 1.5, 3.0], spends);
        Assert.Equal(new DpSpend(1, 1.1, 0.25, 4, 0.05, 1.5, 3.0), store.Updates("soft-2", 2).Single().Privacy);

        // The coordinator resumes the soft run: round 2 goes on from round 1's global prompt, and its strategy (median) aggregates it.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var strategies = FederationStrategies.ForRun(soft.Config, new Lazy<RunModels>(() => throw new InvalidOperationException("no models here")));
        var engine = new RoundEngine(store, "soft-2", strategies, () => Facts, time, NullLogger.Instance);
        var task = engine.NextTask("org-a", "");
        Assert.Equal(TaskAction.Train, task.Action);
        Assert.Equal(Soft(0.625f, -0.625f).Values.ToArray(), ((SoftPrompt)task.Training!.GlobalPrompt).Values.ToArray());
        Assert.Equal(PromptCodec.Version(Soft(0.625f, -0.625f)), task.Training.PromptVersion);
        Assert.Equal(TaskAction.Wait, engine.NextTask("org-b", "").Action);   // its round-2 update is in
        engine.AcceptUpload("org-a", "", 2, task.Training.PromptVersion, Soft(0.5f, -0.5f), 40, 10, new LocalWorkMetrics(0.5, 0.6, 0.1, 4, 0, 0, 1),
            new DpSpend(1, 1.1, 0.25, 4, 0.05, 1.5, 3.0));
        var due = Assert.IsType<EngineStep.Aggregate>(engine.Step()).Modes.Single();
        var median = strategies[PromptMode.Soft].Aggregate(2, due.PromptIn, due.Updates);
        Assert.Equal([0.75f, -0.75f], ((SoftPrompt)median.GlobalPrompt).Values.ToArray());
    }

    /// <summary>
    /// The fixture's files (/data/eval.jsonl, /models/student, ...) do not exist here. Its running run needs them, and the
    /// coordinator refuses to start, naming the first one missing; once that run is over (failed), the coordinator starts,
    /// reports and never loads a model.
    /// </summary>
    [Fact]
    public async Task Only_a_run_that_needs_its_models_loads_them()
    {
        string path = Schema1Copy();
        var options = new CoordinatorOptions { Transport = new CoordinatorTransport(new Uri("http://127.0.0.1:0"), null, Insecure: true), Database = path };
        var refused = Assert.ThrowsAny<IOException>(() => CoordinatorHost.Create(options, logs => logs.ClearProviders()));
        Assert.Contains("/data/eval.jsonl", refused.Message);

        using (var store = new CoordinatorStore(path)) store.SetRunState("soft-2", RunState.Failed, 2, "stopped by the operator");
        await using var host = CoordinatorHost.Create(options, logs => logs.ClearProviders());
        var run = host.Runs.Current!;
        var report = JsonDocument.Parse(RunReport.Json(run.Engine.Snapshot(), host.Runs.Store)).RootElement;
        Assert.Equal(("failed", "median"), (report.GetProperty("state").GetString(), report.GetProperty("modes").GetProperty("soft").GetProperty("strategy").GetString()));
        Assert.Equal(3, report.GetProperty("rounds")[0].GetProperty("modes").GetProperty("soft").GetProperty("uploads").GetInt32() +
                        report.GetProperty("rounds")[1].GetProperty("modes").GetProperty("soft").GetProperty("uploads").GetInt32());
        Assert.False(run.Models.IsValueCreated);
    }

    [Fact]
    public void A_database_from_a_newer_schema_is_refused_and_left_as_it_is()
    {
        string path = _dir.Combine("newer.db");
        new CoordinatorStore(path).Dispose();
        SetMeta(path, "schema_version", "3");
        var error = Assert.Throws<InvalidDataException>(() => new CoordinatorStore(path));
        Assert.Contains("schema version 3, newer than the 2 this fedprompt reads", error.Message);
        Assert.Equal("3", Meta(path, "schema_version"));
    }

    [Fact]
    public void Prompts_encode_to_stable_bytes_and_versions_and_bad_bytes_are_refused()
    {
        var soft = Soft(0.25f, -1.5f);
        var tokens = new DiscretePrompt([5, 7, 9], Tokenizer, "a b c");
        foreach (Prompt prompt in new Prompt[] { soft, tokens, new DiscretePrompt([5], Tokenizer) })
        {
            var back = PromptCodec.Decode(PromptCodec.Encode(prompt));
            Assert.Equal(PromptCodec.Encode(prompt), PromptCodec.Encode(back));
            Assert.Equal(prompt.Mode, back.Mode);
        }
        Assert.Equal("a b c", ((DiscretePrompt)PromptCodec.Decode(PromptCodec.Encode(tokens))).Text);
        Assert.Equal(PromptCodec.Version(Soft(0.25f, -1.5f)), PromptCodec.Version(soft));
        Assert.NotEqual(PromptCodec.Version(Soft(0.25f, -1.5000001f)), PromptCodec.Version(soft));
        Assert.Matches("^[0-9a-f]{64}$", PromptCodec.Version(soft));

        var bytes = PromptCodec.Encode(soft);
        Assert.Contains("cannot be read", Assert.Throws<InvalidDataException>(() => PromptCodec.Decode(bytes[..^1])).Message);
        Assert.Contains("1 bytes after the prompt", Assert.Throws<InvalidDataException>(() => PromptCodec.Decode([.. bytes, 0])).Message);
        Assert.Contains("unknown prompt kind", Assert.Throws<InvalidDataException>(() => PromptCodec.Decode([(byte)'X', .. bytes[1..]])).Message);
    }

    static string? Meta(string path, string key)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    static void SetMeta(string path, string key, string value)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE meta SET value = $value WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        Assert.Equal(1, command.ExecuteNonQuery());
    }
}
