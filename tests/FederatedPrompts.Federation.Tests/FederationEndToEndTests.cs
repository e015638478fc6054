using System.Text.Json;
using FederatedPrompts.Client;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Prompts;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// A coordinator and three clients over real mutual TLS on 127.0.0.1, two rounds, in each mode, and hybrid: client-1 and
/// client-2 tune soft prompts while client-3 searches a token prompt in the same run (min_clients 1 of each).
/// </summary>
public class FederationEndToEndTests(TinyFederation setting, ITestOutputHelper output) : IClassFixture<TinyFederation>
{
    [Theory]
    [InlineData("soft")]
    [InlineData("discrete")]
    [InlineData("hybrid")]
    public async Task Two_rounds_complete_over_mutual_tls_and_every_update_is_stored(string mode)
    {
        await using var coordinator = CoordinatorHost.Create(new CoordinatorOptions
        {
            Transport = new CoordinatorTransport(new Uri("https://127.0.0.1:0"), setting.CoordinatorTls, Insecure: false),
            Database = setting.Combine($"{mode}-{Guid.NewGuid():N}.db"), Config = setting.Config(mode, change: c => mode == "hybrid" ? c with { MinClients = 1 } : c),
        }, logs => logs.AddProvider(new TestOutputLoggerProvider(output)));
        await coordinator.StartAsync();
        Assert.Equal("https", coordinator.Address.Scheme);

        var clients = TinyFederation.Clients.Select((id, k) => new ClientLoop(
            CoordinatorChannel.Create(coordinator.Address, setting.Tls(id), insecure: false, insecureIdentity: null).CreateCallInvoker(),
            mode == "soft" || (mode == "hybrid" && k < 2) ? new SoftLocalWork(setting.Data(k)) : new DiscreteLocalWork(setting.Data(k)),
            new ClientLoopOptions { Identity = id, CacheDirectory = setting.Combine("cache"), StateDirectory = setting.Combine($"state-{mode}-{id}") }).RunAsync(new Progress<ClientEvent>(e => output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {e.ClientId} round {e.Round}: {e.What}")))).ToList();
        var summaries = await Task.WhenAll(clients).WaitAsync(TimeSpan.FromMinutes(3));

        // Clients are told FINISHED once the rounds are done; the soft prompt's transfer may still be running.
        await TinyFederation.UntilOver(coordinator.Runs.Current!.Engine, TimeSpan.FromMinutes(2));
        var run = coordinator.Runs.Current!.Engine.Snapshot();
        Assert.Equal(RunState.Finished, run.Run.State);
        Assert.Equal(2, run.Rounds.Count);
        Assert.All(run.Rounds, r => Assert.Equal(RoundState.Closed, r.State));
        Assert.All(run.Rounds, r => Assert.Equal(run.Run.Config.Modes, r.Modes.Keys));
        Assert.All(run.Rounds.SelectMany(r => r.Modes.Values), part => Assert.InRange(part.Accuracy!.Value, 0, 1));
        // Every sampled client's update is stored, and each client trained in exactly the rounds it was sampled in.
        Assert.Equal(run.Rounds.Sum(r => r.Sampled.Count), run.Updates.Count);
        foreach (var summary in summaries)
            Assert.Equal(run.Rounds.Where(r => r.Sampled.Contains(summary.ClientId)).Select(r => r.Round), summary.RoundsTrained);

        var report = JsonDocument.Parse(RunReport.Json(run, coordinator.Runs.Store)).RootElement;
        Assert.Equal("finished", report.GetProperty("state").GetString());
        if (mode != "discrete")
            Assert.InRange(report.GetProperty("modes").GetProperty("soft").GetProperty("transfer").GetProperty("transferred_large").GetDouble(), 0, 1);
        if (mode != "soft")
            Assert.Contains(report.GetProperty("clients").EnumerateArray(), c => c.GetProperty("inference_queries").GetInt64() > 0);
        if (mode == "hybrid")
        {
            // Each mode aggregated only its own clients' updates, and both prompts were published.
            Assert.All(run.Updates, u => Assert.Equal(u.ClientId == "client-3" ? PromptMode.Discrete : PromptMode.Soft, u.Mode));
            Assert.Equal([PromptMode.Soft, PromptMode.Discrete], coordinator.Runs.Store.Results(run.Run.RunId).Select(r => r.Mode));
            Assert.Equal(["soft", "soft", "discrete"], report.GetProperty("clients").EnumerateArray().Select(c => c.GetProperty("mode").GetString()));
        }
    }

    /// <summary>
    /// Issue #16: DP-SGD across rounds over mutual TLS with each accountant. Every client calibrates σ for the whole run
    /// with the run's accountant, its ledger composes its rounds with it, and the ε each update reports is that
    /// composition, within the run's budget; the coordinator stores it. PRV needs less noise than RDP for the same ε.
    /// </summary>
    [Fact]
    public async Task Dp_clients_account_for_all_rounds_with_the_runs_accountant()
    {
        var sigmas = new Dictionary<string, double>();
        foreach (string accountant in new[] { "prv", "rdp" })
        {
            await using var coordinator = CoordinatorHost.Create(new CoordinatorOptions
            {
                Transport = new CoordinatorTransport(new Uri("https://127.0.0.1:0"), setting.CoordinatorTls, Insecure: false),
                Database = setting.Combine($"dp-{accountant}-{Guid.NewGuid():N}.db"),
                Config = setting.Config("soft", change: c => c with { Soft = c.Soft with { Dp = new DpRunConfig(ClipNorm: 1, Epsilon: 8, Accountant: accountant) } }),
            }, logs => logs.AddProvider(new TestOutputLoggerProvider(output)));
            await coordinator.StartAsync();
            string State(string id) => setting.Combine($"state-dp-{accountant}-{id}");
            var clients = TinyFederation.Clients.Select((id, k) => new ClientLoop(
                CoordinatorChannel.Create(coordinator.Address, setting.Tls(id), insecure: false, insecureIdentity: null).CreateCallInvoker(),
                new SoftLocalWork(setting.Data(k)),
                new ClientLoopOptions { Identity = id, CacheDirectory = setting.Combine("cache"), StateDirectory = State(id) }).RunAsync()).ToList();
            var summaries = await Task.WhenAll(clients).WaitAsync(TimeSpan.FromMinutes(3));
            await TinyFederation.UntilOver(coordinator.Runs.Current!.Engine, TimeSpan.FromMinutes(2));
            var run = coordinator.Runs.Current!.Engine.Snapshot();
            Assert.Equal(RunState.Finished, run.Run.State);

            var kind = Post.Privacy.PrivacyAccountants.Parse(accountant);
            foreach (var summary in summaries)
            {
                var ledger = new PrivacyLedger(State(summary.ClientId), run.Run.RunId);
                Assert.Equal(summary.RoundsTrained, ledger.Entries.Select(e => e.Round));
                Assert.All(ledger.Entries, e => Assert.Equal(kind, e.Accountant));
                var updates = run.Updates.Where(u => u.ClientId == summary.ClientId).OrderBy(u => u.Round).ToList();
                for (int r = 0; r < updates.Count; r++)
                {
                    // The ε an update reports composes this client's rounds so far with the run's accountant.
                    var accounting = Post.Privacy.PrivacyAccountants.Create(kind);
                    foreach (var e in ledger.Entries.Take(r + 1)) accounting.Record(e.SampleRate, e.NoiseMultiplier, e.Steps);
                    var spent = updates[r].Privacy!;
                    Assert.Equal(accounting.Epsilon(spent.Delta), spent.EpsilonTotal, 9);
                    Assert.Equal(ledger.Entries[r].NoiseMultiplier, spent.NoiseMultiplier);
                    Assert.InRange(spent.EpsilonTotal, 0, 8);
                }
                Assert.Equal(summary.EpsilonSpent, ledger.Epsilon(ledger.Entries[^1].Delta));
            }
            sigmas[accountant] = run.Updates.Average(u => u.Privacy!.NoiseMultiplier);
        }
        Assert.True(sigmas["prv"] < sigmas["rdp"], $"σ {sigmas["prv"]} (prv) against {sigmas["rdp"]} (rdp)");
    }
}
