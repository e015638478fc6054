using System.Collections.Concurrent;
using System.Diagnostics;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Protocol.Security;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace FederatedPrompts.Client.Simulation;

/// <summary>One simulated client: its identity and, under TLS, its certificate (null in insecure mode).</summary>
public sealed record SimulatedIdentity(string Identity, ClientCredentials? Tls);

/// <summary>What a simulated client's local work sees: who it is, its enrolment and the round task it got.</summary>
public sealed record SimulatedRound(string Identity, EnrolReply Enrolment, RoundTaskReply Task);

/// <summary>What local work hands back for upload.</summary>
public sealed record SimulatedUpdate(PromptValue Prompt, LocalMetrics Metrics, PrivacySpend? Privacy = null);

/// <summary>How the in-process host behaves; the local work defaults to <see cref="SimulatedWork.PerturbGlobalPrompt"/> (no training).</summary>
public sealed record InProcessClientOptions
{
    public required Uri Coordinator { get; init; }
    public required Mode Mode { get; init; }
    /// <summary>Plaintext to a loopback coordinator, identities in the header; then every <see cref="SimulatedIdentity.Tls"/> is null.</summary>
    public bool Insecure { get; init; }
    /// <summary>Example count each client enrols with and reports with every update.</summary>
    public int ExampleCount { get; init; } = 10;
    public int Seed { get; init; } = 1;
    /// <summary>Local work per (client, round); runs on the thread pool. Null: <see cref="SimulatedWork.PerturbGlobalPrompt"/>() with its defaults.</summary>
    public Func<SimulatedRound, SimulatedUpdate>? Work { get; init; }
    /// <summary>At most this many enrolments (TLS handshakes) in flight at once, so a thousand clients do not stampede the listener.</summary>
    public int ConnectConcurrency { get; init; } = 64;
    /// <summary>A WAIT reply is honoured for retry_after_ms × (1 − jitter/2 … 1 + jitter/2), seeded per client, so clients do not poll in lock step.</summary>
    public double WaitJitter { get; init; } = 0.5;
    /// <summary>Deadline of each call; a call that hangs past it (a lost reply) is retried like any transient failure.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public int MaxAttempts { get; init; } = 12;
    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>One client's round as the host saw it (times are the host's monotonic clock, seconds since <see cref="InProcessClientHost.RunAsync"/> began).</summary>
public sealed record SimulatedUpload(string Identity, int Round, double TaskReceivedAt, double UploadAcceptedAt, double UploadSeconds, int RequestBytes, bool Accepted, string? Refusal);

/// <summary>What the host did: enrolment times, every upload, and the RPC counts (polls included).</summary>
public sealed record InProcessRunSummary(
    int Clients, double EnrolSeconds, IReadOnlyList<double> EnrolLatencies, IReadOnlyList<SimulatedUpload> Uploads,
    long RoundTaskCalls, long WaitReplies, double Seconds, IReadOnlyList<string> FinishReasons);

/// <summary>Ready-made local work for simulations that skip training.</summary>
public static class SimulatedWork
{
    /// <summary>
    /// No training: soft mode uploads the global prompt plus N(0, <paramref name="noise"/>²) per value; discrete mode the
    /// global token ids with one seeded position replaced by a seeded id below <paramref name="vocabularySize"/>
    /// (or, without one, by another id of the same prompt). Seeded by the round task's work seed, so runs reproduce.
    /// A DP policy is answered with a zero-ε spend at the policy's clip norm (nothing was trained, nothing spent).
    /// </summary>
    public static Func<SimulatedRound, SimulatedUpdate> PerturbGlobalPrompt(float noise = 0.01f, int? vocabularySize = null) => round =>
    {
        var task = round.Task;
        var random = new Random(task.Work.Seed);
        var prompt = task.GlobalPrompt.Clone();
        PrivacySpend? privacy = null;
        if (prompt.KindCase == PromptValue.KindOneofCase.Soft)
        {
            var values = prompt.Soft.Values;
            for (int i = 0; i < values.Count; i++) values[i] += noise * Gaussian(random);
            if (task.Work.Soft?.Dp is { } dp)
                privacy = new PrivacySpend { ClipNorm = dp.ClipNorm, Delta = dp.Delta, NoiseMultiplier = 0, SampleRate = 0, Steps = 0, EpsilonRound = 0, EpsilonTotal = 0 };
        }
        else if (prompt.KindCase == PromptValue.KindOneofCase.Discrete)
        {
            var ids = prompt.Discrete.TokenIds;
            if (ids.Count > 0)
                ids[random.Next(ids.Count)] = vocabularySize is int v ? random.Next(v) : ids[random.Next(ids.Count)];
            prompt.Discrete.Text = "";
        }
        else throw new InvalidDataException($"round {task.Round} carries no global prompt");
        var metrics = new LocalMetrics { AccuracyBefore = 0.5, AccuracyAfter = 0.5, FinalLoss = 0, Steps = 0, Seconds = 0 };
        return new SimulatedUpdate(prompt, metrics, privacy);
    };

    static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}

/// <summary>
/// Many federation clients in one process, each with its own identity, certificate and gRPC channel (its own
/// <see cref="SocketsHttpHandler"/> and TLS connection, made by <see cref="CoordinatorChannel.Create"/>), speaking the
/// real protocol over real sockets, every call with a deadline: Enrol, then GetRoundTask (honouring WAIT's retry_after_ms) → local work → Upload
/// until FINISHED. The model is not downloaded (the default work trains nothing); heartbeats are not sent. For
/// benchmarks of the coordinator and for simulations with many clients; it never touches the coordinator's internals.
/// </summary>
public sealed class InProcessClientHost : IAsyncDisposable
{
    readonly InProcessClientOptions _options;
    readonly List<(SimulatedIdentity Who, GrpcChannel Channel)> _clients;

    InProcessClientHost(InProcessClientOptions options, List<(SimulatedIdentity, GrpcChannel)> clients)
    {
        _options = options;
        _clients = clients;
    }

    public IReadOnlyList<string> Identities => _clients.Select(c => c.Who.Identity).ToList();

    /// <summary>Creates one channel per client (no connection is made until the first call).</summary>
    public static InProcessClientHost Create(IReadOnlyList<SimulatedIdentity> clients, InProcessClientOptions options)
    {
        if (clients.Count == 0) throw new ArgumentException("the in-process host needs at least one client");
        if (clients.Select(c => c.Identity).Distinct().Count() != clients.Count) throw new ArgumentException("simulated client identities repeat");
        if (options.ConnectConcurrency < 1) throw new ArgumentException("ConnectConcurrency must be at least 1");
        var channels = clients.Select(c => (c, CoordinatorChannel.Create(options.Coordinator, c.Tls, options.Insecure, options.Insecure ? c.Identity : null))).ToList();
        return new InProcessClientHost(options, channels);
    }

    /// <summary>Runs every client until the coordinator says FINISHED; the first client failure fails the whole run.</summary>
    public async Task<InProcessRunSummary> RunAsync(IProgress<ClientEvent>? events = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var work = _options.Work ?? SimulatedWork.PerturbGlobalPrompt();
        var uploads = new ConcurrentBag<SimulatedUpload>();
        var enrolLatencies = new ConcurrentBag<double>();
        var reasons = new ConcurrentBag<string>();
        long roundTaskCalls = 0, waits = 0, enrolled = 0;
        double enrolDone = 0;
        using var gate = new SemaphoreSlim(_options.ConnectConcurrency);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancel);

        async Task RunOne(int index, SimulatedIdentity who, GrpcChannel channel)
        {
            var federation = new Federation.FederationClient(channel);
            var retry = new Retry(_options.MaxAttempts, _options.FirstBackoff, _options.MaxBackoff, unchecked(_options.Seed * 7919 + index));
            var jitter = new Random(unchecked(_options.Seed * 1_000_003 + index));
            var token = failed.Token;
            EnrolReply enrol;
            await gate.WaitAsync(token);
            try
            {
                double started = clock.Elapsed.TotalSeconds;
                enrol = await retry.Call(() => federation.EnrolAsync(new EnrolRequest { Mode = _options.Mode, ExampleCount = _options.ExampleCount }, deadline: DateTime.UtcNow + _options.CallTimeout, cancellationToken: token).ResponseAsync, token);
                enrolLatencies.Add(clock.Elapsed.TotalSeconds - started);
            }
            finally
            {
                gate.Release();
            }
            if (Interlocked.Increment(ref enrolled) == _clients.Count) Volatile.Write(ref enrolDone, clock.Elapsed.TotalSeconds);
            events?.Report(new ClientEvent(who.Identity, 0, $"enrolled in {enrol.RunId}"));
            while (true)
            {
                var next = await retry.Call(() => federation.GetRoundTaskAsync(new RoundTaskRequest { RunId = enrol.RunId }, deadline: DateTime.UtcNow + _options.CallTimeout, cancellationToken: token).ResponseAsync, token);
                Interlocked.Increment(ref roundTaskCalls);
                switch (next.Action)
                {
                    case RoundTaskReply.Types.Action.Finished:
                        reasons.Add(next.Reason);
                        events?.Report(new ClientEvent(who.Identity, next.Round, $"finished: {next.Reason}"));
                        return;
                    case RoundTaskReply.Types.Action.Wait:
                        Interlocked.Increment(ref waits);
                        double factor = 1 + _options.WaitJitter * (jitter.NextDouble() - 0.5);
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(50, next.RetryAfterMs) * factor), token);
                        continue;
                    case RoundTaskReply.Types.Action.Train:
                        break;
                    default:
                        throw new InvalidDataException($"{who.Identity}: round task action {next.Action} is not one this client knows");
                }
                double received = clock.Elapsed.TotalSeconds;
                var update = await Task.Run(() => work(new SimulatedRound(who.Identity, enrol, next)), token);
                var request = new UploadRequest
                {
                    RunId = enrol.RunId, Round = next.Round, BasePromptVersion = next.GlobalPromptVersion, Prompt = update.Prompt, ExampleCount = _options.ExampleCount,
                    Metrics = update.Metrics, Privacy = update.Privacy,
                };
                int bytes = request.CalculateSize();
                double sent = clock.Elapsed.TotalSeconds;
                try
                {
                    var reply = await retry.Call(() => federation.UploadAsync(request, deadline: DateTime.UtcNow + _options.CallTimeout, cancellationToken: token).ResponseAsync, token);
                    double accepted = clock.Elapsed.TotalSeconds;
                    uploads.Add(new SimulatedUpload(who.Identity, next.Round, received, accepted, accepted - sent, bytes, true, null));
                    events?.Report(new ClientEvent(who.Identity, next.Round, $"uploaded ({reply.UploadsInRound} in round)"));
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.AlreadyExists or StatusCode.FailedPrecondition)
                {
                    uploads.Add(new SimulatedUpload(who.Identity, next.Round, received, clock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds - sent, bytes, false, e.Status.Detail));
                    events?.Report(new ClientEvent(who.Identity, next.Round, $"update refused: {e.Status.Detail}"));
                }
            }
        }

        Exception? firstFailure = null;
        var tasks = _clients.Select((c, i) => Task.Run(async () =>
        {
            try
            {
                await RunOne(i, c.Who, c.Channel);
            }
            catch (Exception e) when (!(e is OperationCanceledException && failed.IsCancellationRequested))
            {
                // One broken client ends the simulation instead of leaving the rest waiting for a quorum.
                Interlocked.CompareExchange(ref firstFailure, new InvalidOperationException($"simulated client {c.Who.Identity} failed: {e.Message}", e), null);
                await failed.CancelAsync();
                throw;
            }
        })).ToList();
        try
        {
            await Task.WhenAll(tasks);
        }
        catch when (firstFailure is not null && !cancel.IsCancellationRequested)
        {
            throw firstFailure;
        }
        return new InProcessRunSummary(_clients.Count, Volatile.Read(ref enrolDone), enrolLatencies.Order().ToList(),
            uploads.OrderBy(u => u.Round).ThenBy(u => u.UploadAcceptedAt).ToList(), roundTaskCalls, waits, clock.Elapsed.TotalSeconds, reasons.Distinct().ToList());
    }

    public ValueTask DisposeAsync()
    {
        foreach (var (_, channel) in _clients) channel.Dispose();
        _clients.Clear();
        return ValueTask.CompletedTask;
    }
}
