using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Protocol.Security;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// A real coordinator for one run, as the benchmarks that measure the production path use it: a CA in memory issues
/// the coordinator's certificate and one per client of the run, and the coordinator listens with mutual TLS on
/// 127.0.0.1 with its SQLite store in a folder. The clients are the caller's (an <see cref="Client.Simulation.InProcessClientHost"/>).
/// </summary>
public sealed class LoopbackFederation : IAsyncDisposable
{
    readonly CertificateAuthority _ca;
    readonly CoordinatorCredentials _coordinatorTls;
    readonly Dictionary<string, ClientCredentials> _clients;
    CoordinatorHost? _coordinator;

    /// <summary>
    /// Issues the certificates (ECDSA, fast, but a thousand of them are measurable); starts nothing. Without
    /// <paramref name="issueClients"/> only the coordinator's: clients in other processes issue their own from <see cref="Authority"/>.
    /// </summary>
    public LoopbackFederation(RunConfig config, string folder, bool issueClients = true)
    {
        Config = config;
        Directory.CreateDirectory(folder);
        Database = Path.Combine(folder, "coordinator.db");
        _ca = CertificateAuthority.Create("Benchmark federation CA");
        _coordinatorTls = new CoordinatorCredentials(_ca.IssueServer("coordinator"), _ca.Certificate);
        _clients = issueClients ? config.Clients.ToDictionary(id => id, id => new ClientCredentials(_ca.IssueClient(id), _ca.Certificate)) : [];
    }

    public RunConfig Config { get; }
    public string Database { get; }
    public CertificateAuthority Authority => _ca;
    public ClientCredentials Credentials(string identity) => _clients.TryGetValue(identity, out var credentials) ? credentials
        : throw new InvalidOperationException($"no certificate was issued here for {identity}");

    public CoordinatorHost Coordinator => _coordinator ?? throw new InvalidOperationException("the coordinator has not started");
    public RoundEngine Engine => Coordinator.Runs.Current!.Engine;

    /// <summary>
    /// Starts the coordinator on a free port of 127.0.0.1 with the run created and started; it logs warnings and worse to
    /// the console. <paramref name="inference"/>: how its inference service batches (default: the coordinator's default).
    /// </summary>
    public async Task StartAsync(CancellationToken cancel, InferenceBatching? inference = null)
    {
        _coordinator = CoordinatorHost.Create(new CoordinatorOptions
        {
            Transport = new CoordinatorTransport(new Uri("https://127.0.0.1:0"), _coordinatorTls, Insecure: false), Database = Database, Config = Config,
            Inference = inference ?? InferenceBatching.Default,
        }, logs => logs.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        await _coordinator.StartAsync(cancel);
    }

    /// <summary>
    /// The run once it has finished: clients hear FINISHED after the last round, while a soft run still transfers. A run
    /// that failed, or is not finished within <paramref name="patience"/>, is an error naming its state.
    /// </summary>
    public async Task<RunSnapshot> FinishedAsync(TimeSpan patience, CancellationToken cancel)
    {
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        while (Engine.State is not (RunState.Finished or RunState.Failed) && waiting.Elapsed < patience)
            await Task.Delay(50, cancel);
        var snapshot = Engine.Snapshot();
        if (snapshot.Run.State != RunState.Finished)
            throw new InvalidOperationException($"the benchmark run {Config.Name} ended {snapshot.Run.State}: {snapshot.Run.Error}");
        return snapshot;
    }

    public async ValueTask DisposeAsync()
    {
        if (_coordinator is not null)
        {
            await _coordinator.StopAsync();
            await _coordinator.DisposeAsync();
        }
        _ca.Dispose();
    }
}
