using System.Net;
using System.Security.Authentication;
using FederatedPrompts.Coordinator.Operations;
using FederatedPrompts.Protocol.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Hosting;

/// <summary>
/// How the coordinator listens: <paramref name="Endpoint"/> (<c>https://host:port</c>; host an IP address,
/// <c>localhost</c>, or <c>*</c>/<c>0.0.0.0</c>/<c>[::]</c> for all interfaces; port 0 picks a free one) with
/// <paramref name="Tls"/>, or plaintext when <paramref name="Insecure"/> (loopback only).
/// </summary>
public sealed record CoordinatorTransport(Uri Endpoint, CoordinatorCredentials? Tls, bool Insecure, string OperatorIdentity = CallerIdentity.DefaultOperator);

public static class CoordinatorTls
{
    /// <summary>
    /// Configures Kestrel for <paramref name="transport"/> (the federation's listener, recorded in
    /// <paramref name="listeners"/>) and registers the matching <see cref="CallerIdentity"/>.
    /// </summary>
    public static WebApplicationBuilder UseCoordinatorTransport(this WebApplicationBuilder builder, CoordinatorTransport transport,
        CoordinatorListeners? listeners = null)
    {
        Validate(transport);
        listeners ??= new CoordinatorListeners();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenFederation(transport, listeners));
        builder.Services.AddSingleton(new CallerIdentity(transport.Insecure, transport.OperatorIdentity));
        return builder;
    }

    /// <summary>
    /// One HTTP/2-only endpoint. TLS: the coordinator's certificate, a client certificate required and accepted
    /// only from the federation's CA with clientAuth usage (any other is refused in the handshake). Insecure: h2c
    /// on a loopback address.
    /// </summary>
    static void ListenFederation(this KestrelServerOptions kestrel, CoordinatorTransport transport, CoordinatorListeners listeners)
    {
        // The refused client only sees a broken handshake; the reason is for the coordinator's operator.
        var log = kestrel.ApplicationServices.GetService<ILoggerFactory>()?.CreateLogger(typeof(CoordinatorTls).FullName!);
        listeners.Listen(kestrel, Listener.Federation, EndPointOf(transport.Endpoint), transport.Endpoint.Scheme, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (transport.Tls is not { } tls) return;
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = tls.Certificate,
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                // Kestrel's own chain verdict uses the system store, which does not hold our CA; ours replaces it.
                ClientCertificateValidation = (certificate, _, _) =>
                {
                    var check = PeerValidation.Check(certificate, tls.Authority, PeerRole.Client);
                    if (!check.Ok) log?.LogWarning("refused a client certificate: {Reason}", check.Reason);
                    return check.Ok;
                },
            });
        });
    }

    static void Validate(CoordinatorTransport transport)
    {
        if (transport.Insecure)
        {
            if (transport.Tls is not null) throw new ArgumentException("--insecure and the coordinator's certificate exclude each other");
            TransportSecurity.RequireLoopback(transport.Endpoint.IdnHost);
        }
        else if (transport.Tls is null)
            throw new ArgumentException($"{transport.Endpoint}: the coordinator needs its certificate, key and the CA certificate (fedprompt certs), or --insecure on a loopback address");
        TransportSecurity.RequireMode(transport.Endpoint, transport.Insecure);
    }

    /// <summary>Where to bind for a listen address (<c>scheme://host:port</c>, host an IP address, localhost or * for all interfaces).</summary>
    public static IPEndPoint EndPointOf(Uri endpoint)
    {
        string host = endpoint.IdnHost.Trim('[', ']');
        var address = host switch
        {
            "*" or "+" or "0.0.0.0" => IPAddress.Any,
            "::" => IPAddress.IPv6Any,
            _ when host.Equals("localhost", StringComparison.OrdinalIgnoreCase) => IPAddress.Loopback,
            _ when IPAddress.TryParse(host, out var ip) => ip,
            _ => throw new ArgumentException($"{endpoint}: the coordinator listens on an IP address, localhost, or * (all interfaces); \"{host}\" is a name (put names in the certificate with fedprompt certs --host)"),
        };
        return new IPEndPoint(address, endpoint.Port);
    }
}
