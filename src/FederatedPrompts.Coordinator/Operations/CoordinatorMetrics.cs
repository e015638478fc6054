using System.Diagnostics.Metrics;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Coordinator.Operations;

/// <summary>
/// The coordinator's metrics (System.Diagnostics.Metrics, exported by OpenTelemetry to Prometheus on the ops listener).
/// Events are counted where they happen; the state of the run (clients, round, accuracy, ε, store size) is read from the
/// run's <see cref="RunOverview"/> by each gauge when a scrape asks (a few grouped queries; Prometheus asks every 15 s or
/// so). The meter comes from the host's <see cref="IMeterFactory"/> and goes with it; OpenTelemetry subscribes to meters
/// by name, so coordinators sharing a process would report into each other's scrape (the product runs one a process; the
/// tests that compare values run alone). Each instrument is listed, with its Prometheus name, in docs/OPERATIONS.md.
/// </summary>
public sealed class CoordinatorMetrics
{
    public const string MeterName = "FederatedPrompts.Coordinator";
    /// <summary>A client is alive while it was seen within three heartbeats.</summary>
    public static readonly TimeSpan AliveWindow = TimeSpan.FromSeconds(3 * Services.FederationService.HeartbeatSeconds);
    // Buckets for the times measured: rounds and aggregation take from milliseconds (tiny models) to an hour; a wait for the model less.
    static readonly InstrumentAdvice<double> Seconds = new() { HistogramBucketBoundaries = [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600] };
    static readonly InstrumentAdvice<double> ShortSeconds = new() { HistogramBucketBoundaries = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30] };

    readonly RunHost _runs;
    readonly TimeProvider _time;
    readonly Counter<long> _roundsCompleted, _updatesAccepted, _refused, _queries;
    readonly Histogram<double> _roundSeconds, _aggregateSeconds, _evaluateSeconds, _queueWaitSeconds;

    public CoordinatorMetrics(IMeterFactory meters, RunHost runs, TimeProvider time)
    {
        _runs = runs;
        _time = time;
        var meter = meters.Create(MeterName);
        _roundsCompleted = meter.CreateCounter<long>("fedprompt.rounds.completed", "{round}", "Rounds aggregated and evaluated");
        _roundSeconds = meter.CreateHistogram<double>("fedprompt.round.duration", "s", "Time from a round's opening to its close (waiting for clients, local work, aggregation, evaluation)", advice: Seconds);
        _aggregateSeconds = meter.CreateHistogram<double>("fedprompt.aggregation.duration", "s", "Time the strategy took to aggregate a round's updates, per mode", advice: Seconds);
        _evaluateSeconds = meter.CreateHistogram<double>("fedprompt.evaluation.duration", "s", "Time the held-out evaluation of a round's global prompt took, per mode", advice: Seconds);
        _updatesAccepted = meter.CreateCounter<long>("fedprompt.updates.accepted", "{update}", "Client updates validated and stored, per mode");
        _refused = meter.CreateCounter<long>("fedprompt.requests.refused", "{request}", "Calls answered with a non-OK gRPC status, by method and status (the reason)");
        _queries = meter.CreateCounter<long>("fedprompt.inference.queries", "{query}", "Texts the inference service classified for discrete-mode clients");
        _queueWaitSeconds = meter.CreateHistogram<double>("fedprompt.inference.queue_wait", "s", "Time an inference request waited until its first input entered a pass of the black box", advice: ShortSeconds);
        meter.CreateObservableGauge("fedprompt.clients.enrolled", () => Observe(o => o.Clients.GroupBy(c => c.Mode)
            .Select(g => new Measurement<int>(g.Count(), Mode(g.Key)))), "{client}", "Clients enrolled in the current run, per mode");
        meter.CreateObservableGauge("fedprompt.clients.alive", () => Observe(o => o.Clients.GroupBy(c => c.Mode)
            .Select(g => new Measurement<int>(g.Count(c => _time.GetUtcNow() - c.LastSeen <= AliveWindow), Mode(g.Key)))), "{client}",
            "Enrolled clients seen within three heartbeats, per mode");
        meter.CreateObservableGauge("fedprompt.round.current", () => Observe<int>(o => [new Measurement<int>(o.Run.CurrentRound)]), "{round}",
            "The current run's round (0 before it starts)");
        meter.CreateObservableGauge("fedprompt.round.accuracy", () => Observe<double>(o => o.Rounds.LastOrDefault(r => r.Modes.Values.Any(m => m.Accuracy is not null)) is { } last
            ? last.Modes.Where(m => m.Value.Accuracy is not null).Select(m => new Measurement<double>(m.Value.Accuracy!.Value, Mode(m.Key)))
            : []), "1", "Held-out accuracy of the last aggregated global prompt, per mode");
        meter.CreateObservableGauge("fedprompt.privacy.epsilon", () => Observe(o => o.ClientUploads.Where(c => c.LastSpend is not null)
            .Select(c => new Measurement<double>(c.LastSpend!.EpsilonTotal, new KeyValuePair<string, object?>("client", c.ClientId)))), "1",
            "Privacy spent so far (ε, at the run's δ) as each client's last update reported it");
        meter.CreateObservableGauge<long>("fedprompt.store.size", () => [new Measurement<long>(_runs.Store.SizeOnDisk())], "By",
            "Bytes of the state database and its write-ahead log");
    }

    public void RoundCompleted(TimeSpan sinceOpened)
    {
        _roundsCompleted.Add(1);
        _roundSeconds.Record(sinceOpened.TotalSeconds);
    }

    public void Aggregated(PromptMode mode, double aggregateSeconds, double evaluateSeconds)
    {
        _aggregateSeconds.Record(aggregateSeconds, Mode(mode));
        _evaluateSeconds.Record(evaluateSeconds, Mode(mode));
    }

    public void UpdateAccepted(PromptMode mode) => _updatesAccepted.Add(1, Mode(mode));

    public void Refused(string method, string status) =>
        _refused.Add(1, new KeyValuePair<string, object?>("method", method), new KeyValuePair<string, object?>("status", status));

    public void Classified(int texts, TimeSpan queueWait)
    {
        _queries.Add(texts);
        _queueWaitSeconds.Record(queueWait.TotalSeconds);
    }

    static KeyValuePair<string, object?> Mode(PromptMode mode) => new("mode", Prompt.NameOf(mode));

    IEnumerable<Measurement<T>> Observe<T>(Func<RunOverview, IEnumerable<Measurement<T>>> read) where T : struct =>
        _runs.Current?.Engine.Overview() is { } overview ? read(overview).ToList() : [];
}
