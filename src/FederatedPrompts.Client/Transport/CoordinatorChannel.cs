using FederatedPrompts.Protocol.Security;
using Grpc.Net.Client;

namespace FederatedPrompts.Client.Transport;

/// <summary>The gRPC channel from a client (or the operator) to the coordinator.</summary>
public static class CoordinatorChannel
{
    /// <summary>
    /// TLS (<paramref name="insecure"/> false): mutual TLS with <paramref name="tls"/>'s certificate; the server
    /// must hold a serverAuth certificate from the same CA naming the address's host. Insecure: plaintext HTTP/2
    /// (h2c) to a loopback address only, the identity sent in the <c>fedprompt-identity</c> header.
    /// </summary>
    public static GrpcChannel Create(Uri address, ClientCredentials? tls, bool insecure, string? insecureIdentity)
    {
        TransportSecurity.RequireMode(address, insecure);
        HttpMessageHandler handler;
        if (insecure)
        {
            if (tls is not null) throw new ArgumentException("--insecure and client certificates exclude each other");
            if (string.IsNullOrWhiteSpace(insecureIdentity)) throw new ArgumentException("--insecure needs the identity to send (there is no certificate to carry it)");
            handler = new IdentityHeaderHandler(insecureIdentity) { InnerHandler = new SocketsHttpHandler() };
        }
        else
        {
            if (tls is null) throw new ArgumentException($"{address}: TLS needs a client certificate, its key and the CA certificate (fedprompt certs)");
            handler = TlsClientHandler.Create(tls);
        }
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    /// <summary>Adds the identity header to every request (plaintext mode only).</summary>
    sealed class IdentityHeaderHandler(string identity) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove(TransportSecurity.IdentityHeader);
            request.Headers.Add(TransportSecurity.IdentityHeader, identity);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
