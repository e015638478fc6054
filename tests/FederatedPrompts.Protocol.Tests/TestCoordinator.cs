using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Protocol.Security;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Protocol.Tests;

/// <summary>A real Kestrel host on 127.0.0.1 (a free port) configured by CoordinatorTls, serving the echo services below.</summary>
public sealed class TestCoordinator : IAsyncDisposable
{
    readonly WebApplication app;
    public Uri Address { get; }
    /// <summary>Warnings the host logged (why a client certificate was refused).</summary>
    public WarningLog Warnings { get; }

    TestCoordinator(WebApplication app, Uri address, WarningLog warnings) => (this.app, Address, Warnings) = (app, address, warnings);

    public static async Task<TestCoordinator> StartAsync(CoordinatorCredentials? tls, bool insecure = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        var warnings = new WarningLog();
        builder.Logging.ClearProviders().AddProvider(warnings);
        builder.UseCoordinatorTransport(new CoordinatorTransport(new Uri(insecure ? "http://127.0.0.1:0" : "https://127.0.0.1:0"), tls, insecure));
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<EchoFederation>();
        app.MapGrpcService<EchoOperator>();
        await app.StartAsync();
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new TestCoordinator(app, new Uri(bound), warnings);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>Collects the messages of warnings and worse, from any category.</summary>
public sealed class WarningLog : ILoggerProvider, ILogger
{
    readonly System.Collections.Concurrent.ConcurrentQueue<string> messages = new();
    public IReadOnlyCollection<string> Messages => messages;
    public ILogger CreateLogger(string categoryName) => this;
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) messages.Enqueue(formatter(state, exception));
    }
    public void Dispose() { }
}

/// <summary>Enrol answers with the caller's identity as client_id.</summary>
sealed class EchoFederation(CallerIdentity caller) : Federation.FederationBase
{
    public override Task<EnrolReply> Enrol(EnrolRequest request, ServerCallContext context) =>
        Task.FromResult(new EnrolReply { ClientId = caller.Of(context) });
}

/// <summary>GetStatus is operator-only and answers with the operator's identity as run_id.</summary>
sealed class EchoOperator(CallerIdentity caller) : Operator.OperatorBase
{
    public override Task<RunStatus> GetStatus(RunRef request, ServerCallContext context) =>
        Task.FromResult(new RunStatus { RunId = caller.RequireOperator(context) });
}
