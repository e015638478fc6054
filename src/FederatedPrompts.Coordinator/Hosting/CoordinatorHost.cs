using System.Net;
using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Operations;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Services;
using FederatedPrompts.Coordinator.Storage;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace FederatedPrompts.Coordinator.Hosting;

/// <summary>How a coordinator is started (the <c>fedprompt coordinator</c> flags).</summary>
public sealed record CoordinatorOptions
{
    /// <summary>Where and how to listen (mutual TLS, or plaintext on loopback); port 0 picks a free one, see <see cref="CoordinatorHost.Address"/>.</summary>
    public required CoordinatorTransport Transport { get; init; }
    public required string Database { get; init; }
    /// <summary>Run configuration to create a run from when the store has no unfinished run.</summary>
    public RunConfig? Config { get; init; }
    /// <summary>Create the run but wait for the operator's StartRun.</summary>
    public bool Hold { get; init; }
    /// <summary>Largest request accepted; larger ones fail with RESOURCE_EXHAUSTED before any handler runs.</summary>
    public int MaxMessageBytes { get; init; } = 4 * 1024 * 1024;
    public bool ExitWhenFinished { get; init; }
    /// <summary>The clock of deadlines, liveness and the refusal log's rate limit (tests give a fake one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Start on a database whose write-ahead log was lost after a crash, from the older state it holds.</summary>
    public bool AcceptLostState { get; init; }
    /// <summary>Plaintext HTTP/1.1 listener for <c>/metrics</c> and <c>/dashboard</c> (none when null).</summary>
    public Uri? OpsListen { get; init; }
    /// <summary>Plaintext HTTP/2 listener serving only the gRPC health service, for probes without TLS (none when null).</summary>
    public Uri? ProbeListen { get; init; }
    /// <summary>The dashboard's token; a random one when null (see <see cref="CoordinatorHost.DashboardToken"/>).</summary>
    public string? DashboardToken { get; init; }
    /// <summary>The audit trail's file (JSON lines); beside the database when null.</summary>
    public string? AuditLog { get; init; }
    public LogFormat LogFormat { get; init; } = LogFormat.Text;
    /// <summary>Serve gRPC server reflection on the federation's listener (for grpcurl; it names every method).</summary>
    public bool Reflection { get; init; }
    /// <summary>How the inference service batches concurrent requests.</summary>
    public InferenceBatching Inference { get; init; } = InferenceBatching.Default;
}

/// <summary>How the coordinator writes its log to the console: one line of text per event, or one JSON object (for log collectors).</summary>
public enum LogFormat { Text, Json }

/// <summary>
/// The coordinator process: Kestrel serving the Federation, Inference and Operator services over HTTP/2, the round
/// worker, and the SQLite store. On start it resumes the newest unfinished run in the store, or creates one from the
/// configuration.
/// </summary>
public sealed class CoordinatorHost : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly RunHost _runs;
    readonly CoordinatorListeners _listeners;

    CoordinatorHost(WebApplication app, RunHost runs, CoordinatorListeners listeners, string dashboardToken, string auditLog)
    {
        _app = app;
        _runs = runs;
        _listeners = listeners;
        DashboardToken = dashboardToken;
        AuditLog = auditLog;
    }

    public RunHost Runs => _runs;

    /// <summary>The token the dashboard asks for (given, or made at start).</summary>
    public string DashboardToken { get; }

    /// <summary>Where the audit trail is written.</summary>
    public string AuditLog { get; }

    /// <summary>The ops listener's address with its real port once started; null without one.</summary>
    public Uri? OpsAddress => _listeners.AddressOf(Listener.Ops);

    /// <summary>The probe listener's address with its real port once started; null without one.</summary>
    public Uri? ProbeAddress => _listeners.AddressOf(Listener.Probe);

    /// <summary>Why the coordinator stopped on its own: the store could not be written (null otherwise).</summary>
    public Exception? WriteFailure => _runs.Store.WriteFailure;

    /// <summary>The address clients use, with the real port once started.</summary>
    public Uri Address => _listeners.AddressOf(Listener.Federation)!;

    public static CoordinatorHost Create(CoordinatorOptions options, Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Host.UseSystemd();   // under systemd (Type=notify): readiness once listening, logs without colours; elsewhere nothing
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        else if (options.LogFormat == LogFormat.Json)
            builder.Logging.AddJsonConsole(o => { o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffzzz"; o.IncludeScopes = false; });
        else builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-dd HH:mm:ss zzz "; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // gRPC logs every non-OK status at Information; RefusalLogging logs each once at Warning with the method instead.
        builder.Logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Warning);
        // A failed start (e.g. the port in use) is thrown to the caller, which reports it in one line; the host would also log its stack.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        var listeners = new CoordinatorListeners();
        builder.UseCoordinatorTransport(options.Transport, listeners);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (options.OpsListen is { } ops)
                listeners.Listen(kestrel, Listener.Ops, PlaintextEndPoint(ops, "--ops-listen"), "http", listen => listen.Protocols = HttpProtocols.Http1);
            if (options.ProbeListen is { } probe)
                listeners.Listen(kestrel, Listener.Probe, PlaintextEndPoint(probe, "--probe-listen"), "http", listen => listen.Protocols = HttpProtocols.Http2);
        });

        var store = new CoordinatorStore(options.Database, acceptLostLog: options.AcceptLostState);
        string auditPath = options.AuditLog ?? Operations.AuditLog.BesideDatabase(options.Database);
        string dashboardToken = options.DashboardToken ?? Dashboard.NewToken();
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(options.Time);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(services => new RunHost(store, options.Time, services.GetRequiredService<ILoggerFactory>(), options.Inference));
        builder.Services.AddSingleton<CoordinatorMetrics>();
        builder.Services.AddSingleton(_ => new AuditLog(auditPath, options.Time));
        builder.Services.AddHostedService<RoundWorker>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxMessageBytes;
            grpc.Interceptors.Add<RejectionInterceptor>();
        });
        // Health: "" is readiness, the check of what progress needs; "liveness" only says the process answers, since a
        // restart cures neither a missing model nor an unwritable disk (Kubernetes restarts on a failed liveness probe).
        builder.Services.AddGrpcHealthChecks(health =>
        {
            health.Services.Map("", result => result.Name == CoordinatorHealthCheck.Name);
            health.Services.Map(CoordinatorHealthCheck.LivenessService, result => result.Name == CoordinatorHealthCheck.LivenessService);
        })
            .AddCheck<CoordinatorHealthCheck>(CoordinatorHealthCheck.Name)
            .AddCheck(CoordinatorHealthCheck.LivenessService, () => HealthCheckResult.Healthy());   // answering is the check
        if (options.Reflection) builder.Services.AddGrpcReflection();
        // Every scrape reads the run as it is now (the exporter would answer scrapes within 300 ms with its last response).
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(CoordinatorMetrics.MeterName)
            .AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0));

        var app = builder.Build();
        var refusals = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FederatedPrompts.Coordinator.Refusals");
        app.UseListenerRouting();   // first: each listener serves only its own paths
        app.UseRefusalAccounting(app.Services.GetRequiredService<CoordinatorMetrics>(), app.Services.GetRequiredService<AuditLog>(),
            app.Services.GetRequiredService<CallerIdentity>());
        app.UseMalformedRequestGuard(options.MaxMessageBytes, refusals, options.Time);   // outside: its answers are logged by it, rate-limited
        app.UseRefusalLogging(refusals);
        app.MapGrpcService<FederationService>();
        app.MapGrpcService<InferenceService>();
        app.MapGrpcService<OperatorService>();
        app.MapGrpcHealthChecksService();
        if (options.Reflection) app.MapGrpcReflectionService();
        app.MapPrometheusScrapingEndpoint(CoordinatorListeners.MetricsPath);
        var runs = app.Services.GetRequiredService<RunHost>();
        app.MapDashboard(dashboardToken, runs, options.Time);

        // A failed write breaks the promise that an acknowledged update is on disk: stop serving, and let the caller exit
        // non-zero (WriteFailure) so that a service manager restarts it once the disk is fixed.
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var storeLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<CoordinatorStore>();
        store.WriteFailed += failure =>
        {
            storeLog.LogCritical("{Failure}; the coordinator stops", failure.Message);
            lifetime.StopApplication();
        };

        bool resumed = runs.ResumeLatest() && runs.Current!.Engine.State is not (RunState.Finished or RunState.Failed);
        if (!resumed && options.Config is { } config) runs.Create(config, start: !options.Hold);
        if (options.ExitWhenFinished)
            app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => _ = StopWhenFinished(app, runs));
        return new CoordinatorHost(app, runs, listeners, dashboardToken, auditPath);
    }

    /// <summary>The ops and probe listeners speak plaintext: an <c>http://</c> address (any interface; they carry no client's data).</summary>
    static IPEndPoint PlaintextEndPoint(Uri address, string option) => address.Scheme == Uri.UriSchemeHttp
        ? CoordinatorTls.EndPointOf(address)
        : throw new ArgumentException($"{option} {address}: the ops and probe listeners are plaintext; give an http:// address");

    public async Task StartAsync(CancellationToken cancel = default)
    {
        await _app.StartAsync(cancel);
        _app.Services.GetRequiredService<AuditLog>().CoordinatorStarted(Address.ToString(), _runs.Store.Path);
    }

    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    public Task StopAsync() => _app.StopAsync();

    static async Task StopWhenFinished(WebApplication app, RunHost runs)
    {
        while (runs.Current?.Engine.State is not (RunState.Finished or RunState.Failed)) await Task.Delay(200);
        await Task.Delay(1000);   // let clients read FINISHED before the listener goes
        await app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _runs.Dispose();
        _runs.Store.Dispose();
    }
}
