using FederatedPrompts.Client;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Protocol.Security;
using FederatedPrompts.Protocol.V1;
using Grpc.Net.Client;

namespace FederatedPrompts.Cli.Simulation;

/// <summary>One simulated organization: its identity, private data file and state folder.</summary>
public sealed record SimulatedClient(string Identity, string DataPath, string StateDirectory);

/// <summary>
/// The simulation's clients: either one <c>fedprompt client</c> process each, or (<c>--in-process</c>, for large N)
/// one <see cref="FederationClient"/> each inside this process. Both speak gRPC over mutual TLS with their own
/// certificate and connection and write their lines to logs/IDENTITY.log; only the hosting differs.
/// </summary>
public abstract class ClientFleet : IDisposable
{
    /// <summary>The first client that has failed so far ("client-3 exited with 1; see …"), or null.</summary>
    public abstract string? FirstFailure { get; }

    /// <summary>Waits for every client to finish; returns the failures.</summary>
    public abstract Task<IReadOnlyList<string>> WaitAsync(CancellationToken cancel);

    public abstract void Dispose();

    public static ClientFleet Processes(IReadOnlyList<SimulatedClient> clients, string address, string certs, Mode mode, string cache, string logs) =>
        new ProcessFleet(clients.Select(c => new FedpromptProcess(c.Identity, LogPath(logs, c),
            ["client", "--coordinator", address, "--certs", certs, "--identity", c.Identity, "--data", c.DataPath,
             "--mode", mode == Mode.Soft ? "soft" : "discrete", "--cache", cache, "--state", c.StateDirectory])).ToList());

    /// <summary>
    /// All clients in this process. <paramref name="concurrentWork"/> bounds how many train at once: every local job
    /// already uses all cores through libtorch, so more would only thrash (and hold more activations in memory).
    /// </summary>
    public static ClientFleet InProcess(IReadOnlyList<SimulatedClient> clients, string address, string certs, Mode mode, string cache, string logs,
        int concurrentWork) => new InProcessFleet(clients, new Uri(address), certs, mode, cache, logs, concurrentWork);

    static string LogPath(string logs, SimulatedClient client) => Path.Combine(logs, $"{client.Identity}.log");

    sealed class ProcessFleet(List<FedpromptProcess> processes) : ClientFleet
    {
        public override string? FirstFailure =>
            processes.FirstOrDefault(p => p.HasExited && p.ExitCode != 0) is { } dead ? $"{dead.Name} exited with {dead.ExitCode}; see {dead.LogPath}" : null;

        public override async Task<IReadOnlyList<string>> WaitAsync(CancellationToken cancel)
        {
            foreach (var p in processes) await p.WaitAsync(cancel).WaitAsync(TimeSpan.FromMinutes(1), cancel);
            return processes.Where(p => p.ExitCode != 0).Select(p => $"{p.Name} (exit {p.ExitCode}, see {p.LogPath})").ToList();
        }

        public override void Dispose()
        {
            foreach (var p in processes) p.Dispose();
        }
    }

    sealed class InProcessFleet : ClientFleet
    {
        readonly CancellationTokenSource _stop = new();
        readonly SemaphoreSlim _gate;
        readonly string _logs;
        readonly List<(SimulatedClient Client, GrpcChannel Channel, StreamWriter Log, Task Run)> _clients = [];
        readonly Lock _failuresGate = new();
        readonly List<string> _failures = [];

        public InProcessFleet(IReadOnlyList<SimulatedClient> clients, Uri address, string certs, Mode mode, string cache, string logs, int concurrentWork)
        {
            _gate = new SemaphoreSlim(Math.Max(1, concurrentWork));
            _logs = logs;
            string authority = PemFiles.CertificatePath(certs, "ca");
            try
            {
                foreach (var client in clients)
                {
                    var options = new ClientOptions
                    {
                        PrivateData = TaskFile.Load(client.DataPath).RequireAtLeastTwoClasses(), Mode = mode, CacheDirectory = cache,
                        StateDirectory = client.StateDirectory, LocalWorkGate = _gate,
                    };
                    var tls = ClientCredentials.Load(PemFiles.CertificatePath(certs, client.Identity), PemFiles.KeyPath(certs, client.Identity), authority);
                    var channel = CoordinatorChannel.Create(address, tls, insecure: false, insecureIdentity: null);
                    var log = new StreamWriter(LogPath(logs, client)) { AutoFlush = true };
                    _clients.Add((client, channel, log, Run(client, new FederationClient(channel.CreateCallInvoker(), options), log)));
                }
            }
            catch
            {
                Dispose();   // the clients already started stop, and their channels and logs are closed
                throw;
            }
        }

        async Task Run(SimulatedClient client, FederationClient federation, StreamWriter log)
        {
            void Write(string line)
            {
                lock (log) log.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");
            }
            // Synchronous reporting (not Progress<T>, which posts to the thread pool) keeps each log in order.
            var events = new InlineProgress<ClientEvent>(e => Write($"{e.ClientId} round {e.Round}: {e.What}"));
            await Task.Yield();   // the constructor returns before any client starts its work
            try
            {
                var summary = await federation.RunAsync(events, _stop.Token);
                Write($"{summary.ClientId} trained in rounds [{string.Join(", ", summary.RoundsTrained)}]" +
                      (summary.EpsilonSpent is double eps ? $", spent ε = {eps:F2}" : ""));
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                Write($"error: {e.Message}");
                lock (_failuresGate) _failures.Add($"{client.Identity} ({e.Message}; see {LogPath(_logs, client)})");
            }
        }

        public override string? FirstFailure
        {
            get
            {
                lock (_failuresGate) return _failures.FirstOrDefault();
            }
        }

        public override async Task<IReadOnlyList<string>> WaitAsync(CancellationToken cancel)
        {
            await Task.WhenAll(_clients.Select(c => c.Run)).WaitAsync(TimeSpan.FromMinutes(1), cancel);
            lock (_failuresGate) return _failures.ToList();
        }

        public override void Dispose()
        {
            _stop.Cancel();
            try
            {
                Task.WhenAll(_clients.Select(c => c.Run)).Wait(TimeSpan.FromSeconds(30));
            }
            catch (AggregateException)
            {
                // cancelled clients; their failures were recorded where they mattered
            }
            foreach (var (_, channel, log, _) in _clients)
            {
                channel.Dispose();
                lock (log) log.Dispose();
            }
            _gate.Dispose();
            _stop.Dispose();
        }
    }

    sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
