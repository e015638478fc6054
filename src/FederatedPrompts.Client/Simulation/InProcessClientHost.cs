using System.Diagnostics;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Protocol.Security;
using Grpc.Net.Client;

namespace FederatedPrompts.Client.Simulation;

/// <summary>
/// One client the host runs: its identity, its certificate (null in insecure mode), its local work, its state folder,
/// where its events go (null: nowhere), and its own model cache (null: the host's shared
/// <see cref="InProcessClientOptions.CacheDirectory"/>; a folder of its own makes it download the model as a client on
/// its own machine would).
/// </summary>
public sealed record HostedClient(
    string Identity, ClientCredentials? Tls, ILocalWork Work, string StateDirectory, IProgress<ClientEvent>? Events = null, string? CacheDirectory = null);

/// <summary>How the in-process host runs its clients.</summary>
public sealed record InProcessClientOptions
{
    public required Uri Coordinator { get; init; }
    /// <summary>Plaintext to a loopback coordinator, identities in the header; then every <see cref="HostedClient.Tls"/> is null.</summary>
    public bool Insecure { get; init; }
    /// <summary>
    /// The downloaded models, shared by the clients (and by other processes of this machine). Required when the work of
    /// some client without a <see cref="HostedClient.CacheDirectory"/> of its own uses the model.
    /// </summary>
    public string? CacheDirectory { get; init; }
    public CallPolicy Calls { get; init; } = new();
    /// <summary>Seeds each client's jitter (with its index), so the clients' polling has the same shape every run.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>At most this many enrolments (TLS handshakes) in flight at once, so a thousand clients do not stampede the listener.</summary>
    public int ConnectConcurrency { get; init; } = 64;
    /// <summary>At most this many clients at local work at once (null: no limit). Training already uses every core, so more would only thrash.</summary>
    public int? ConcurrentWork { get; init; }
}

/// <summary>What the host did: each client's summary (in the order the clients were given), when the last enrolment landed, and the whole run's time.</summary>
public sealed record InProcessRunSummary(IReadOnlyList<ClientSummary> Clients, double EnrolSeconds, double Seconds);

/// <summary>
/// Many federation clients in one process, each running the one <see cref="ClientLoop"/> with its own identity,
/// certificate and gRPC channel (its own <see cref="SocketsHttpHandler"/> and TLS connection, made by
/// <see cref="CoordinatorChannel.Create"/>), speaking the real protocol over real sockets. What the host adds is only
/// what sharing a process needs: gates on enrolments and on local work, jitter seeded per client, and a first failure
/// that stops the rest (local work shares loaded models through <see cref="SharedModels"/> where it is given one).
/// <c>simulate --in-process</c> and the benchmarks that measure the production path run their clients here.
/// </summary>
public sealed class InProcessClientHost : IAsyncDisposable
{
    readonly InProcessClientOptions _options;
    readonly List<(HostedClient Client, GrpcChannel Channel)> _clients;

    InProcessClientHost(InProcessClientOptions options, List<(HostedClient, GrpcChannel)> clients)
    {
        _options = options;
        _clients = clients;
    }

    /// <summary>Creates one channel per client (no connection is made until the first call).</summary>
    public static InProcessClientHost Create(IReadOnlyList<HostedClient> clients, InProcessClientOptions options)
    {
        if (clients.Count == 0) throw new ArgumentException("the in-process host needs at least one client");
        if (clients.Select(c => c.Identity).Distinct().Count() != clients.Count) throw new ArgumentException("hosted client identities repeat");
        if (options.ConnectConcurrency < 1) throw new ArgumentException("ConnectConcurrency must be at least 1");
        if (options.ConcurrentWork < 1) throw new ArgumentException("ConcurrentWork must be at least 1");
        options.Calls.Validate();
        var channels = clients.Select(c => (c, CoordinatorChannel.Create(options.Coordinator, c.Tls, options.Insecure, options.Insecure ? c.Identity : null))).ToList();
        return new InProcessClientHost(options, channels);
    }

    /// <summary>Runs every client until the coordinator says FINISHED; the first client failure stops the others and is thrown.</summary>
    public async Task<InProcessRunSummary> RunAsync(CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        using var connecting = new SemaphoreSlim(_options.ConnectConcurrency);
        using var working = _options.ConcurrentWork is int most ? new SemaphoreSlim(most) : null;
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        Exception? firstFailure = null;

        async Task<ClientSummary> RunOne(int index, HostedClient client, GrpcChannel channel)
        {
            var options = new ClientLoopOptions
            {
                Identity = client.Identity, StateDirectory = client.StateDirectory, CacheDirectory = client.CacheDirectory ?? _options.CacheDirectory, Calls = _options.Calls,
                JitterSeed = unchecked(_options.Seed * 1_000_003 + index), EnrolGate = connecting, LocalWorkGate = working,
            };
            try
            {
                return await new ClientLoop(channel.CreateCallInvoker(), client.Work, options).RunAsync(client.Events, failed.Token);
            }
            // Once the run is stopping, what the others throw (OperationCanceledException, or gRPC's CANCELLED from a call in
            // flight) is the stop, not a failure of their own.
            catch (Exception e) when (!failed.IsCancellationRequested)
            {
                // One broken client ends the simulation instead of leaving the rest waiting for a quorum.
                client.Events?.Report(new ClientEvent(client.Identity, 0, $"error: {e.Message}"));
                Interlocked.CompareExchange(ref firstFailure, new InvalidOperationException($"client {client.Identity} failed: {e.Message}", e), null);
                await failed.CancelAsync();
                throw;
            }
        }

        var runs = _clients.Select((c, i) => Task.Run(() => RunOne(i, c.Client, c.Channel))).ToList();
        try
        {
            await Task.WhenAll(runs);
        }
        catch when (firstFailure is not null && !cancel.IsCancellationRequested)
        {
            throw firstFailure;
        }
        var summaries = runs.Select(r => r.Result).ToList();
        return new InProcessRunSummary(summaries, (summaries.Max(s => s.EnrolledAt) - started).TotalSeconds, clock.Elapsed.TotalSeconds);
    }

    public ValueTask DisposeAsync()
    {
        foreach (var (_, channel) in _clients) channel.Dispose();
        _clients.Clear();
        return ValueTask.CompletedTask;
    }
}
