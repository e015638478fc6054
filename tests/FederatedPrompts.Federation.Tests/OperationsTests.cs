using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using FederatedPrompts.Client;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Operations;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static Grpc.Health.V1.HealthCheckResponse.Types;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// Issue #14: what an operator watches, over real sockets on 127.0.0.1: the gRPC health service (on the mutual-TLS
/// listener and on the plaintext probe listener), the Prometheus scrape endpoint during and after a run, the audit
/// trail, server reflection, and each listener refusing the others' paths. The meter is found by name, so every
/// coordinator of a process reports into each one's scrape: these tests run alone (<see cref="AloneCollection"/>).
/// </summary>
[Collection(AloneCollection.Name)]
public class OperationsTests(TinyFederation setting, ITestOutputHelper output) : IClassFixture<TinyFederation>
{
    const string Token = "a-test-token-of-32-characters-xx";

    CoordinatorHost Coordinator(string name, bool hold = false, bool reflection = false) => CoordinatorHost.Create(new CoordinatorOptions
    {
        Transport = new CoordinatorTransport(new Uri("https://127.0.0.1:0"), setting.CoordinatorTls, Insecure: false),
        Database = setting.Combine($"{name}-{Guid.NewGuid():N}.db"), Config = setting.Config("soft", rounds: 3), Hold = hold,
        OpsListen = new Uri("http://127.0.0.1:0"), ProbeListen = new Uri("http://127.0.0.1:0"), DashboardToken = Token, Reflection = reflection,
    }, logs => logs.AddProvider(new TestOutputLoggerProvider(output)));

    GrpcChannel Tls(CoordinatorHost coordinator, string identity) => CoordinatorChannel.Create(coordinator.Address, setting.Tls(identity), insecure: false, null);

    static async Task<ServingStatus> Health(GrpcChannel channel, string service = "") =>
        (await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = service })).Status;

    Task<ClientSummary[]> RunClients(CoordinatorHost coordinator, string tag) => Task.WhenAll(TinyFederation.Clients.Select((id, k) => new ClientLoop(
        Tls(coordinator, id).CreateCallInvoker(), new SoftLocalWork(setting.Data(k)),
        new ClientLoopOptions { Identity = id, CacheDirectory = setting.Combine("cache"), StateDirectory = setting.Combine($"state-{tag}-{id}") })
        .RunAsync(new Progress<ClientEvent>(e => output.WriteLine($"{e.ClientId} round {e.Round}: {e.What}"))))).WaitAsync(TimeSpan.FromMinutes(3));

    [Fact]
    public async Task Metrics_audit_health_and_reflection_report_a_run()
    {
        await using var coordinator = Coordinator("ops", reflection: true);
        await coordinator.StartAsync();
        using var probe = GrpcChannel.ForAddress(coordinator.ProbeAddress!);
        using var operatorChannel = Tls(coordinator, "operator");
        Assert.Equal(ServingStatus.Serving, await Health(probe));
        Assert.Equal(ServingStatus.Serving, await Health(operatorChannel));

        // A certificate of the federation's CA whose identity the run does not admit: refused, counted and audited.
        using var intruder = Tls(coordinator, "intruder");
        var refused = await Assert.ThrowsAsync<RpcException>(() => new Protocol.V1.Federation.FederationClient(intruder)
            .EnrolAsync(new EnrolRequest { Mode = Mode.Soft, ExampleCount = 5 }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);

        // Prometheus scrapes while the run goes on: some scrape sees accepted updates before the last round closes.
        using var http = new HttpClient { BaseAddress = coordinator.OpsAddress };
        var engine = coordinator.Runs.Current!.Engine;
        using var stopScraping = new CancellationTokenSource();
        var scrapes = Task.Run(async () =>
        {
            var seen = new List<(RunState State, double Accepted)>();
            while (!stopScraping.IsCancellationRequested)
            {
                var state = engine.State;
                string text = await http.GetStringAsync("/metrics");
                seen.Add((state, text.Contains("fedprompt_updates_accepted_total") ? Value(text, "fedprompt_updates_accepted_total", ("mode", "soft")) : 0));
                await Task.Delay(100);
            }
            return seen;
        });
        await RunClients(coordinator, "ops");
        await TinyFederation.UntilOver(engine, TimeSpan.FromMinutes(2));
        stopScraping.Cancel();
        Assert.Contains(await scrapes, scrape => scrape.State == RunState.Running && scrape.Accepted > 0);
        var run = engine.Snapshot();
        Assert.Equal(RunState.Finished, run.Run.State);

        // The service counts an update once the engine has stored it, so the run can finish a moment before the last count.
        string metrics = await http.GetStringAsync("/metrics");
        for (var patience = Stopwatch.StartNew(); Value(metrics, "fedprompt_updates_accepted_total", ("mode", "soft")) < run.Updates.Count
             && patience.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(50))
            metrics = await http.GetStringAsync("/metrics");
        output.WriteLine(metrics);
        Assert.Equal(run.Updates.Count, Value(metrics, "fedprompt_updates_accepted_total", ("mode", "soft")));
        Assert.Equal(run.Rounds.Count, Value(metrics, "fedprompt_rounds_completed_total"));
        Assert.Equal(1, Value(metrics, "fedprompt_requests_refused_total", ("method", "/fedprompt.v1.Federation/Enrol"), ("status", "PermissionDenied")));
        Assert.Equal(run.Rounds.Count, Value(metrics, "fedprompt_round_duration_seconds_count"));
        Assert.Equal(run.Rounds.Count, Value(metrics, "fedprompt_aggregation_duration_seconds_count", ("mode", "soft")));
        Assert.Equal(3, Value(metrics, "fedprompt_clients_enrolled", ("mode", "soft")));
        Assert.Equal(run.Rounds.Count, Value(metrics, "fedprompt_round_current"));
        Assert.Equal(run.Rounds[^1].Modes.Values.Single().Accuracy!.Value, Value(metrics, "fedprompt_round_accuracy", ("mode", "soft")), 6);
        Assert.InRange(Value(metrics, "fedprompt_store_size_bytes"), 4096, double.MaxValue);

        // The audit trail: every enrolment, every upload with the hash of what was received, the refusal, in order of time.
        var audit = File.ReadAllLines(coordinator.AuditLog).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal("start", audit[0].GetProperty("event").GetString());
        Assert.All(audit, e => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", e.GetProperty("time").GetString()));
        var refusal = Assert.Single(audit, e => e.GetProperty("event").GetString() == "refusal");
        Assert.Equal(("intruder", "PermissionDenied"), (refusal.GetProperty("identity").GetString(), refusal.GetProperty("status").GetString()));
        Assert.Contains("intruder", refusal.GetProperty("detail").GetString());
        Assert.Equal(TinyFederation.Clients.Order(), audit.Where(e => e.GetProperty("event").GetString() == "enrol").Select(e => e.GetProperty("identity").GetString()!).Distinct().Order());
        var uploads = audit.Where(e => e.GetProperty("event").GetString() == "upload").ToList();
        Assert.Equal(run.Updates.Select(u => (u.ClientId, u.Round, u.Bytes)).Order(),
            uploads.Select(e => (e.GetProperty("identity").GetString()!, e.GetProperty("round").GetInt32(), e.GetProperty("bytes").GetInt64())).Order());
        Assert.All(uploads, e => Assert.Matches("^[0-9a-f]{64}$", e.GetProperty("sha256").GetString()));
        Assert.Equal(uploads.Count, uploads.Select(e => e.GetProperty("sha256").GetString()).Distinct().Count());

        // Reflection names the coordinator's services (grpcurl lists them the same way).
        var reflection = new ServerReflection.ServerReflectionClient(operatorChannel).ServerReflectionInfo();
        await reflection.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await reflection.RequestStream.CompleteAsync();
        Assert.True(await reflection.ResponseStream.MoveNext(CancellationToken.None));
        var services = reflection.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("fedprompt.v1.Federation", services);
        Assert.Contains("grpc.health.v1.Health", services);

        // Each listener serves its own paths only: no federation call on the probe port, no metrics or dashboard without the token.
        var onProbe = await Assert.ThrowsAsync<RpcException>(() => new Operator.OperatorClient(probe).GetStatusAsync(new RunRef()).ResponseAsync);
        Assert.NotEqual(StatusCode.OK, onProbe.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/fedprompt.v1.Operator/GetStatus")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dashboard/api/state?token=" + Token[..^1] + "y")).StatusCode);
        using var withToken = new HttpRequestMessage(HttpMethod.Get, "/dashboard/api/state");
        withToken.Headers.Authorization = new("Bearer", Token);
        var state = JsonDocument.Parse(await (await http.SendAsync(withToken)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(run.Run.RunId, state.GetProperty("run").GetProperty("id").GetString());
    }

    /// <summary>
    /// Not serving while the run cannot go on: its small model's folder moved away, or the database file gone from its
    /// path (SQLite would go on writing to the unlinked file, and a restart would start from nothing). Serving again once
    /// each is back.
    /// </summary>
    [Fact]
    public async Task Health_is_not_serving_while_the_runs_model_or_the_database_file_is_missing()
    {
        await using var coordinator = Coordinator("health", hold: true);
        await coordinator.StartAsync();
        using var probe = GrpcChannel.ForAddress(coordinator.ProbeAddress!);
        Assert.Equal(ServingStatus.Serving, await Health(probe));
        foreach (var (path, isFolder) in new[] { (setting.Small, true), (coordinator.Runs.Store.Path, false) })
        {
            string moved = path + ".moved";
            if (isFolder) Directory.Move(path, moved); else File.Move(path, moved);
            try
            {
                Assert.Equal(ServingStatus.NotServing, await Health(probe));
                Assert.Equal(ServingStatus.NotServing, await Health(Tls(coordinator, "operator")));
                Assert.Equal(ServingStatus.Serving, await Health(probe, CoordinatorHealthCheck.LivenessService));   // a restart would not help
            }
            finally
            {
                if (isFolder) Directory.Move(moved, path); else File.Move(moved, path);
            }
            Assert.Equal(ServingStatus.Serving, await Health(probe));
        }
    }

    /// <summary>The value of a Prometheus sample whose labels include <paramref name="labels"/>; fails naming the metric if there is none.</summary>
    static double Value(string exposition, string name, params (string Key, string Value)[] labels)
    {
        foreach (var line in exposition.Split('\n'))
        {
            var match = Regex.Match(line, @"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)");
            if (!match.Success || match.Groups["name"].Value != name) continue;
            string text = match.Groups["labels"].Value;
            if (labels.All(l => text.Contains($"{l.Key}=\"{l.Value}\"", StringComparison.Ordinal)))
                return double.Parse(match.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        throw new Xunit.Sdk.XunitException($"no sample {name} with {string.Join(", ", labels)} in the scrape");
    }
}

/// <summary>Tests that no other test of the assembly runs beside (xunit runs this collection after the parallel ones).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}
