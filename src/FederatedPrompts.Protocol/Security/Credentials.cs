using System.Security.Cryptography.X509Certificates;

namespace FederatedPrompts.Protocol.Security;

/// <summary>A client's (or the operator's) certificate with its key, and the CA it expects the coordinator's certificate from.</summary>
public sealed record ClientCredentials(X509Certificate2 Certificate, X509Certificate2 Authority)
{
    /// <summary>Reads <c>name.crt</c>/<c>name.key</c> and the CA certificate, and checks that they belong together.</summary>
    public static ClientCredentials Load(string certificatePath, string keyPath, string authorityPath)
    {
        var (certificate, authority) = Credentials.Load(certificatePath, keyPath, authorityPath, PeerRole.Client);
        return new ClientCredentials(certificate, authority);
    }

    /// <summary>The identity the coordinator will see: the certificate's CN.</summary>
    public string Identity => PeerIdentity.Of(Certificate);
}

/// <summary>The coordinator's server certificate with its key, and the CA whose client certificates it admits.</summary>
public sealed record CoordinatorCredentials(X509Certificate2 Certificate, X509Certificate2 Authority)
{
    public static CoordinatorCredentials Load(string certificatePath, string keyPath, string authorityPath)
    {
        var (certificate, authority) = Credentials.Load(certificatePath, keyPath, authorityPath, PeerRole.Server);
        return new CoordinatorCredentials(certificate, authority);
    }
}

static class Credentials
{
    // Checked at start-up, so a wrong file shows as one clear error, not as a failed handshake later.
    public static (X509Certificate2 Certificate, X509Certificate2 Authority) Load(string certificatePath, string keyPath, string authorityPath, PeerRole role)
    {
        var authority = PemFiles.LoadCertificate(authorityPath);
        var certificate = PemFiles.Load(certificatePath, keyPath);
        var check = PeerValidation.Check(certificate, authority, role);
        if (!check.Ok) throw new InvalidDataException($"{certificatePath}: {check.Reason}");
        return (certificate, authority);
    }
}
