using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace FederatedPrompts.Protocol.Security;

/// <summary>
/// The HTTP handler of a TLS connection to the coordinator: presents the client certificate and accepts the
/// server only if its certificate comes from the federation's CA, is for server authentication and names the
/// host dialled.
/// </summary>
public static class TlsClientHandler
{
    public static SocketsHttpHandler Create(ClientCredentials credentials)
    {
        var own = credentials.Certificate;
        return new SocketsHttpHandler
        {
            // gRPC streams share one connection; more are opened when it is full.
            EnableMultipleHttp2Connections = true,
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificates = [own],
                // Always present our certificate, even when the server's list of acceptable issuers is empty or
                // different: the server, not the client, decides whether it is good enough.
                LocalCertificateSelectionCallback = (_, _, _, _, _) => own,
                RemoteCertificateValidationCallback = (sender, certificate, _, _) =>
                    ValidateServer(certificate, ((SslStream)sender).TargetHostName, credentials.Authority),
            },
        };
    }

    /// <summary>
    /// The system's verdict (which knows nothing of our CA) is ignored; this check replaces it. Throws with the
    /// reason rather than returning false, so the caller's error says why the coordinator was refused.
    /// </summary>
    public static bool ValidateServer(X509Certificate? presented, string host, X509Certificate2 authority)
    {
        using var server = presented is null ? null : X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        var check = PeerValidation.Check(server, authority, PeerRole.Server);
        if (!check.Ok) throw new AuthenticationException($"coordinator refused: {check.Reason}");
        if (!server!.MatchesHostname(host, allowWildcards: false, allowCommonName: false))
            throw new AuthenticationException($"coordinator refused: its certificate does not name \"{host}\" (re-issue it with fedprompt certs --host {host})");
        return true;
    }
}
