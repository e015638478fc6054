using System.Diagnostics;
using FederatedPrompts.Client.Models;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Core.Prompts;
using Grpc.Core;

namespace FederatedPrompts.Client;

/// <summary>One round as this client did it: its update, how long the work and the upload took, the upload's size and outcome.</summary>
public sealed record ClientRound(int Round, LocalUpdate Update, TimeSpan WorkTime, TimeSpan UploadTime, int RequestBytes, UploadOutcome Outcome, string? Refusal);

/// <summary>
/// What a client did in a run: its rounds, the ε it spent, why it stopped, how it talked to the coordinator, and how it
/// got the model (null when its work uses none).
/// </summary>
public sealed record ClientSummary(
    string ClientId, string RunId, string FinishReason, double? EpsilonSpent, IReadOnlyList<ClientRound> Rounds,
    TimeSpan EnrolTime, DateTimeOffset EnrolledAt, int Polls, int Waits, CachedModel? Model)
{
    /// <summary>The rounds whose update the coordinator took from this attempt.</summary>
    public IReadOnlyList<int> RoundsTrained => Rounds.Where(r => r.Outcome == UploadOutcome.Accepted).Select(r => r.Round).ToList();
}

/// <summary>
/// The federation client's one loop: enrol, download and verify the model (when the local work runs on it), then ask
/// for the round task, do the local work (heartbeats meanwhile), upload; until the coordinator says FINISHED. What a
/// round's work is comes through the <see cref="ILocalWork"/> seam; everything else is the same for every client,
/// whether it is <c>fedprompt client</c> or one of many in a process (<see cref="Simulation.InProcessClientHost"/>).
/// Transient failures are retried with exponential backoff; a restarted client enrols again under the same identity
/// and continues with the current round (the coordinator says whether its update is already in).
/// </summary>
public sealed class ClientLoop
{
    readonly CallInvoker _channel;
    readonly ILocalWork _work;
    readonly ClientLoopOptions _options;

    public ClientLoop(CallInvoker channel, ILocalWork work, ClientLoopOptions options)
    {
        options.Calls.Validate();
        if (string.IsNullOrWhiteSpace(options.Identity)) throw new ArgumentException("the client loop needs the client's identity");
        if (work.UsesModel && string.IsNullOrWhiteSpace(options.CacheDirectory))
            throw new ArgumentException($"{options.Identity}: the local work runs on the run's model, so the client needs a model cache folder");
        if (work.ExampleCount < 1) throw new ArgumentException($"{options.Identity}: the local work has no examples");
        (_channel, _work, _options) = (channel, work, options);
    }

    public async Task<ClientSummary> RunAsync(IProgress<ClientEvent>? events = null, CancellationToken cancel = default)
    {
        string me = _options.Identity;   // until the coordinator names us at enrolment
        void Say(int round, string what) => events?.Report(new ClientEvent(me, round, what));
        // A coordinator that is down or unreachable is said at once, and at every retry: not minutes of silence.
        var coordinator = new CoordinatorLink(_channel, _options.Calls, _options.JitterSeed, (problem, attempt, pause) =>
            Say(0, $"no answer from the coordinator ({problem}); attempt {attempt} of {_options.Calls.MaxAttempts}, next in {pause.TotalSeconds:F1} s"));

        var enrolClock = new Stopwatch();
        var enrolment = await Gated(_options.EnrolGate, () =>
        {
            enrolClock.Start();
            return coordinator.EnrolAsync(_work.Mode, _work.ExampleCount, cancel);
        }, cancel);
        var (enrolTime, enrolledAt) = (enrolClock.Elapsed, DateTimeOffset.UtcNow);
        me = enrolment.ClientId;
        Say(0, $"enrolled in {enrolment.RunId} ({Name(enrolment.Mode)})");

        CachedModel? model = null;
        if (_work.UsesModel)
        {
            model = await new ModelCache(_options.CacheDirectory!).EnsureAsync(coordinator, enrolment.Model, cancel);
            Say(0, model.DownloadedBytes == 0 ? "model verified (cached)"
                : $"model verified ({model.DownloadedBytes / 1e6:F1} MB downloaded in {model.Time.TotalSeconds:F1} s)");
        }
        var ledger = new PrivacyLedger(_options.StateDirectory, enrolment.RunId);
        using var run = _work.Open(new LocalRunContext(enrolment, model?.Folder, ledger, coordinator));
        var jitter = new Random(_options.JitterSeed);
        var rounds = new List<ClientRound>();
        int polls = 0, waits = 0;
        while (true)
        {
            var next = await coordinator.NextStepAsync(enrolment.RunId, cancel);
            polls++;
            switch (next)
            {
                case NextStep.Finished finished:
                    Say(finished.Round, $"finished: {finished.Reason}");
                    double? epsilon = ledger.Entries.Count == 0 ? null : ledger.Epsilon(ledger.Entries[^1].Delta);
                    return new ClientSummary(me, enrolment.RunId, finished.Reason, epsilon, rounds, enrolTime, enrolledAt, polls, waits, model);
                case NextStep.Wait wait:
                    waits++;
                    double factor = 1 + _options.Calls.WaitJitter * (jitter.NextDouble() - 0.5);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(50, wait.After.TotalMilliseconds) * factor), cancel);
                    break;
                case NextStep.Train(var round):
                    if (round.Work.Mode != _work.Mode)
                        throw new InvalidDataException($"round {round.Round} asks for {Name(round.Work.Mode)} work; this client does {Name(_work.Mode)} work");
                    rounds.Add(await TrainAndUpload(coordinator, run, enrolment, round, Say, cancel));
                    break;
            }
        }
    }

    async Task<ClientRound> TrainAndUpload(CoordinatorLink coordinator, ILocalRun run, Enrolment enrolment, RoundAssignment round, Action<int, string> say,
        CancellationToken cancel)
    {
        say(round.Round, "training");
        var clock = Stopwatch.StartNew();
        LocalUpdate update;
        // Heartbeats every few seconds while the work runs, so the operator sees the client alive.
        using (new Timer(_ => coordinator.Heartbeat(enrolment.RunId, $"training round {round.Round}", cancel), null, enrolment.HeartbeatPeriod, enrolment.HeartbeatPeriod))
            update = await Gated(_options.LocalWorkGate, () => Task.Run(() => run.Train(round, cancel), cancel), cancel);
        var workTime = clock.Elapsed;
        clock.Restart();
        var receipt = await coordinator.UploadAsync(round, update, _work.ExampleCount, cancel);
        say(round.Round, receipt.Outcome switch
        {
            UploadOutcome.Accepted => $"uploaded ({receipt.UploadsInRound} in round), local accuracy {update.Metrics.AccuracyBefore:P1} → {update.Metrics.AccuracyAfter:P1}",
            UploadOutcome.AlreadyIn => "update already in (an earlier attempt reached the coordinator)",
            _ => $"update refused: {receipt.Detail}",
        });
        return new ClientRound(round.Round, update, workTime, clock.Elapsed, receipt.RequestBytes, receipt.Outcome,
            receipt.Outcome == UploadOutcome.Refused ? receipt.Detail : null);
    }

    static async Task<T> Gated<T>(SemaphoreSlim? gate, Func<Task<T>> body, CancellationToken cancel)
    {
        if (gate is null) return await body();
        await gate.WaitAsync(cancel);
        try
        {
            return await body();
        }
        finally
        {
            gate.Release();
        }
    }

    static string Name(PromptMode mode) => mode.ToString().ToLowerInvariant();
}
