using System.Text.Json;
using FederatedPrompts.Client;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FederatedPrompts.Federation.Tests;

/// <summary>A coordinator and three clients over real HTTP/2 on 127.0.0.1, two rounds, in each mode.</summary>
public class FederationEndToEndTests(TinyFederation setting, ITestOutputHelper output) : IClassFixture<TinyFederation>
{
    static CallInvoker Channel(Uri address, string identity) =>
        GrpcChannel.ForAddress(address).Intercept(metadata => { metadata.Add("fedprompt-identity", identity); return metadata; });

    [Theory]
    [InlineData("soft")]
    [InlineData("discrete")]
    public async Task Two_rounds_complete_and_every_update_is_stored(string mode)
    {
        string db = setting.Combine($"{mode}-{Guid.NewGuid():N}.db");
        await using var coordinator = CoordinatorHost.Create(new CoordinatorOptions
        {
            Listen = new Uri("http://127.0.0.1:0"), Database = db, Config = setting.Config(mode), Insecure = true,
        }, logs => logs.AddProvider(new TestOutputLoggerProvider(output)));
        await coordinator.StartAsync();
        var clients = TinyFederation.Clients.Select((id, k) => new FederationClient(Channel(coordinator.Address, id), new ClientOptions
        {
            PrivateData = setting.Data(k), Mode = mode == "soft" ? Mode.Soft : Mode.Discrete,
            CacheDirectory = setting.Combine("cache"), StateDirectory = setting.Combine($"state-{mode}-{id}"),
        }).RunAsync(new Progress<ClientEvent>(e => output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {e.ClientId} round {e.Round}: {e.What}")))).ToList();
        var summaries = await Task.WhenAll(clients).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.All(summaries, s => Assert.Equal([1, 2], s.RoundsTrained));
        var run = coordinator.Runs.Current!.Engine.Snapshot();
        Assert.Equal(RunState.Finished, run.Run.State);
        Assert.Equal(2, run.Rounds.Count);
        Assert.All(run.Rounds, r => Assert.Equal(RoundState.Closed, r.State));
        Assert.All(run.Rounds, r => Assert.InRange(r.Accuracy!.Value, 0, 1));
        Assert.Equal(6, run.Updates.Count);

        var report = JsonDocument.Parse(RunReport.Json(run, coordinator.Runs.Store)).RootElement;
        Assert.Equal("finished", report.GetProperty("state").GetString());
        if (mode == "soft")
            Assert.InRange(report.GetProperty("transfer").GetProperty("transferred_large").GetDouble(), 0, 1);
        else
            Assert.All(report.GetProperty("clients").EnumerateArray(), c => Assert.True(c.GetProperty("inference_queries").GetInt64() > 0));
    }
}
