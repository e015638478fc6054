using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Rounds;

/// <summary>What a client should do now (the domain form of a round task).</summary>
public sealed record ClientTask(RoundTaskReply.Types.Action Action, int Round, PromptValue? GlobalPrompt, DateTimeOffset? Deadline, int Seed, string Reason,
    string PromptVersion = "");

/// <summary>Heavy work the engine has decided is due; the <see cref="RoundWorker"/> does it and reports back.</summary>
public abstract record EngineStep
{
    public sealed record Idle : EngineStep;
    public sealed record Aggregate(int Round, PromptValue PromptIn, IReadOnlyList<UpdateRecord> Updates) : EngineStep;
    public sealed record Transfer(PromptValue GlobalPrompt) : EngineStep;
}

public sealed record RunSnapshot(RunRecord Run, IReadOnlyList<RoundRecord> Rounds, IReadOnlyList<ClientRecord> Clients, IReadOnlyList<UpdateRecord> Updates)
{
    public int UploadsIn(int round) => Updates.Count(u => u.Round == round);
}

/// <summary>
/// The round state machine of one run, over the durable store: open (waiting for enough enrolled clients) →
/// collecting (a seeded sample of clients trains; uploads are validated and stored) → aggregating → closed, then the
/// next round opens from the new global prompt; after the last round a soft run transfers its prompt to the large
/// model, then finishes. Decisions are made under one lock and written before they are acknowledged, so a restarted
/// coordinator continues from the store (a round found aggregating is aggregated again from its stored updates).
/// The engine also keeps the current round, who has uploaded to it and the enrolled clients in memory (written to the
/// store first, then here), so a poll or an upload costs O(1) reads however many clients there are. Liveness
/// (last seen, activity) is kept in memory and written to the store in one transaction at most every
/// <see cref="SeenFlushInterval"/>: it is informational, and a synchronous commit per poll is what capped uploads/s.
/// </summary>
public sealed class RoundEngine
{
    readonly CoordinatorStore _store;
    readonly ModelFacts _facts;
    readonly TimeProvider _time;
    readonly ILogger _log;
    readonly Lock _gate = new();
    readonly Dictionary<string, int> _admitted;
    readonly Dictionary<string, ClientRecord> _enrolled;
    readonly HashSet<string> _uploaded = new(StringComparer.Ordinal);
    /// <summary>Soft runs: the version of every accepted update → who uploaded it in which round, to refuse verbatim replays.</summary>
    readonly Dictionary<string, (string Client, int Round)> _softUpdateVersions = new(StringComparer.Ordinal);
    readonly Dictionary<string, (DateTimeOffset At, string Activity)> _seen = new(StringComparer.Ordinal);
    RunRecord _run;
    RoundRecord? _round;
    /// <summary><see cref="PromptMessages.Version"/> of the current round's global prompt.</summary>
    string _roundPromptVersion = "";
    DateTimeOffset _seenFlushedAt;
    bool _quorumWarned;

    public static readonly TimeSpan SeenFlushInterval = TimeSpan.FromSeconds(5);

    public RoundEngine(CoordinatorStore store, string runId, ModelFacts facts, TimeProvider time, ILogger log)
    {
        _store = store;
        _facts = facts;
        _time = time;
        _log = log;
        _run = store.GetRun(runId) ?? throw new ArgumentException($"no run {runId} in {store.Path}");
        _admitted = _run.Config.Clients.Select((id, index) => (id, index)).ToDictionary(p => p.id, p => p.index, StringComparer.Ordinal);
        _enrolled = store.Clients(runId).ToDictionary(c => c.ClientId, StringComparer.Ordinal);
        _seenFlushedAt = time.GetUtcNow();
        if (_run.Config.IsSoft)
            foreach (var update in store.AllUpdates(runId)) _softUpdateVersions.TryAdd(PromptMessages.Version(update.Prompt), (update.ClientId, update.Round));
        Reload();
    }

    public string RunId => _run.RunId;
    public RunConfig Config => _run.Config;
    public RunState State { get { lock (_gate) return _run.State; } }

    DateTimeOffset Now => _time.GetUtcNow();

    // ------------------------------------------------------------------ run lifecycle (operator, worker)

    /// <summary>Opens round 1 from the initial global prompt; a no-op for a run already started.</summary>
    public void Start(PromptValue initialPrompt)
    {
        lock (_gate)
        {
            if (_run.State != RunState.Created) return;
            _store.OpenRound(RunId, 1, initialPrompt, Now);
            Reload();
            _log.LogInformation("run {Run}: round 1 open, waiting for {Min} enrolled clients", RunId, Config.MinClients);
        }
    }

    /// <summary>Advances the state machine by what time and uploads allow, and returns the heavy work now due.</summary>
    public EngineStep Step()
    {
        lock (_gate)
        {
            FlushSeenIfDue();
            if (_run.State == RunState.Transferring)
                return new EngineStep.Transfer(_store.GetRound(RunId, Config.Rounds)!.PromptOut!);
            if (_run.State != RunState.Running) return new EngineStep.Idle();
            var round = CurrentRound();
            switch (round.State)
            {
                case RoundState.Open:
                    if (_enrolled.Count >= Config.MinClients)
                    {
                        var sampled = Sample(_enrolled.Keys.ToList(), round.Round);
                        _store.StartCollecting(RunId, round.Round, sampled, Now.AddSeconds(Config.RoundTimeoutSeconds));
                        ReloadRound();
                        _quorumWarned = false;
                        _log.LogInformation("run {Run}: round {Round} collecting from {Clients}", RunId, round.Round, string.Join(", ", sampled));
                    }
                    return new EngineStep.Idle();
                case RoundState.Collecting:
                    int uploads = _uploaded.Count;
                    bool everyone = uploads == round.Sampled.Count, late = Now >= round.Deadline;
                    if (!everyone && !(late && uploads >= Config.MinClients))
                    {
                        if (late && !_quorumWarned)
                            _log.LogWarning("run {Run}: round {Round} passed its deadline with {Uploads} of the {Min} updates it needs; still collecting",
                                RunId, round.Round, uploads, Config.MinClients);
                        _quorumWarned |= late;
                        return new EngineStep.Idle();
                    }
                    _store.SetRoundState(RunId, round.Round, RoundState.Aggregating);
                    ReloadRound();
                    _log.LogInformation("run {Run}: round {Round} aggregating {Uploads} updates of {Sampled} sampled", RunId, round.Round, uploads, round.Sampled.Count);
                    return new EngineStep.Aggregate(round.Round, round.PromptIn, _store.Updates(RunId, round.Round));
                case RoundState.Aggregating:
                    return new EngineStep.Aggregate(round.Round, round.PromptIn, _store.Updates(RunId, round.Round));
                default:   // closed, but the next round was not opened (a crash between the two writes)
                    AfterClose(round.Round, round.PromptOut!);
                    return new EngineStep.Idle();
            }
        }
    }

    /// <summary>Stores round <paramref name="round"/>'s result and opens the next round, or moves to transfer / finished.</summary>
    public void CompleteRound(int round, PromptValue globalPrompt, double accuracy, string notesJson)
    {
        lock (_gate)
        {
            var current = CurrentRound();
            if (current.Round != round || current.State != RoundState.Aggregating)
                throw new InvalidOperationException($"round {round} is not the one aggregating (current: {current.Round}, {current.State})");
            _store.CloseRound(RunId, round, globalPrompt, accuracy, notesJson, Now);
            _log.LogInformation("run {Run}: round {Round} closed, held-out accuracy {Accuracy:P1}", RunId, round, accuracy);
            AfterClose(round, globalPrompt);
        }
    }

    void AfterClose(int round, PromptValue globalPrompt)
    {
        if (round < Config.Rounds) _store.OpenRound(RunId, round + 1, globalPrompt, Now);
        else if (Config.IsSoft) _store.SetRunState(RunId, RunState.Transferring, round);
        else
        {
            _store.SetFinalResult(RunId, globalPrompt, "null");
            _store.SetRunState(RunId, RunState.Finished, round);
        }
        Reload();
    }

    public void CompleteTransfer(PromptValue largePrompt, string transferJson)
    {
        lock (_gate)
        {
            if (_run.State != RunState.Transferring) throw new InvalidOperationException($"run {RunId} is {_run.State}, not transferring");
            _store.SetFinalResult(RunId, largePrompt, transferJson);
            _store.SetRunState(RunId, RunState.Finished, _run.CurrentRound);
            Reload();
            _log.LogInformation("run {Run}: finished", RunId);
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
        lock (_gate)
        {
            var clients = _enrolled.Values.Order(ClientOrder).Select(c => _seen.TryGetValue(c.ClientId, out var seen) ? c with { LastSeen = seen.At, Activity = seen.Activity } : c);
            return new RunSnapshot(_run, _store.Rounds(RunId), clients.ToList(), _store.AllUpdates(RunId));
        }
    }

    // ------------------------------------------------------------------ clients

    public ClientRecord Enrol(string identity, Mode mode, int exampleCount)
    {
        lock (_gate)
        {
            RequireAdmitted(identity);
            var expected = Config.IsSoft ? Mode.Soft : Mode.Discrete;
            if (mode != expected)
                throw new RejectionException(RejectionKind.WrongState, $"run {RunId} is a {Config.Mode}-mode run; client {identity} asked for {mode}");
            if (exampleCount < 1 || exampleCount > Config.MaxExampleCount)
                throw new RejectionException(RejectionKind.Invalid, $"example_count must be between 1 and the run's max_example_count {Config.MaxExampleCount}, got {exampleCount}");
            // FedAvg weighs updates by this count and a client could otherwise raise it before every upload.
            if (_enrolled.TryGetValue(identity, out var known) && known.ExampleCount != exampleCount)
                throw new RejectionException(RejectionKind.Invalid,
                    $"client {identity} enrolled with {known.ExampleCount} examples; the count is fixed at the first enrolment, not {exampleCount}");
            var client = _store.UpsertClient(RunId, identity, mode, exampleCount, Now);
            _enrolled[identity] = client;
            _seen.Remove(identity);
            _log.LogInformation("run {Run}: client {Client} enrolled with {Count} examples", RunId, identity, exampleCount);
            return client;
        }
    }

    public ClientTask NextTask(string identity, string runId)
    {
        lock (_gate)
        {
            RequireEnrolled(identity, runId);
            Seen(identity, "asking for work");
            ClientTask Wait(string reason) => new(RoundTaskReply.Types.Action.Wait, _run.CurrentRound, null, null, 0, reason);
            switch (_run.State)
            {
                case RunState.Created: return Wait("the run has not been started");
                case RunState.Transferring or RunState.Finished:
                    return new(RoundTaskReply.Types.Action.Finished, _run.CurrentRound, null, null, 0, "all rounds are done");
                case RunState.Failed:
                    return new(RoundTaskReply.Types.Action.Finished, _run.CurrentRound, null, null, 0, $"the run failed: {_run.Error}");
            }
            var round = CurrentRound();
            if (round.State == RoundState.Open)
                return Wait($"round {round.Round} waits for {Config.MinClients - _enrolled.Count} more clients to enrol");
            if (round.State != RoundState.Collecting) return Wait($"round {round.Round} is {round.State.ToString().ToLowerInvariant()}");
            if (!round.Sampled.Contains(identity)) return Wait($"not sampled in round {round.Round}");
            if (_uploaded.Contains(identity)) return Wait($"the update for round {round.Round} is in");
            return new(RoundTaskReply.Types.Action.Train, round.Round, round.PromptIn, round.Deadline, ClientSeed(identity, round.Round), "", _roundPromptVersion);
        }
    }

    /// <summary>
    /// Validates and stores a client's update for <paramref name="round"/>, trained from the global prompt of version
    /// <paramref name="basePromptVersion"/>; the prompt is stored in its canonical form (<see cref="PromptMessages.Canonical"/>).
    /// </summary>
    public (int Round, int UploadsInRound) AcceptUpload(string identity, string runId, int round, string basePromptVersion, PromptValue prompt,
        int exampleCount, LocalMetrics metrics, PrivacySpend? privacy)
    {
        lock (_gate)
        {
            var client = RequireEnrolled(identity, runId);
            var current = RequireCollecting(identity, round);
            if (_uploaded.Contains(identity))
                throw new RejectionException(RejectionKind.Duplicate, $"client {identity} already uploaded an update for round {round}");
            if (basePromptVersion != _roundPromptVersion)
                throw new RejectionException(RejectionKind.WrongState, basePromptVersion.Length == 0
                    ? $"the update names no base_prompt_version; round {round}'s global prompt is version {_roundPromptVersion}"
                    : $"the update was trained from global prompt version {basePromptVersion}, not round {round}'s {_roundPromptVersion}");
            ValidatePrompt(prompt);
            prompt = PromptMessages.Canonical(prompt);
            string version = PromptMessages.Version(prompt);
            if (Config.IsSoft) RefuseUntrained(identity, version);
            if (exampleCount < 1 || exampleCount > client.ExampleCount)
                throw new RejectionException(RejectionKind.Invalid,
                    $"example_count {exampleCount} must be between 1 and the {client.ExampleCount} examples {identity} enrolled with");
            ValidateMetrics(metrics ?? throw new RejectionException(RejectionKind.Invalid, "the update has no metrics"));
            ValidatePrivacy(privacy);
            var update = new UpdateRecord(identity, round, prompt, exampleCount, PromptMessages.KnownFieldsOnly(metrics),
                privacy is null ? null : PromptMessages.KnownFieldsOnly(privacy), Now, prompt.CalculateSize());
            if (!_store.TryAddUpdate(RunId, update))
                throw new RejectionException(RejectionKind.Duplicate, $"client {identity} already uploaded an update for round {round}");
            _uploaded.Add(identity);
            if (Config.IsSoft) _softUpdateVersions.TryAdd(version, (identity, round));
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
            RequireEnrolled(identity, runId);
            if (Config.IsSoft)
                throw new RejectionException(RejectionKind.WrongState, $"run {RunId} is a soft-mode run; its clients have no inference service");
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

    void ValidatePrompt(PromptValue? prompt)
    {
        if (prompt is null) throw new RejectionException(RejectionKind.Invalid, "the update has no prompt");
        try
        {
            if (Config.IsSoft)
            {
                var soft = PromptMessages.ToSoftPrompt(prompt);
                if (soft.ModelIdentity != _facts.SmallModelIdentity)
                    throw new ArgumentException($"soft prompt is for model {soft.ModelIdentity}, not the run's small model {_facts.SmallModelIdentity}");
                if (soft.HiddenSize != _facts.HiddenSize)
                    throw new ArgumentException($"soft prompt hidden size {soft.HiddenSize} differs from the model's {_facts.HiddenSize}");
                if (soft.Length > _facts.MaxPromptLength)
                    throw new ArgumentException($"soft prompt length {soft.Length} exceeds the limit of {_facts.MaxPromptLength}");
                for (var row = 0; row < soft.Length; row++)
                {
                    double norm = VectorMath.Norm(soft.Values.Span.Slice(row * soft.HiddenSize, soft.HiddenSize));
                    if (norm > _facts.MaxVectorNorm)
                        throw new ArgumentException($"soft prompt vector {row} has L2 norm {norm:G4}, above the run's bound {_facts.MaxVectorNorm:G4} (soft.max_vector_norm)");
                }
            }
            else
            {
                var discrete = PromptMessages.ToDiscretePrompt(prompt);
                if (discrete.TokenizerIdentity != _facts.TokenizerIdentity)
                    throw new ArgumentException($"discrete prompt uses tokenizer {discrete.TokenizerIdentity}, not the run's {_facts.TokenizerIdentity}");
                int unknown = discrete.TokenIds.ToList().FindIndex(id => id >= _facts.VocabularySize);
                if (unknown >= 0)
                    throw new ArgumentException($"token {unknown} has id {discrete.TokenIds[unknown]}, outside the vocabulary of {_facts.VocabularySize}");
                if (discrete.TokenIds.Count > _facts.MaxPromptLength)
                    throw new ArgumentException($"discrete prompt length {discrete.TokenIds.Count} exceeds the limit of {_facts.MaxPromptLength}");
            }
        }
        catch (ArgumentException e)
        {
            throw new RejectionException(RejectionKind.Invalid, e.Message);
        }
    }

    /// <summary>
    /// A soft update equal, bit for bit, to the global prompt it was given or to an update already accepted did no local
    /// training: tuning changes every vector, and DP adds fresh noise. (Token prompts may repeat: a search that finds
    /// nothing better keeps its prompt.) This refuses verbatim replays only; a perturbed copy passes, and robust
    /// aggregation is what bounds its weight.
    /// </summary>
    void RefuseUntrained(string identity, string version)
    {
        if (version == _roundPromptVersion)
            throw new RejectionException(RejectionKind.Invalid, $"the update is the round's global prompt unchanged: {identity} did no local training");
        if (_softUpdateVersions.TryGetValue(version, out var earlier))
            throw new RejectionException(RejectionKind.Invalid, $"the update is identical to the one {earlier.Client} uploaded in round {earlier.Round}: a replay");
    }

    static void ValidateMetrics(LocalMetrics m)
    {
        double[] values = [m.AccuracyBefore, m.AccuracyAfter, m.FinalLoss, m.Seconds];
        if (values.Any(v => !double.IsFinite(v)) || m.Steps < 0 || m.Queries < 0 || m.TokensSent < 0 || m.Seconds < 0
            || m.AccuracyBefore is < 0 or > 1 || m.AccuracyAfter is < 0 or > 1)
            throw new RejectionException(RejectionKind.Invalid, $"metrics are not valid (accuracies in [0,1], finite, counts ≥ 0): {m}");
    }

    /// <summary>
    /// A spend is checked whenever one is reported, also in a soft run without DP (where a client may account for DP it
    /// chose itself): the operator's results read every stored spend, and one +Inf/NaN made them fail for good.
    /// </summary>
    void ValidatePrivacy(PrivacySpend? privacy)
    {
        if (privacy is not null && !Config.IsSoft)
            throw new RejectionException(RejectionKind.Invalid, "a discrete-mode update carries no privacy spend");
        if (privacy is not null)
        {
            double[] values = [privacy.ClipNorm, privacy.NoiseMultiplier, privacy.SampleRate, privacy.Delta, privacy.EpsilonRound, privacy.EpsilonTotal];
            if (values.Any(v => !double.IsFinite(v) || v < 0) || privacy.Steps < 0 || privacy.SampleRate > 1 || privacy.Delta >= 1)
                throw new RejectionException(RejectionKind.Invalid, $"privacy spend is not valid (finite, non-negative, sample rate ≤ 1, δ < 1): {privacy}");
        }
        if (!Config.IsSoft || Config.Soft.Dp is not { } dp) return;
        if (privacy is null) throw new RejectionException(RejectionKind.Invalid, $"run {RunId} requires DP-SGD; the update reports no privacy spend");
        if (Math.Abs(privacy.ClipNorm - dp.ClipNorm) > 1e-9)
            throw new RejectionException(RejectionKind.Invalid, $"the update was clipped at {privacy.ClipNorm}, not the run's clip norm {dp.ClipNorm}");
        if (privacy.EpsilonTotal > dp.Epsilon * (1 + 1e-6))
            throw new RejectionException(RejectionKind.Invalid, $"the client has spent ε = {privacy.EpsilonTotal:G4}, over the run's budget of {dp.Epsilon}");
    }

    // ------------------------------------------------------------------ helpers

    RoundRecord CurrentRound() => _round ?? throw new InvalidOperationException($"run {RunId} has no round {_run.CurrentRound}");

    /// <summary>Re-reads the run and its current round (after the engine wrote a change of state).</summary>
    void Reload()
    {
        _run = _store.GetRun(RunId)!;
        ReloadRound();
    }

    void ReloadRound()
    {
        _round = _run.CurrentRound == 0 ? null : _store.GetRound(RunId, _run.CurrentRound);
        _roundPromptVersion = _round is null ? "" : PromptMessages.Version(_round.PromptIn);
        _uploaded.Clear();
        if (_round is not null) _uploaded.UnionWith(_store.Updates(RunId, _round.Round).Select(u => u.ClientId));
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

    /// <summary>max(min_clients, ⌈fraction·n⌉) enrolled clients, a seeded choice per round (same on every restart).</summary>
    List<string> Sample(List<string> enrolled, int round)
    {
        int count = Math.Min(enrolled.Count, Math.Max(Config.MinClients, (int)Math.Ceiling(Config.Fraction * enrolled.Count)));
        var random = new Random(unchecked(Config.Seed * 1_000_003 + round));
        return enrolled.Order(StringComparer.Ordinal).OrderBy(_ => random.Next()).Take(count).Order(StringComparer.Ordinal).ToList();
    }

    int ClientSeed(string identity, int round) =>
        Config.Seed * 1_000_003 + round * 7919 + _admitted[identity];
}
