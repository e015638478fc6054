using FederatedPrompts.Client.Jobs;
using FederatedPrompts.Client.Models;
using FederatedPrompts.Core;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Client;

/// <summary>What a client did in a run.</summary>
public sealed record ClientSummary(string ClientId, string RunId, IReadOnlyList<int> RoundsTrained, double? EpsilonSpent, string FinishReason);

/// <summary>
/// A federation client: enrol, download and verify the model, then each round fetch the task, do the local work
/// (soft: tune on the distilled model; discrete: search through the inference service), heartbeat meanwhile, and
/// upload. Transient failures are retried with exponential backoff; a restarted client enrols again under the same
/// identity and continues with the current round (the coordinator says whether its update is already in).
/// </summary>
public sealed class FederationClient(CallInvoker channel, ClientOptions options)
{
    readonly Federation.FederationClient _federation = new(channel);
    readonly Inference.InferenceClient _inference = new(channel);

    public async Task<ClientSummary> RunAsync(IProgress<ClientEvent>? events = null, CancellationToken cancel = default)
    {
        string me = "client";   // until the coordinator names us at enrolment
        void Say(int round, string what) => events?.Report(new ClientEvent(me, round, what));
        // A coordinator that is down or unreachable is said at once, and at every retry: not minutes of silence.
        var retry = new Retry(options, seed: options.PrivateData.Count)
        {
            OnRetry = (e, attempt, pause) => Say(0, $"no answer from the coordinator ({e.StatusCode}: {e.Status.Detail}); attempt {attempt} of {options.MaxAttempts}, next in {pause.TotalSeconds:F1} s"),
        };
        var enrol = await retry.Call(() => _federation.EnrolAsync(
            new EnrolRequest { Mode = options.Mode, ExampleCount = options.PrivateData.Count }, Deadline(cancel)).ResponseAsync, cancel);
        me = enrol.ClientId;
        Say(0, $"enrolled in {enrol.RunId} ({enrol.Mode})");

        string modelFolder = await new ModelCache(options.CacheDirectory).EnsureAsync(_federation, enrol.Model, retry, cancel);
        Say(0, "model verified");
        using var task = new RunTask(modelFolder, enrol.Task, options.PrivateData);
        var ledger = new PrivacyLedger(options.StateDirectory, enrol.RunId);
        var trained = new List<int>();
        while (true)
        {
            var next = await retry.Call(() => _federation.GetRoundTaskAsync(new RoundTaskRequest { RunId = enrol.RunId }, Deadline(cancel)).ResponseAsync, cancel);
            switch (next.Action)
            {
                case RoundTaskReply.Types.Action.Finished:
                    Say(next.Round, $"finished: {next.Reason}");
                    double? epsilon = ledger.Entries.Count == 0 ? null : ledger.Epsilon(ledger.Entries[^1].Delta);
                    return new ClientSummary(me, enrol.RunId, trained, epsilon, next.Reason);
                case RoundTaskReply.Types.Action.Wait:
                    await Task.Delay(Math.Max(50, next.RetryAfterMs), cancel);
                    continue;
            }
            Say(next.Round, "training");
            LocalResult result;
            using (var heartbeat = Heartbeats(enrol, next.Round, cancel))
                result = await RunLocalWork(task, enrol.Limits, next, ledger, cancel);
            var upload = new UploadRequest
            {
                RunId = enrol.RunId, Round = next.Round, BasePromptVersion = next.GlobalPromptVersion, Prompt = result.Prompt, ExampleCount = options.PrivateData.Count,
                Metrics = result.Metrics, Privacy = result.Privacy,
            };
            try
            {
                var reply = await retry.Call(() => _federation.UploadAsync(upload, Deadline(cancel)).ResponseAsync, cancel);
                Say(next.Round, $"uploaded ({reply.UploadsInRound} in round), local accuracy {result.Metrics.AccuracyBefore:P1} → {result.Metrics.AccuracyAfter:P1}");
                trained.Add(next.Round);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
            {
                Say(next.Round, "update already in (an earlier attempt reached the coordinator)");   // retried after a lost reply
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                Say(next.Round, $"update refused: {e.Status.Detail}");   // too late: the round closed without us
            }
        }
    }

    /// <summary>A fresh deadline per attempt (the lambdas passed to <see cref="Retry"/> call this each time).</summary>
    CallOptions Deadline(CancellationToken cancel) => new(deadline: DateTime.UtcNow + options.CallTimeout, cancellationToken: cancel);

    async Task<LocalResult> RunLocalWork(RunTask task, Limits? limits, RoundTaskReply next, PrivacyLedger ledger, CancellationToken cancel)
    {
        if (options.LocalWorkGate is { } gate) await gate.WaitAsync(cancel);
        try
        {
            return await Task.Run(() => DoLocalWork(task, limits, next, ledger, cancel), cancel);
        }
        finally
        {
            options.LocalWorkGate?.Release();
        }
    }

    LocalResult DoLocalWork(RunTask task, Limits? limits, RoundTaskReply next, PrivacyLedger ledger, CancellationToken cancel) => next.Work.KindCase switch
    {
        LocalWork.KindOneofCase.Soft => new SoftLocalJob(task, options.MetricExamples).Run(next, ledger, null, cancel),
        LocalWork.KindOneofCase.Discrete => new DiscreteLocalJob(task, limits).Run(next, _inference, null, cancel),
        _ => throw new InvalidDataException($"round {next.Round} names no local work"),
    };

    /// <summary>Heartbeats every few seconds while local work runs, so the operator sees the client alive.</summary>
    IDisposable Heartbeats(EnrolReply enrol, int round, CancellationToken cancel)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, enrol.HeartbeatSeconds));
        return new Timer(_ =>
        {
            try
            {
                _federation.Heartbeat(new HeartbeatRequest { RunId = enrol.RunId, Activity = $"training round {round}" }, Deadline(cancel));
            }
            catch (RpcException)
            {
                // a missed heartbeat is harmless; the upload is what counts and it retries
            }
        }, null, period, period);
    }
}
