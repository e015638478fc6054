using FederatedPrompts.Client;
using FederatedPrompts.Client.Simulation;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Protocol.Security;

namespace FederatedPrompts.Cli.Simulation;

/// <summary>One simulated organization: its identity, private data file, state folder and the mode it tunes prompts in.</summary>
public sealed record SimulatedClient(string Identity, string DataPath, string StateDirectory, PromptMode Mode);

/// <summary>
/// The simulation's clients: either one <c>fedprompt client</c> process each, or (<c>--in-process</c>, for large N)
/// one <see cref="ClientLoop"/> each inside this process (<see cref="InProcessClientHost"/>). Both run the same loop and
/// speak gRPC over mutual TLS with their own certificate and connection and write their lines to logs/IDENTITY.log;
/// only the hosting differs.
/// </summary>
public abstract class ClientFleet : IDisposable
{
    /// <summary>The first client that has failed so far ("client-3 exited with 1; see …"), or null.</summary>
    public abstract string? FirstFailure { get; }

    /// <summary>Waits for every client to finish; returns the failures.</summary>
    public abstract Task<IReadOnlyList<string>> WaitAsync(CancellationToken cancel);

    public abstract void Dispose();

    public static ClientFleet Processes(IReadOnlyList<SimulatedClient> clients, string address, string certs, string cache, string logs) =>
        new ProcessFleet(clients.Select(c => new FedpromptProcess(c.Identity, LogPath(logs, c),
            ["client", "--coordinator", address, "--certs", certs, "--identity", c.Identity, "--task", c.DataPath,
             "--mode", Prompt.NameOf(c.Mode), "--cache", cache, "--state", c.StateDirectory])).ToList());

    /// <summary>
    /// All clients in this process. <paramref name="concurrentWork"/> bounds how many train at once: every local job
    /// already uses all cores through libtorch, so more would only thrash (and hold more activations in memory).
    /// </summary>
    public static ClientFleet InProcess(IReadOnlyList<SimulatedClient> clients, string address, string certs, string cache, string logs,
        int concurrentWork) => new InProcessFleet(clients, new Uri(address), certs, cache, logs, concurrentWork);

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

    /// <summary>The clients as one <see cref="InProcessClientHost"/>, sharing one copy of the model; each writes its own log.</summary>
    sealed class InProcessFleet : ClientFleet
    {
        readonly CancellationTokenSource _stop = new();
        readonly SharedModels _models = new();
        readonly List<StreamWriter> _logs = [];
        readonly InProcessClientHost _host;
        readonly Task _run;
        readonly string _logFolder;

        public InProcessFleet(IReadOnlyList<SimulatedClient> clients, Uri address, string certs, string cache, string logs, int concurrentWork)
        {
            _logFolder = logs;
            string authority = PemFiles.CertificatePath(certs, "ca");
            var hosted = new List<HostedClient>();
            var lines = new Dictionary<string, Action<string>>();
            try
            {
                foreach (var client in clients)
                {
                    var data = TaskFile.Load(client.DataPath).RequireAtLeastTwoClasses();
                    ILocalWork work = client.Mode == PromptMode.Soft ? new SoftLocalWork(data, _models) : new DiscreteLocalWork(data, _models);
                    var tls = ClientCredentials.Load(PemFiles.CertificatePath(certs, client.Identity), PemFiles.KeyPath(certs, client.Identity), authority);
                    var log = new StreamWriter(LogPath(logs, client)) { AutoFlush = true };
                    _logs.Add(log);
                    void Write(string line)
                    {
                        lock (log) log.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");
                    }
                    lines[client.Identity] = Write;
                    // Synchronous reporting (not Progress<T>, which posts to the thread pool) keeps each log in order.
                    hosted.Add(new HostedClient(client.Identity, tls, work, client.StateDirectory,
                        new InlineProgress<ClientEvent>(e => Write($"{e.ClientId} round {e.Round}: {e.What}"))));
                }
                _host = InProcessClientHost.Create(hosted, new InProcessClientOptions { Coordinator = address, CacheDirectory = cache, ConcurrentWork = concurrentWork });
            }
            catch
            {
                Close();   // the logs already opened are closed
                throw;
            }
            _run = RunAndLog(lines);
        }

        async Task RunAndLog(Dictionary<string, Action<string>> lines)
        {
            await Task.Yield();   // the constructor returns before any client starts its work
            var summary = await _host.RunAsync(_stop.Token);
            foreach (var client in summary.Clients)
                lines[client.ClientId]($"{client.ClientId} trained in rounds [{string.Join(", ", client.RoundsTrained)}]" +
                                       (client.EpsilonSpent is double eps ? $", spent ε = {eps:F2}" : ""));
        }

        public override string? FirstFailure => _run.IsFaulted ? $"{_run.Exception!.InnerException!.Message} (see {_logFolder})" : null;

        public override async Task<IReadOnlyList<string>> WaitAsync(CancellationToken cancel)
        {
            try
            {
                await _run.WaitAsync(TimeSpan.FromMinutes(1), cancel);
                return [];
            }
            catch (InvalidOperationException) when (_run.IsFaulted)
            {
                return [FirstFailure!];   // the host's first failure: which client, and why; its log says the rest
            }
        }

        public override void Dispose()
        {
            _stop.Cancel();
            try
            {
                _run.Wait(TimeSpan.FromSeconds(30));
            }
            catch (AggregateException)
            {
                // cancelled clients; a failure that mattered was reported by WaitAsync or FirstFailure
            }
            _host.DisposeAsync().AsTask().Wait();
            Close();
            _models.Dispose();
            _stop.Dispose();
        }

        void Close()
        {
            foreach (var log in _logs)
                lock (log) log.Dispose();
        }
    }

    sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
