using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FederatedPrompts.Coordinator.Operations;

/// <summary>The coordinator's listeners; each serves its own paths only.</summary>
public enum Listener
{
    /// <summary>gRPC for clients and the operator, over mutual TLS (<c>--listen</c>).</summary>
    Federation,
    /// <summary>Plaintext HTTP/1.1 for the operator's tools: <c>/metrics</c> (Prometheus) and <c>/dashboard</c> (<c>--ops-listen</c>).</summary>
    Ops,
    /// <summary>Plaintext HTTP/2 serving only the gRPC health service, for probes that cannot do TLS, such as Kubernetes' (<c>--probe-listen</c>).</summary>
    Probe,
}

/// <summary>
/// Which listener a connection came in on (Kestrel's listeners tag their connections) and where each is bound, once
/// started (port 0 picks a free port).
/// </summary>
public sealed class CoordinatorListeners
{
    const string Key = "fedprompt.listener";
    public const string MetricsPath = "/metrics", DashboardPath = "/dashboard";
    const string HealthPrefix = "/grpc.health.v1.Health/";

    readonly Dictionary<Listener, (ListenOptions Options, string Scheme)> _bound = [];

    /// <summary>Binds <paramref name="listener"/> on <paramref name="endpoint"/>'s address and port and tags its connections.</summary>
    public void Listen(KestrelServerOptions kestrel, Listener listener, IPEndPoint endpoint, string scheme, Action<ListenOptions> configure)
    {
        kestrel.Listen(endpoint, options =>
        {
            configure(options);
            options.Use(next => connection =>
            {
                connection.Items[Key] = listener;
                return next(connection);
            });
            _bound[listener] = (options, scheme);
        });
    }

    /// <summary>The address a listener is bound to, with its real port once started; null for one not configured.</summary>
    public Uri? AddressOf(Listener listener) => _bound.TryGetValue(listener, out var bound)
        ? new Uri($"{bound.Scheme}://{Host(bound.Options.IPEndPoint!)}")
        : null;

    static string Host(IPEndPoint endpoint) => endpoint.Address.Equals(IPAddress.Any) ? $"0.0.0.0:{endpoint.Port}"
        : endpoint.Address.Equals(IPAddress.IPv6Any) ? $"[::]:{endpoint.Port}" : endpoint.ToString();

    public static Listener Of(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(Key, out var value) == true && value is Listener listener ? listener : Listener.Federation;

    /// <summary>Whether <paramref name="path"/> is served on <paramref name="listener"/>: the ops pages never on the federation's port, gRPC never on the ops port, the probe port health only.</summary>
    public static bool Serves(Listener listener, string path)
    {
        bool ops = path == MetricsPath || path == DashboardPath || path.StartsWith(DashboardPath + "/", StringComparison.Ordinal);
        return listener switch
        {
            Listener.Ops => ops,
            Listener.Probe => path.StartsWith(HealthPrefix, StringComparison.Ordinal),
            _ => !ops,
        };
    }
}

public static class ListenerRouting
{
    /// <summary>Answers 404 to a request for a path its listener does not serve, before anything else runs.</summary>
    public static IApplicationBuilder UseListenerRouting(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (CoordinatorListeners.Serves(CoordinatorListeners.Of(context), context.Request.Path.Value ?? "")) return next(context);
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    });
}
