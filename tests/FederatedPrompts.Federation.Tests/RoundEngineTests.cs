using FederatedPrompts.Client.Work;
using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Coordinator.Strategies;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// The round engine on a real SQLite file and a <see cref="FakeTimeProvider"/>: deadlines and stragglers, sampling with
/// fraction &lt; 1 (and the same sample after a restart), and the refusals of a DP run; and the client's privacy ledger.
/// </summary>
public class RoundEngineTests : IDisposable
{
    readonly TempFolder _dir = new();
    readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    readonly List<CoordinatorStore> _stores = [];
    static readonly ModelFacts Facts = new("emb-test", HiddenSize: 2, TokenizerIdentity: "tok-test", VocabularySize: 50, MaxPromptLength: 8, MaxVectorNorm: 100);

    public void Dispose()
    {
        foreach (var store in _stores) store.Dispose();
        _dir.Dispose();
    }

    static string[] Clients(int n) => Enumerable.Range(1, n).Select(k => $"client-{k}").ToArray();

    RoundEngine Engine(RunConfig config, string db = "coordinator.db", bool create = true)
    {
        var store = new CoordinatorStore(_dir.Combine(db));
        _stores.Add(store);
        if (create) store.CreateRun("run", config, _time.GetUtcNow());
        var engine = Restarted(store);
        engine.Start(new Dictionary<PromptMode, Prompt> { [PromptMode.Soft] = Prompt(0.5f) });
        return engine;
    }

    /// <summary>An engine on the store's run, as a (re)started coordinator makes it; sampling and configuring clients need no models.</summary>
    RoundEngine Restarted(CoordinatorStore store)
    {
        var models = new Lazy<RunModels>(() => throw new InvalidOperationException("the engine tests load no models"));
        return new RoundEngine(store, "run", FederationStrategies.ForRun(store.GetRun("run")!.Config, models), () => Facts, _time, NullLogger.Instance);
    }

    static SoftPrompt Prompt(float value) => new([value, -value], 1, 2, "emb-test");

    static readonly LocalWorkMetrics Metrics = new(AccuracyBefore: 0.5, AccuracyAfter: 0.75, FinalLoss: 0, Steps: 1, Queries: 0, TokensSent: 0, Seconds: 0.1);

    static (int, int) Upload(RoundEngine engine, string client, float value, DpSpend? privacy = null)
    {
        var task = engine.NextTask(client, "");
        Assert.Equal(TaskAction.Train, task.Action);
        return engine.AcceptUpload(client, "", task.Round, task.Training!.PromptVersion, Prompt(value), 64, 1, Metrics, privacy);
    }

    [Fact]
    public void A_round_waits_for_its_stragglers_until_the_deadline_then_closes_without_them()
    {
        var engine = Engine(new RunConfig { Clients = Clients(3), MinClients = 2, RoundTimeoutSeconds = 60, Rounds = 2 });
        foreach (var client in Clients(3)) engine.Enrol(client, PromptMode.Soft, 4);
        Assert.IsType<EngineStep.Idle>(engine.Step());   // opens collecting from all three
        Upload(engine, "client-1", 0.1f);
        Upload(engine, "client-2", 0.2f);

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.IsType<EngineStep.Idle>(engine.Step());   // client-3 still has a second
        _time.Advance(TimeSpan.FromSeconds(2));
        var aggregate = Assert.IsType<EngineStep.Aggregate>(engine.Step());
        Assert.Equal(["client-1", "client-2"], aggregate.Modes.Single().Updates.Select(u => u.ClientId));

        var late = Assert.Throws<RejectionException>(() => engine.AcceptUpload("client-3", "", 1, "", Prompt(0.3f), 64, 1, Metrics, null));
        Assert.Equal(RejectionKind.WrongState, late.Kind);
        Assert.Contains("round 1 is closed to updates; the current round is 1 (aggregating)", late.Message);
    }

    [Fact]
    public void Past_the_deadline_below_the_quorum_the_round_keeps_collecting()
    {
        var engine = Engine(new RunConfig { Clients = Clients(3), MinClients = 2, RoundTimeoutSeconds = 60 });
        foreach (var client in Clients(3)) engine.Enrol(client, PromptMode.Soft, 4);
        engine.Step();
        Upload(engine, "client-1", 0.1f);
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.IsType<EngineStep.Idle>(engine.Step());   // one update of the two it needs
        Upload(engine, "client-3", 0.3f);
        Assert.Equal(2, Assert.IsType<EngineStep.Aggregate>(engine.Step()).Modes.Single().Updates.Count);
    }

    /// <summary>max(min_clients 2, ⌈0.3 · 10⌉) = 3 of 10 clients, a seeded choice per round that a restarted engine makes again.</summary>
    [Fact]
    public void A_fraction_samples_a_seeded_subset_that_a_restart_repeats()
    {
        var config = new RunConfig { Clients = Clients(10), MinClients = 2, Fraction = 0.3, Rounds = 3, Seed = 7 };
        var engine = Engine(config);
        foreach (var client in Clients(10)) engine.Enrol(client, PromptMode.Soft, 4);
        engine.Step();
        var sampled = Clients(10).Where(c => engine.NextTask(c, "").Action == TaskAction.Train).ToList();
        Assert.Equal(3, sampled.Count);
        Assert.All(Clients(10).Except(sampled), c => Assert.Contains("not sampled in round 1", engine.NextTask(c, "").Reason));

        var restarted = Restarted(_stores[0]);   // same store: a coordinator restart
        Assert.Equal(sampled, Clients(10).Where(c => restarted.NextTask(c, "").Action == TaskAction.Train));
        var other = Engine(config with { Seed = 8 }, db: "other.db");
        foreach (var client in Clients(10)) other.Enrol(client, PromptMode.Soft, 4);
        other.Step();
        Assert.Equal(3, Clients(10).Count(c => other.NextTask(c, "").Action == TaskAction.Train));
    }

    [Fact]
    public void A_dp_run_refuses_updates_without_a_spend_clipped_elsewhere_or_over_budget()
    {
        var engine = Engine(new RunConfig { Clients = Clients(2), MinClients = 2, Soft = new SoftRunConfig { Dp = new DpRunConfig(ClipNorm: 1, Epsilon: 8) } });
        foreach (var client in Clients(2)) engine.Enrol(client, PromptMode.Soft, 4);
        engine.Step();
        DpSpend Spend(double clip = 1, double total = 3) => new(ClipNorm: clip, NoiseMultiplier: 1.1, SampleRate: 0.25, Steps: 4, Delta: 0.25, EpsilonRound: 1.5, EpsilonTotal: total);
        string Refusal(DpSpend? spend) => Assert.Throws<RejectionException>(() => Upload(engine, "client-1", 0.1f, spend)).Message;

        Assert.Contains("requires DP-SGD; the update reports no privacy spend", Refusal(null));
        Assert.Contains("clipped at 2, not the run's clip norm 1", Refusal(Spend(clip: 2)));
        Assert.Contains("spent ε = 9, over the run's budget of 8", Refusal(Spend(total: 9)));
        Assert.Contains("privacy spend is not valid", Refusal(Spend(total: double.NaN)));
        Assert.Equal(1, Upload(engine, "client-1", 0.1f, Spend()).Item2);
    }

    /// <summary>
    /// A hybrid run: two soft and two discrete clients. The round opens once each mode has min_clients, samples both,
    /// hands each client its own mode's global prompt and work, refuses a prompt of the other mode, and hands the worker
    /// one batch of updates per mode. After the last round the token prompt is published as it is and the soft one waits
    /// for POST's transfer; the run finishes once that is in.
    /// </summary>
    [Fact]
    public void A_hybrid_round_serves_each_mode_its_prompt_and_strategy_and_only_the_soft_prompt_is_transferred()
    {
        var config = new RunConfig { Mode = "hybrid", Clients = Clients(4), MinClients = 2, Rounds = 1, Discrete = new DiscreteRunConfig { QueryBudget = 50 } };
        var store = new CoordinatorStore(_dir.Combine("hybrid.db"));
        _stores.Add(store);
        store.CreateRun("run", config, _time.GetUtcNow());
        var engine = Restarted(store);
        var tokens = new DiscretePrompt([3, 4], "tok-test", "a b");
        engine.Start(new Dictionary<PromptMode, Prompt> { [PromptMode.Soft] = Prompt(0.5f), [PromptMode.Discrete] = tokens });
        engine.Enrol("client-1", PromptMode.Soft, 4);
        engine.Enrol("client-2", PromptMode.Soft, 4);
        engine.Enrol("client-3", PromptMode.Discrete, 4);
        engine.Step();
        Assert.Equal("round 1 waits for 1 more discrete-mode clients to enrol", engine.NextTask("client-1", "").Reason);
        engine.Enrol("client-4", PromptMode.Discrete, 4);
        Assert.Contains("the mode is fixed at the first enrolment", Assert.Throws<RejectionException>(() => engine.Enrol("client-4", PromptMode.Soft, 4)).Message);
        engine.Step();

        var softTask = engine.NextTask("client-1", "").Training!;
        var tokenTask = engine.NextTask("client-3", "").Training!;
        Assert.IsType<SoftPrompt>(softTask.GlobalPrompt);
        Assert.IsType<LocalWork.Soft>(softTask.Work);
        Assert.Equal([3, 4], ((DiscretePrompt)tokenTask.GlobalPrompt).TokenIds);
        Assert.Equal(50, Assert.IsType<LocalWork.Discrete>(tokenTask.Work).Settings.QueryBudget);
        Assert.Equal(PromptCodec.Version(tokens), tokenTask.PromptVersion);
        Assert.Contains("expected a discrete prompt from client-3, got a soft prompt",
            Assert.Throws<RejectionException>(() => engine.AcceptUpload("client-3", "", 1, tokenTask.PromptVersion, Prompt(0.1f), 64, 1, Metrics, null)).Message);
        Assert.Contains("client client-1 tunes soft prompts", Assert.Throws<RejectionException>(() => engine.ChargeQueries("client-1", "", 1)).Message);
        Assert.Equal((1, 1L), engine.ChargeQueries("client-3", "", 1));

        Upload(engine, "client-1", 0.1f);
        Upload(engine, "client-2", 0.2f);
        foreach (var (client, ids) in new[] { ("client-3", new[] { 3, 5 }), ("client-4", new[] { 6, 4 }) })
            engine.AcceptUpload(client, "", 1, tokenTask.PromptVersion, new DiscretePrompt(ids, "tok-test", "the client's text"), 20, 4, Metrics, null);
        var due = Assert.IsType<EngineStep.Aggregate>(engine.Step());
        Assert.Equal([(PromptMode.Soft, 2), (PromptMode.Discrete, 2)], due.Modes.Select(m => (m.Mode, m.Updates.Count)));
        Assert.All(due.Modes[1].Updates, u => Assert.Null(((DiscretePrompt)u.Prompt).Text));   // stored without the client's decoding

        var softOut = Prompt(0.15f);
        var tokensOut = new DiscretePrompt([3, 4, 5], "tok-test", "a b c");
        engine.CompleteRound(1, [new ModeOutcome(PromptMode.Soft, softOut, 0.75, "{}"), new ModeOutcome(PromptMode.Discrete, tokensOut, 0.625, "{}")]);
        Assert.Equal(RunState.Transferring, engine.State);
        Assert.Equal([PromptMode.Discrete], store.Results("run").Select(r => r.Mode));
        var transfer = Assert.IsType<EngineStep.Transfer>(engine.Step());
        Assert.Equal(PromptMode.Soft, transfer.Mode);
        engine.CompleteTransfer(PromptMode.Soft, Prompt(0.3f), "{\"alpha\": 0.5}");
        Assert.Equal(RunState.Finished, engine.State);
        Assert.Equal([(PromptMode.Soft, "{\"alpha\": 0.5}"), (PromptMode.Discrete, null)], store.Results("run").Select(r => (r.Mode, r.TransferJson)));
        Assert.Equal("a b c", ((DiscretePrompt)store.Results("run")[1].Prompt).Text);
    }

    /// <summary>
    /// Two rounds of (q 0.01, σ 1, 500 steps) compose to the 1,000 steps of the reference case in PrivacyCommandTests:
    /// ε = 2.10136527 at δ = 1e-5. The ledger is on disk before training, is read back by a restarted client, and a ledger
    /// of another run starts empty.
    /// </summary>
    [Fact]
    public void The_client_ledger_composes_its_rounds_and_survives_a_restart()
    {
        string state = _dir.Combine("state");
        var ledger = new PrivacyLedger(state, "run-a");
        ledger.Record(new LedgerEntry(1, 0.01, 1.0, 500, 1e-5));
        Assert.Equal(2.10136527, ledger.Epsilon(1e-5, extra: new LedgerEntry(2, 0.01, 1.0, 500, 1e-5)), 5);
        ledger.Record(new LedgerEntry(2, 0.01, 1.0, 500, 1e-5));

        var reopened = new PrivacyLedger(state, "run-a");
        Assert.Equal([1, 2], reopened.Entries.Select(e => e.Round));
        Assert.Equal(2.10136527, reopened.Epsilon(1e-5), 5);
        Assert.Empty(new PrivacyLedger(state, "run-b").Entries);
    }

    /// <summary>
    /// Issue #16: a ledger of a PRV run composes with PRV (σ 1, q 0.01, 1,000 steps: below RDP's 2.10 at δ = 1e-5), a
    /// ledger file written before entries named their accountant reads back as RDP, and one that mixes both composes
    /// with RDP, an upper bound for any mix.
    /// </summary>
    [Fact]
    public void The_client_ledger_composes_with_the_accountant_its_entries_name()
    {
        var prv = new PrivacyLedger(_dir.Combine("prv"), "run");
        prv.Record(new LedgerEntry(1, 0.01, 1.0, 500, 1e-5, Post.Privacy.AccountantKind.Prv));
        prv.Record(new LedgerEntry(2, 0.01, 1.0, 500, 1e-5, Post.Privacy.AccountantKind.Prv));
        double tight = new PrivacyLedger(_dir.Combine("prv"), "run").Epsilon(1e-5);
        Assert.Equal(Post.Privacy.PrvAccountant.Epsilon(0.01, 1.0, 1000, 1e-5).Upper, tight, 12);
        Assert.True(tight < 2.10136527 - 0.1, $"PRV ε {tight} against RDP's 2.101");

        Directory.CreateDirectory(_dir.Combine("old"));
        _dir.Write("old/privacy-ledger.json", """{"RunId":"run","Entries":[{"Round":1,"SampleRate":0.01,"NoiseMultiplier":1.0,"Steps":1000,"Delta":1e-5}]}""");
        var old = new PrivacyLedger(_dir.Combine("old"), "run");
        Assert.Equal(Post.Privacy.AccountantKind.Rdp, old.Entries[0].Accountant);
        Assert.Equal(2.10136527, old.Epsilon(1e-5), 5);
        var mixed = prv.Epsilon(1e-5, extra: new LedgerEntry(3, 0.01, 1.0, 1, 1e-5, Post.Privacy.AccountantKind.Rdp));
        Assert.Equal(Post.Privacy.RdpAccountant.Epsilon(0.01, 1.0, 1001, 1e-5).Epsilon, mixed, 12);
    }
}
