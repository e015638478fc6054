using System.Net;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Services;
using FederatedPrompts.Coordinator.Storage;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

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
}

/// <summary>
/// The coordinator process: Kestrel serving the Federation, Inference and Operator services over HTTP/2, the round
/// worker, and the SQLite store. On start it resumes the newest unfinished run in the store, or creates one from the
/// configuration.
/// </summary>
public sealed class CoordinatorHost : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly RunHost _runs;

    CoordinatorHost(WebApplication app, RunHost runs)
    {
        _app = app;
        _runs = runs;
    }

    public RunHost Runs => _runs;

    /// <summary>Why the coordinator stopped on its own: the store could not be written (null otherwise).</summary>
    public Exception? WriteFailure => _runs.Store.WriteFailure;

    /// <summary>The address clients use, with the real port once started.</summary>
    public Uri Address => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public static CoordinatorHost Create(CoordinatorOptions options, Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        else builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // gRPC logs every non-OK status at Information; RefusalLogging logs each once at Warning with the method instead.
        builder.Logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Warning);
        // A failed start (e.g. the port in use) is thrown to the caller, which reports it in one line; the host would also log its stack.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.UseCoordinatorTransport(options.Transport);

        var store = new CoordinatorStore(options.Database, acceptLostLog: options.AcceptLostState);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(options.Time);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(services => new RunHost(store, options.Time, services.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddHostedService<RoundWorker>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxMessageBytes;
            grpc.Interceptors.Add<RejectionInterceptor>();
        });

        var app = builder.Build();
        var refusals = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FederatedPrompts.Coordinator.Refusals");
        app.UseMalformedRequestGuard(options.MaxMessageBytes, refusals, options.Time);   // outside: its answers are logged by it, rate-limited
        app.UseRefusalLogging(refusals);
        app.MapGrpcService<FederationService>();
        app.MapGrpcService<InferenceService>();
        app.MapGrpcService<OperatorService>();

        // A failed write breaks the promise that an acknowledged update is on disk: stop serving, and let the caller exit
        // non-zero (WriteFailure) so that a service manager restarts it once the disk is fixed.
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var storeLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<CoordinatorStore>();
        store.WriteFailed += failure =>
        {
            storeLog.LogCritical("{Failure}; the coordinator stops", failure.Message);
            lifetime.StopApplication();
        };

        var runs = app.Services.GetRequiredService<RunHost>();
        bool resumed = runs.ResumeLatest() && runs.Current!.Engine.State is not (RunState.Finished or RunState.Failed);
        if (!resumed && options.Config is { } config) runs.Create(config, start: !options.Hold);
        if (options.ExitWhenFinished)
            app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => _ = StopWhenFinished(app, runs));
        return new CoordinatorHost(app, runs);
    }

    public Task StartAsync(CancellationToken cancel = default) => _app.StartAsync(cancel);

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
