using System.Collections.Concurrent;
using System.Security.Cryptography;
using FederatedPrompts.Client;
using FederatedPrompts.Client.Simulation;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Protocol;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// The one client loop behind its local-work seam, against a real coordinator over mutual TLS on 127.0.0.1: clients of
/// the in-process host and a client on its own (as <c>fedprompt client</c> runs it) do a test's local work through the
/// same loop, and the coordinator stores what the work returned.
/// </summary>
public class ClientLoopTests(TinyFederation setting, ITestOutputHelper output) : IClassFixture<TinyFederation>
{
    static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Hosted_clients_and_a_client_on_its_own_run_one_loop_around_the_local_work()
    {
        await using var coordinator = await Start(rounds: 2);
        var engine = coordinator.Runs.Current!.Engine;
        var work = new RecordingWork(engine);

        // client-1 and client-2 in the in-process host; client-3 on its own, as the client command builds it.
        await using var host = InProcessClientHost.Create(
            [.. TinyFederation.Clients.Take(2).Select(id => new HostedClient(id, setting.Tls(id), work.For(id), setting.Combine($"state-host-{id}-{Guid.NewGuid():N}"), Log()))],
            new InProcessClientOptions { Coordinator = coordinator.Address, CacheDirectory = setting.Combine($"cache-{Guid.NewGuid():N}") });
        using var channel = CoordinatorChannel.Create(coordinator.Address, setting.Tls("client-3"), insecure: false, insecureIdentity: null);
        var alone = new ClientLoop(channel.CreateCallInvoker(), work.For("client-3"), new ClientLoopOptions
        {
            Identity = "client-3", CacheDirectory = setting.Combine($"cache-{Guid.NewGuid():N}"), StateDirectory = setting.Combine($"state-alone-{Guid.NewGuid():N}"),
        });
        var hosted = host.RunAsync();
        var single = await alone.RunAsync(Log()).WaitAsync(Patience);
        var summaries = (await hosted.WaitAsync(Patience)).Clients.Append(single).ToList();

        // Clients are told FINISHED once the rounds are done; the soft prompt's transfer may still be running.
        await TinyFederation.UntilOver(engine, Patience);
        var run = engine.Snapshot();
        Assert.Equal(RunState.Finished, run.Run.State);
        Assert.Equal(TinyFederation.Clients, summaries.Select(s => s.ClientId));
        Assert.All(summaries, s => Assert.Equal(new[] { 1, 2 }, s.RoundsTrained));
        // Each work was opened once, on the model the loop downloaded and verified against the coordinator's manifest.
        var manifest = coordinator.Runs.Current!.Models.Value.Folder;
        Assert.Equal(3, work.ModelFolders.Count);
        foreach (var folder in work.ModelFolders.Values)
            Assert.All(manifest.Files, f => Assert.Equal(f.Sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, f.Name))))));
        // Every round's work started from the round's global prompt, named its version, and the loop kept heartbeating while it ran.
        foreach (var (identity, assignment) in work.Assignments)
        {
            var round = run.Rounds.Single(r => r.Round == assignment.Round);
            var promptIn = round.Modes[PromptMode.Soft].PromptIn;
            Assert.Equal(PromptCodec.Encode(promptIn), PromptCodec.Encode(((SoftWorkSettings)assignment.Work).GlobalPrompt));
            Assert.Equal(PromptCodec.Version(promptIn), assignment.GlobalPromptVersion);
            Assert.Contains((identity, assignment.Round), work.Heartbeats);
        }
        // The coordinator stored, byte for byte, the prompt and metrics each work returned: the one mapping to the wire.
        Assert.Equal(6, run.Updates.Count);
        foreach (var update in run.Updates)
        {
            var returned = (SoftUpdate)work.Updates[(update.ClientId, update.Round)];
            Assert.Equal(PromptCodec.Encode(returned.Prompt), PromptCodec.Encode(update.Prompt));
            Assert.Equal(returned.Metrics, update.Metrics);
            Assert.Equal(setting.Data(0).Count, update.ExampleCount);
        }
    }

    [Fact]
    public async Task A_failing_client_stops_the_host_and_says_why_in_its_own_events()
    {
        await using var coordinator = await Start(rounds: 1);
        var work = new RecordingWork(coordinator.Runs.Current!.Engine) { FailingClient = "client-2" };
        var events = new ConcurrentDictionary<string, ConcurrentQueue<string>>();
        await using var host = InProcessClientHost.Create(
            [.. TinyFederation.Clients.Select(id => new HostedClient(id, setting.Tls(id), work.For(id), setting.Combine($"state-fail-{id}-{Guid.NewGuid():N}"),
                new InlineProgress(e => events.GetOrAdd(id, _ => new()).Enqueue(e.What))))],
            new InProcessClientOptions { Coordinator = coordinator.Address, CacheDirectory = setting.Combine($"cache-{Guid.NewGuid():N}") });

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => host.RunAsync().WaitAsync(Patience));
        Assert.Equal("client client-2 failed: the test's work broke in round 1", failure.Message);
        Assert.Contains("error: the test's work broke in round 1", events["client-2"]);
        Assert.DoesNotContain(events["client-1"], e => e.StartsWith("error"));
    }

    async Task<CoordinatorHost> Start(int rounds)
    {
        var coordinator = CoordinatorHost.Create(new CoordinatorOptions
        {
            Transport = new CoordinatorTransport(new Uri("https://127.0.0.1:0"), setting.CoordinatorTls, Insecure: false),
            Database = setting.Combine($"loop-{Guid.NewGuid():N}.db"),
            // Every client in every round: a round opens only once all three are enrolled.
            Config = setting.Config("soft", rounds, c => c with { MinClients = TinyFederation.Clients.Length }),
        }, logs => logs.AddProvider(new TestOutputLoggerProvider(output)));
        await coordinator.StartAsync();
        return coordinator;
    }

    InlineProgress Log() => new(e => output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {e.ClientId} round {e.Round}: {e.What}"));

    sealed class InlineProgress(Action<ClientEvent> report) : IProgress<ClientEvent>
    {
        public void Report(ClientEvent value) => report(value);
    }

    /// <summary>
    /// A test's local work: it trains nothing, moves the global prompt by an amount of its own per client (an update equal
    /// to the global prompt would be refused as untrained), and records what the loop handed it. In each round it waits
    /// until the coordinator has seen the client's heartbeat, so a loop that does not heartbeat during work fails.
    /// </summary>
    sealed class RecordingWork(RoundEngine engine)
    {
        public RoundEngine Engine => engine;
        public string? FailingClient { get; init; }
        public ConcurrentDictionary<string, string> ModelFolders { get; } = new();
        public ConcurrentBag<(string Identity, RoundAssignment Assignment)> Assignments { get; } = [];
        public ConcurrentBag<(string Identity, int Round)> Heartbeats { get; } = [];
        public ConcurrentDictionary<(string Identity, int Round), LocalUpdate> Updates { get; } = new();

        public ILocalWork For(string identity) => new Work(this, identity);

        sealed class Work(RecordingWork record, string identity) : ILocalWork, ILocalRun
        {
            readonly int _index = Array.IndexOf(TinyFederation.Clients, identity);

            public PromptMode Mode => PromptMode.Soft;
            public int ExampleCount => 6;
            public bool UsesModel => true;

            public ILocalRun Open(LocalRunContext run)
            {
                Assert.True(record.ModelFolders.TryAdd(identity, run.ModelFolder), $"{identity}'s work was opened twice");
                return this;
            }

            public LocalUpdate Train(RoundAssignment round, CancellationToken cancel)
            {
                record.Assignments.Add((identity, round));
                if (identity == record.FailingClient) throw new InvalidDataException($"the test's work broke in round {round.Round}");
                var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
                string training = $"training round {round.Round}";
                while (record.Engine.Snapshot().Clients.Single(c => c.ClientId == identity).Activity != training)
                {
                    if (DateTime.UtcNow > until) return Update(round);   // no heartbeat: the assertion on Heartbeats fails
                    cancel.ThrowIfCancellationRequested();
                    Thread.Sleep(100);
                }
                record.Heartbeats.Add((identity, round.Round));
                return Update(round);
            }

            LocalUpdate Update(RoundAssignment round)
            {
                var global = ((SoftWorkSettings)round.Work).GlobalPrompt;
                var values = global.Values.ToArray().Select(v => v + 0.01f * (_index + 1) * round.Round).ToArray();
                var update = new SoftUpdate(new SoftPrompt(values, global.Length, global.HiddenSize, global.ModelIdentity),
                    new LocalWorkMetrics(AccuracyBefore: 0.5, AccuracyAfter: 0.1 * (_index + 1), FinalLoss: 0.3, Steps: 10 * round.Round + _index, Queries: 0, TokensSent: 0, Seconds: 0.01),
                    Privacy: null);
                record.Updates[(identity, round.Round)] = update;
                return update;
            }

            public void Dispose() { }
        }
    }
}
