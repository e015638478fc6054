using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Coordinator.Strategies;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Rounds;

/// <summary>One mode's part of a round due for aggregation: the global prompt it started from and its accepted updates.</summary>
public sealed record ModeUpdates(PromptMode Mode, Prompt PromptIn, IReadOnlyList<UpdateRecord> Updates);

/// <summary>One mode's result of a round: the new global prompt, its held-out accuracy, and notes for the report (JSON).</summary>
public sealed record ModeOutcome(PromptMode Mode, Prompt PromptOut, double Accuracy, string NotesJson);

/// <summary>Heavy work the engine has decided is due; the <see cref="RoundWorker"/> does it and reports back.</summary>
public abstract record EngineStep
{
    public sealed record Idle : EngineStep;
    public sealed record Aggregate(int Round, IReadOnlyList<ModeUpdates> Modes) : EngineStep;
    /// <summary>The final global prompt of <paramref name="Mode"/> is to be transferred to the large model before it is published.</summary>
    public sealed record Transfer(PromptMode Mode, Prompt GlobalPrompt) : EngineStep;
}

public sealed record RunSnapshot(RunRecord Run, IReadOnlyList<RoundRecord> Rounds, IReadOnlyList<ClientRecord> Clients, IReadOnlyList<UpdateRecord> Updates)
{
    public int UploadsIn(int round) => Updates.Count(u => u.Round == round);
}

/// <summary>
/// A run as the operator watches it (status, dashboard, metrics): rounds, clients with their liveness, and per round and
/// per client what was uploaded, read without decoding any update's prompt, so its cost grows with rounds and clients,
/// not with the updates stored.
/// </summary>
public sealed record RunOverview(RunRecord Run, IReadOnlyList<RoundRecord> Rounds, IReadOnlyList<ClientRecord> Clients,
    IReadOnlyList<RoundUploads> RoundUploads, IReadOnlyList<ClientUploads> ClientUploads)
{
    public int UploadsIn(int round, PromptMode? mode = null) =>
        RoundUploads.Where(u => u.Round == round && (mode is null || u.Mode == mode)).Sum(u => u.Count);
}

/// <summary>
/// The round state machine of one run, over the durable store: open (waiting for enough enrolled clients) →
/// collecting (the run's strategies sample clients, who train; uploads are validated and stored) → aggregating → closed,
/// then the next round opens from the new global prompts; after the last round a prompt whose strategy transfers it
/// (POST) is transferred to the large model, then the run finishes. A hybrid run has clients of both modes: each mode
/// has its own global prompt and strategy, and a round samples, collects and aggregates both. Decisions are made under
/// one lock and written before they are acknowledged, so a restarted coordinator continues from the store (a round
/// found aggregating is aggregated again from its stored updates). The engine also keeps the current round, who has
/// uploaded to it and the enrolled clients in memory (written to the store first, then here), so a poll or an upload
/// costs O(1) reads however many clients there are. Liveness (last seen, activity) is kept in memory and written to the
/// store in one transaction at most every <see cref="SeenFlushInterval"/>: it is informational, and a synchronous commit
/// per poll is what capped uploads/s.
/// </summary>
public sealed class RoundEngine
{
    readonly CoordinatorStore _store;
    readonly IReadOnlyDictionary<PromptMode, FederationStrategy> _strategies;
    readonly Func<ModelFacts> _facts;
    readonly TimeProvider _time;
    readonly ILogger _log;
    readonly Lock _gate = new();
    readonly Dictionary<string, int> _admitted;
    readonly Dictionary<string, ClientRecord> _enrolled;
    readonly HashSet<string> _uploaded = new(StringComparer.Ordinal);
    /// <summary>The version of every accepted soft update → who uploaded it in which round, to refuse verbatim replays.</summary>
    readonly Dictionary<string, (string Client, int Round)> _softUpdateVersions = new(StringComparer.Ordinal);
    readonly Dictionary<string, (DateTimeOffset At, string Activity)> _seen = new(StringComparer.Ordinal);
    /// <summary><see cref="PromptCodec.Version"/> of the current round's global prompt of each mode.</summary>
    readonly Dictionary<PromptMode, string> _roundPromptVersions = [];
    RunRecord _run;
    RoundRecord? _round;
    DateTimeOffset _seenFlushedAt;
    bool _quorumWarned;

    public static readonly TimeSpan SeenFlushInterval = TimeSpan.FromSeconds(5);

    /// <param name="strategies">One per mode of the run.</param>
    /// <param name="facts">What uploads are checked against; asked for at the first upload (it may load the models).</param>
    public RoundEngine(CoordinatorStore store, string runId, IReadOnlyDictionary<PromptMode, FederationStrategy> strategies, Func<ModelFacts> facts,
        TimeProvider time, ILogger log)
    {
        _store = store;
        _strategies = strategies;
        _facts = facts;
        _time = time;
        _log = log;
        _run = store.GetRun(runId) ?? throw new ArgumentException($"no run {runId} in {store.Path}");
        if (!Config.Modes.Order().SequenceEqual(strategies.Keys.Order()))
            throw new ArgumentException($"run {runId} has modes {string.Join(", ", Config.Modes)} but strategies for {string.Join(", ", strategies.Keys)}");
        _admitted = _run.Config.Clients.Select((id, index) => (id, index)).ToDictionary(p => p.id, p => p.index, StringComparer.Ordinal);
        _enrolled = store.Clients(runId).ToDictionary(c => c.ClientId, StringComparer.Ordinal);
        _seenFlushedAt = time.GetUtcNow();
        foreach (var update in store.AllUpdates(runId).Where(u => u.Mode == PromptMode.Soft))
            _softUpdateVersions.TryAdd(PromptCodec.Version(update.Prompt), (update.ClientId, update.Round));
        Reload();
    }

    public string RunId => _run.RunId;
    public RunConfig Config => _run.Config;
    public RunState State { get { lock (_gate) return _run.State; } }

    DateTimeOffset Now => _time.GetUtcNow();

    // ------------------------------------------------------------------ run lifecycle (operator, worker)

    /// <summary>Opens round 1 from each mode's initial global prompt; a no-op for a run already started.</summary>
    public void Start(IReadOnlyDictionary<PromptMode, Prompt> initialPrompts)
    {
        lock (_gate)
        {
            if (_run.State != RunState.Created) return;
            _store.OpenRound(RunId, 1, Config.Modes.ToDictionary(m => m, m => initialPrompts[m]), Now);
            Reload();
            _log.LogInformation("run {Run}: round 1 open, waiting for {Min} enrolled clients{PerMode}", RunId, Config.MinClients,
                Config.Modes.Count > 1 ? " of each mode" : "");
        }
    }

    /// <summary>Advances the state machine by what time and uploads allow, and returns the heavy work now due.</summary>
    public EngineStep Step()
    {
        lock (_gate)
        {
            FlushSeenIfDue();
            if (_run.State == RunState.Transferring) return PendingTransfer();
            if (_run.State != RunState.Running) return new EngineStep.Idle();
            var round = CurrentRound();
            switch (round.State)
            {
                case RoundState.Open:
                    if (Config.Modes.All(m => EnrolledIn(m).Count >= Config.MinClients))
                    {
                        var sampled = Config.Modes.SelectMany(m => Sample(m, round.Round)).Order(StringComparer.Ordinal).ToList();
                        _store.StartCollecting(RunId, round.Round, sampled, Now.AddSeconds(Config.RoundTimeoutSeconds));
                        ReloadRound();
                        _quorumWarned = false;
                        _log.LogInformation("run {Run}: round {Round} collecting from {Clients}", RunId, round.Round, string.Join(", ", sampled));
                    }
                    return new EngineStep.Idle();
                case RoundState.Collecting:
                    bool everyone = _uploaded.Count == round.Sampled.Count, late = Now >= round.Deadline;
                    bool quorum = Config.Modes.All(m => UploadsIn(m) >= Config.MinClients);
                    if (!everyone && !(late && quorum))
                    {
                        if (late && !_quorumWarned)
                            _log.LogWarning("run {Run}: round {Round} passed its deadline with {Uploads} updates, fewer than the {Min} it needs{PerMode}; still collecting",
                                RunId, round.Round, _uploaded.Count, Config.MinClients, Config.Modes.Count > 1 ? " of each mode" : "");
                        _quorumWarned |= late;
                        return new EngineStep.Idle();
                    }
                    _store.SetRoundState(RunId, round.Round, RoundState.Aggregating);
                    ReloadRound();
                    _log.LogInformation("run {Run}: round {Round} aggregating {Uploads} updates of {Sampled} sampled", RunId, round.Round, _uploaded.Count, round.Sampled.Count);
                    return Aggregation(round);
                case RoundState.Aggregating:
                    return Aggregation(round);
                default:   // closed, but the next round was not opened (a crash between the two writes)
                    AfterClose(round.Round);
                    return new EngineStep.Idle();
            }
        }
    }

    EngineStep.Aggregate Aggregation(RoundRecord round)
    {
        var updates = _store.Updates(RunId, round.Round);
        return new(round.Round, Config.Modes.Select(m => new ModeUpdates(m, round.Modes[m].PromptIn, updates.Where(u => u.Mode == m).ToList())).ToList());
    }

    /// <summary>The clients of <paramref name="mode"/> its strategy samples for the round (checked: enrolled clients of that mode, each once).</summary>
    IReadOnlyList<string> Sample(PromptMode mode, int round)
    {
        var enrolled = EnrolledIn(mode);
        var sampled = _strategies[mode].SampleClients(enrolled, round);
        if (sampled.Count == 0 || sampled.Distinct().Count() != sampled.Count || sampled.Except(enrolled).Any())
            throw new InvalidOperationException($"strategy {_strategies[mode].Name} sampled [{string.Join(", ", sampled)}]: not distinct enrolled {Prompt.NameOf(mode)}-mode clients");
        return sampled;
    }

    /// <summary>Stores round <paramref name="round"/>'s results (one per mode) and opens the next round, or moves to transfer / finished.</summary>
    /// <summary>Stores the round's outcomes, closes it and opens the next (or ends the rounds); returns the round as closed.</summary>
    public RoundRecord CompleteRound(int round, IReadOnlyList<ModeOutcome> outcomes)
    {
        lock (_gate)
        {
            var current = CurrentRound();
            if (current.Round != round || current.State != RoundState.Aggregating)
                throw new InvalidOperationException($"round {round} is not the one aggregating (current: {current.Round}, {current.State})");
            if (!outcomes.Select(o => o.Mode).Order().SequenceEqual(Config.Modes.Order()))
                throw new ArgumentException($"round {round} needs one outcome per mode ({string.Join(", ", Config.Modes)})");
            _store.CloseRound(RunId, round, outcomes, Now);
            foreach (var outcome in outcomes)
                _log.LogInformation("run {Run}: round {Round} closed, {Mode} held-out accuracy {Accuracy:P1}", RunId, round, Prompt.NameOf(outcome.Mode), outcome.Accuracy);
            return AfterClose(round);
        }
    }

    RoundRecord AfterClose(int round)
    {
        var closed = _store.GetRound(RunId, round)!;
        if (round < Config.Rounds) _store.OpenRound(RunId, round + 1, closed.Modes.ToDictionary(p => p.Key, p => p.Value.PromptOut!), Now);
        else
        {
            foreach (var mode in Config.Modes.Where(m => !_strategies[m].TransfersAtEnd))
                _store.SetResult(RunId, new RunResult(mode, closed.Modes[mode].PromptOut!, null));
            bool transfers = Config.Modes.Any(m => _strategies[m].TransfersAtEnd);
            _store.SetRunState(RunId, transfers ? RunState.Transferring : RunState.Finished, round);
        }
        Reload();
        return closed;
    }

    EngineStep PendingTransfer()
    {
        var published = _store.Results(RunId).Select(r => r.Mode).ToHashSet();
        var last = _store.GetRound(RunId, Config.Rounds)!;
        return Config.Modes.Where(m => _strategies[m].TransfersAtEnd && !published.Contains(m))
            .Select(m => (EngineStep)new EngineStep.Transfer(m, last.Modes[m].PromptOut!))
            .FirstOrDefault() ?? new EngineStep.Idle();
    }

    /// <summary>Publishes the large model's prompt of <paramref name="mode"/>; the run finishes once every transferring mode has one.</summary>
    public void CompleteTransfer(PromptMode mode, Prompt largePrompt, string transferJson)
    {
        lock (_gate)
        {
            if (_run.State != RunState.Transferring) throw new InvalidOperationException($"run {RunId} is {_run.State}, not transferring");
            _store.SetResult(RunId, new RunResult(mode, largePrompt, transferJson));
            if (PendingTransfer() is EngineStep.Idle)
            {
                _store.SetRunState(RunId, RunState.Finished, _run.CurrentRound);
                _log.LogInformation("run {Run}: finished", RunId);
            }
            Reload();
        }
    }

    public void Fail(string error)
    {
        lock (_gate)
        {
            _store.SetRunState(RunId, RunState.Failed, _run.CurrentRound, error);
            Reload();
        }
    }

    public RunSnapshot Snapshot()
    {
        lock (_gate) return new RunSnapshot(_run, _store.Rounds(RunId), ClientsSeen(), _store.AllUpdates(RunId));
    }

    public RunOverview Overview()
    {
        lock (_gate)
            return new RunOverview(_run, _store.Rounds(RunId), ClientsSeen(), _store.UploadsPerRound(RunId), _store.UploadsPerClient(RunId));
    }

    /// <summary>The enrolled clients with when they were last seen and doing what (kept in memory between flushes); the caller holds the gate.</summary>
    List<ClientRecord> ClientsSeen() =>
        _enrolled.Values.Order(ClientOrder).Select(c => _seen.TryGetValue(c.ClientId, out var seen) ? c with { LastSeen = seen.At, Activity = seen.Activity } : c).ToList();

    // ------------------------------------------------------------------ clients

    public ClientRecord Enrol(string identity, PromptMode mode, int exampleCount)
    {
        lock (_gate)
        {
            RequireAdmitted(identity);
            if (!Config.Has(mode))
                throw new RejectionException(RejectionKind.WrongState, $"run {RunId} is a {Config.Mode}-mode run; client {identity} asked for {Prompt.NameOf(mode)}");
            if (exampleCount < 1 || exampleCount > Config.MaxExampleCount)
                throw new RejectionException(RejectionKind.Invalid, $"example_count must be between 1 and the run's max_example_count {Config.MaxExampleCount}, got {exampleCount}");
            // FedAvg weighs updates by this count and a client could otherwise raise it before every upload.
            if (_enrolled.TryGetValue(identity, out var known) && known.ExampleCount != exampleCount)
                throw new RejectionException(RejectionKind.Invalid,
                    $"client {identity} enrolled with {known.ExampleCount} examples; the count is fixed at the first enrolment, not {exampleCount}");
            // Its sample, task and updates all follow its mode; a switch mid-round would strand them.
            if (known is not null && known.Mode != mode)
                throw new RejectionException(RejectionKind.WrongState,
                    $"client {identity} enrolled in {Prompt.NameOf(known.Mode)} mode; the mode is fixed at the first enrolment, not {Prompt.NameOf(mode)}");
            var client = _store.UpsertClient(RunId, identity, mode, exampleCount, Now);
            _enrolled[identity] = client;
            _seen.Remove(identity);
            _log.LogInformation("run {Run}: client {Client} enrolled ({Mode}) with {Count} examples", RunId, identity, Prompt.NameOf(mode), exampleCount);
            return client;
        }
    }

    public ClientTask NextTask(string identity, string runId)
    {
        lock (_gate)
        {
            var client = RequireEnrolled(identity, runId);
            Seen(identity, "asking for work");
            ClientTask Wait(string reason) => new(TaskAction.Wait, _run.CurrentRound, reason);
            switch (_run.State)
            {
                case RunState.Created: return Wait("the run has not been started");
                case RunState.Transferring or RunState.Finished: return new(TaskAction.Finished, _run.CurrentRound, "all rounds are done");
                case RunState.Failed: return new(TaskAction.Finished, _run.CurrentRound, $"the run failed: {_run.Error}");
            }
            var round = CurrentRound();
            if (round.State == RoundState.Open)
                return Wait($"round {round.Round} waits for " + string.Join(" and ", Config.Modes.Where(m => EnrolledIn(m).Count < Config.MinClients)
                    .Select(m => $"{Config.MinClients - EnrolledIn(m).Count} more {(Config.Modes.Count > 1 ? Prompt.NameOf(m) + "-mode " : "")}clients")) + " to enrol");
            if (round.State != RoundState.Collecting) return Wait($"round {round.Round} is {round.State.ToString().ToLowerInvariant()}");
            if (!round.Sampled.Contains(identity)) return Wait($"not sampled in round {round.Round}");
            if (_uploaded.Contains(identity)) return Wait($"the update for round {round.Round} is in");
            var work = _strategies[client.Mode].ConfigureClient(identity, ClientSeed(identity, round.Round), round.Round);
            return new(TaskAction.Train, round.Round, "",
                new TrainingTask(round.Modes[client.Mode].PromptIn, _roundPromptVersions[client.Mode], round.Deadline!.Value, work));
        }
    }

    /// <summary>
    /// Validates and stores a client's update for <paramref name="round"/>, trained from the global prompt of version
    /// <paramref name="basePromptVersion"/>. A token prompt is stored without the client's decoding of it.
    /// <paramref name="wireBytes"/> is the size the prompt had on the wire, for the report.
    /// </summary>
    public (int Round, int UploadsInRound) AcceptUpload(string identity, string runId, int round, string basePromptVersion, Prompt? prompt,
        long wireBytes, int exampleCount, LocalWorkMetrics? metrics, DpSpend? privacy)
    {
        lock (_gate)
        {
            var client = RequireEnrolled(identity, runId);
            var current = RequireCollecting(identity, round);
            if (_uploaded.Contains(identity))
                throw new RejectionException(RejectionKind.Duplicate, $"client {identity} already uploaded an update for round {round}");
            string roundVersion = _roundPromptVersions[client.Mode];
            if (basePromptVersion != roundVersion)
                throw new RejectionException(RejectionKind.WrongState, basePromptVersion.Length == 0
                    ? $"the update names no base_prompt_version; round {round}'s global prompt is version {roundVersion}"
                    : $"the update was trained from global prompt version {basePromptVersion}, not round {round}'s {roundVersion}");
            prompt = CheckedPrompt(client, prompt);
            string version = PromptCodec.Version(prompt);
            if (prompt.Mode == PromptMode.Soft) RefuseUntrained(identity, version, roundVersion);
            if (exampleCount < 1 || exampleCount > client.ExampleCount)
                throw new RejectionException(RejectionKind.Invalid,
                    $"example_count {exampleCount} must be between 1 and the {client.ExampleCount} examples {identity} enrolled with");
            if (metrics is null) throw new RejectionException(RejectionKind.Invalid, "the update has no metrics");
            Invalid(() => metrics.Validated());
            ValidatePrivacy(client.Mode, privacy);
            var update = new UpdateRecord(identity, round, prompt, exampleCount, metrics, privacy, Now, wireBytes);
            if (!_store.TryAddUpdate(RunId, update))
                throw new RejectionException(RejectionKind.Duplicate, $"client {identity} already uploaded an update for round {round}");
            _uploaded.Add(identity);
            if (prompt.Mode == PromptMode.Soft) _softUpdateVersions.TryAdd(version, (identity, round));
            Seen(identity, $"uploaded round {round}");
            int count = _uploaded.Count;
            _log.LogInformation("run {Run}: round {Round} accepted update {Count}/{Sampled} from {Client}", RunId, round, count, current.Sampled.Count, identity);
            return (round, count);
        }
    }

    public int Heartbeat(string identity, string runId, string activity)
    {
        lock (_gate)
        {
            RequireEnrolled(identity, runId);
            Seen(identity, activity.Length > 200 ? activity[..200] : activity);
            return _run.CurrentRound;
        }
    }

    /// <summary>
    /// Counts <paramref name="inputs"/> inference queries against the client's budget for the current round before they
    /// are served; refuses (and counts nothing) when they would pass it. Returns the round and the total used.
    /// </summary>
    public (int Round, long Used) ChargeQueries(string identity, string runId, int inputs)
    {
        lock (_gate)
        {
            var client = RequireEnrolled(identity, runId);
            if (!Config.Has(PromptMode.Discrete))
                throw new RejectionException(RejectionKind.WrongState, $"run {RunId} is a soft-mode run; its clients have no inference service");
            if (client.Mode != PromptMode.Discrete)
                throw new RejectionException(RejectionKind.WrongState, $"client {identity} tunes soft prompts; only discrete-mode clients use the inference service");
            if (_run.State != RunState.Running || CurrentRound() is not { State: RoundState.Collecting } round || !round.Sampled.Contains(identity))
                throw new RejectionException(RejectionKind.WrongState, $"client {identity} has no open round to query for");
            long used = _store.QueriesUsed(RunId, round.Round, identity);
            if (used + inputs > Config.Discrete.QueryBudget)
                throw new RejectionException(RejectionKind.OverBudget,
                    $"{inputs} more queries would pass client {identity}'s budget of {Config.Discrete.QueryBudget} for round {round.Round} ({used} used)");
            _store.AddQueries(RunId, round.Round, identity, inputs);
            return (round.Round, used + inputs);
        }
    }

    /// <summary>Gives back queries charged for a request that then failed inside the coordinator.</summary>
    public void RefundQueries(string identity, int round, int inputs)
    {
        lock (_gate) _store.AddQueries(RunId, round, identity, -inputs);
    }

    // ------------------------------------------------------------------ checks

    void RequireAdmitted(string identity)
    {
        if (!_admitted.ContainsKey(identity))
            throw new RejectionException(RejectionKind.NotAdmitted, $"identity \"{identity}\" is not admitted to run {RunId}");
    }

    ClientRecord RequireEnrolled(string identity, string runId)
    {
        RequireAdmitted(identity);
        if (runId.Length > 0 && runId != RunId) throw new RejectionException(RejectionKind.UnknownRun, $"no run \"{runId}\" (the current run is {RunId})");
        return _enrolled.GetValueOrDefault(identity)
            ?? throw new RejectionException(RejectionKind.WrongState, $"client {identity} is not enrolled in run {RunId}; call Enrol first");
    }

    RoundRecord RequireCollecting(string identity, int round)
    {
        if (_run.State != RunState.Running)
            throw new RejectionException(RejectionKind.WrongState, $"run {RunId} is {_run.State.ToString().ToLowerInvariant()}; it accepts no updates");
        var current = CurrentRound();
        if (round != current.Round || current.State != RoundState.Collecting)
            throw new RejectionException(RejectionKind.WrongState, round < current.Round || (round == current.Round && current.State != RoundState.Open)
                ? $"round {round} is closed to updates; the current round is {current.Round} ({current.State.ToString().ToLowerInvariant()})"
                : $"round {round} is not open; the current round is {current.Round} ({current.State.ToString().ToLowerInvariant()})");
        if (!current.Sampled.Contains(identity))
            throw new RejectionException(RejectionKind.WrongState, $"client {identity} was not sampled in round {round}");
        return current;
    }

    /// <summary>The update's prompt, checked against the client's mode and the run's models; a token prompt without the client's text.</summary>
    Prompt CheckedPrompt(ClientRecord client, Prompt? prompt)
    {
        if (prompt is null) throw new RejectionException(RejectionKind.Invalid, "the update has no prompt");
        if (prompt.Mode != client.Mode)
            throw new RejectionException(RejectionKind.Invalid, $"expected a {Prompt.NameOf(client.Mode)} prompt from {client.ClientId}, got a {Prompt.NameOf(prompt.Mode)} prompt");
        Invalid(() => _facts().Check(prompt));
        return prompt is DiscretePrompt tokens ? new DiscretePrompt(tokens.TokenIds, tokens.TokenizerIdentity) : prompt;
    }

    /// <summary>Runs a domain check; its ArgumentException becomes a refusal of the request as invalid.</summary>
    static void Invalid(Action check)
    {
        try { check(); }
        catch (ArgumentException e) { throw new RejectionException(RejectionKind.Invalid, e.Message); }
    }

    /// <summary>
    /// A soft update equal, bit for bit, to the global prompt it was given or to an update already accepted did no local
    /// training: tuning changes every vector, and DP adds fresh noise. (Token prompts may repeat: a search that finds
    /// nothing better keeps its prompt.) This refuses verbatim replays only; a perturbed copy passes, and robust
    /// aggregation is what bounds its weight.
    /// </summary>
    void RefuseUntrained(string identity, string version, string roundVersion)
    {
        if (version == roundVersion)
            throw new RejectionException(RejectionKind.Invalid, $"the update is the round's global prompt unchanged: {identity} did no local training");
        if (_softUpdateVersions.TryGetValue(version, out var earlier))
            throw new RejectionException(RejectionKind.Invalid, $"the update is identical to the one {earlier.Client} uploaded in round {earlier.Round}: a replay");
    }

    /// <summary>
    /// A spend is checked whenever one is reported, also in a soft run without DP (where a client may account for DP it
    /// chose itself): the operator's results read every stored spend, and one +Inf/NaN made them fail for good.
    /// </summary>
    void ValidatePrivacy(PromptMode mode, DpSpend? privacy)
    {
        if (privacy is not null && mode != PromptMode.Soft)
            throw new RejectionException(RejectionKind.Invalid, "a discrete-mode update carries no privacy spend");
        if (privacy is not null) Invalid(() => privacy.Validated());
        if (mode != PromptMode.Soft || Config.Soft.Dp is not { } dp) return;
        if (privacy is null) throw new RejectionException(RejectionKind.Invalid, $"run {RunId} requires DP-SGD; the update reports no privacy spend");
        if (Math.Abs(privacy.ClipNorm - dp.ClipNorm) > 1e-9)
            throw new RejectionException(RejectionKind.Invalid, $"the update was clipped at {privacy.ClipNorm}, not the run's clip norm {dp.ClipNorm}");
        if (privacy.EpsilonTotal > dp.Epsilon * (1 + 1e-6))
            throw new RejectionException(RejectionKind.Invalid, $"the client has spent ε = {privacy.EpsilonTotal:G4}, over the run's budget of {dp.Epsilon}");
    }

    // ------------------------------------------------------------------ helpers

    RoundRecord CurrentRound() => _round ?? throw new InvalidOperationException($"run {RunId} has no round {_run.CurrentRound}");

    IReadOnlyList<string> EnrolledIn(PromptMode mode) => _enrolled.Values.Where(c => c.Mode == mode).Select(c => c.ClientId).ToList();

    int UploadsIn(PromptMode mode) => _uploaded.Count(id => _enrolled[id].Mode == mode);

    /// <summary>Re-reads the run and its current round (after the engine wrote a change of state).</summary>
    void Reload()
    {
        _run = _store.GetRun(RunId)!;
        ReloadRound();
    }

    void ReloadRound()
    {
        _round = _run.CurrentRound == 0 ? null : _store.GetRound(RunId, _run.CurrentRound);
        _roundPromptVersions.Clear();
        _uploaded.Clear();
        if (_round is null) return;
        foreach (var (mode, part) in _round.Modes) _roundPromptVersions[mode] = PromptCodec.Version(part.PromptIn);
        _uploaded.UnionWith(_store.Updates(RunId, _round.Round).Select(u => u.ClientId));
    }

    void Seen(string identity, string activity) => _seen[identity] = (Now, activity);

    void FlushSeenIfDue()
    {
        if (_seen.Count == 0 || Now - _seenFlushedAt < SeenFlushInterval) return;
        _store.Touch(RunId, _seen.Select(p => (p.Key, p.Value.At, p.Value.Activity)).ToList());
        foreach (var (identity, seen) in _seen) _enrolled[identity] = _enrolled[identity] with { LastSeen = seen.At, Activity = seen.Activity };
        _seen.Clear();
        _seenFlushedAt = Now;
    }

    static readonly IComparer<ClientRecord> ClientOrder = Comparer<ClientRecord>.Create((a, b) => string.CompareOrdinal(a.ClientId, b.ClientId));

    int ClientSeed(string identity, int round) =>
        Config.Seed * 1_000_003 + round * 7919 + _admitted[identity];
}
