using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FederatedPrompts.Protocol.Security;

/// <summary>
/// The federation's own certificate authority: an ECDSA P-256 root that signs the coordinator's server
/// certificate and one client certificate per identity (CN = the identity). Nothing else is trusted, so the CA
/// is the whole trust list of a run. Uses System.Security.Cryptography only.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    /// <summary>How long a new CA is valid; leaves issued later are cut to its end.</summary>
    public static readonly TimeSpan CaValidity = TimeSpan.FromDays(3650);

    /// <summary>Subject alternative names of a server certificate when none are given.</summary>
    public static readonly IReadOnlyList<string> DefaultHosts = ["localhost", "127.0.0.1", "::1"];

    // Backdating absorbs small clock differences between the machines of a federation.
    static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public X509Certificate2 Certificate { get; }

    CertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    public static CertificateAuthority Create(string name = "FederatedPrompts CA")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject(name), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now - ClockSkew, now + CaValidity);
        return new CertificateAuthority(PemFiles.Reimport(created));
    }

    /// <summary>A CA from its certificate and private key (e.g. <c>ca.crt</c>, <c>ca.key</c>).</summary>
    public static CertificateAuthority Load(string certificatePath, string keyPath)
    {
        var certificate = PemFiles.Load(certificatePath, keyPath);
        if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
        {
            certificate.Dispose();
            throw new InvalidDataException($"{certificatePath} is not a CA certificate (no basic constraints CA:true)");
        }
        return new CertificateAuthority(certificate);
    }

    /// <summary>The coordinator's certificate: serverAuth, with each host as a DNS or IP subject alternative name.</summary>
    public X509Certificate2 IssueServer(string commonName, IEnumerable<string>? hosts = null, int days = 365, DateTimeOffset? notBefore = null)
    {
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts ?? DefaultHosts)
        {
            if (IPAddress.TryParse(host, out var ip)) names.AddIpAddress(ip);
            else names.AddDnsName(host);
        }
        return Issue(commonName, X509Oids.ServerAuth, names.Build(), days, notBefore);
    }

    /// <summary>A client's (or the operator's) certificate: clientAuth, CN = the identity the coordinator sees.</summary>
    public X509Certificate2 IssueClient(string identity, int days = 365, DateTimeOffset? notBefore = null) =>
        Issue(identity, X509Oids.ClientAuth, null, days, notBefore);

    X509Certificate2 Issue(string commonName, string usage, X509Extension? alternativeNames, int days, DateTimeOffset? notBefore)
    {
        if (string.IsNullOrWhiteSpace(commonName)) throw new ArgumentException("a certificate needs a non-empty name", nameof(commonName));
        if (days < 1) throw new ArgumentOutOfRangeException(nameof(days), days, "validity must be at least 1 day");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Subject(commonName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        if (alternativeNames is not null) request.CertificateExtensions.Add(alternativeNames);

        var start = notBefore ?? DateTimeOffset.UtcNow - ClockSkew;
        var end = start + TimeSpan.FromDays(days);
        // A leaf may not outlive its issuer; a client enrolled late gets what is left of the CA's life.
        var caEnd = new DateTimeOffset(Certificate.NotAfter.ToUniversalTime());
        if (end > caEnd) end = caEnd;
        var caStart = new DateTimeOffset(Certificate.NotBefore.ToUniversalTime());
        if (start < caStart) start = caStart;
        if (end <= start) throw new InvalidOperationException($"the CA \"{Name}\" is no longer valid (until {caEnd:u}); create a new one");

        using var issued = request.Create(Certificate, start, end, SerialNumber());
        using var withKey = issued.CopyWithPrivateKey(key);
        return PemFiles.Reimport(withKey);
    }

    public string Name => PeerIdentity.Of(Certificate);

    public void Save(string directory, string name = "ca") => PemFiles.Save(Certificate, directory, name);

    public void Dispose() => Certificate.Dispose();

    static X500DistinguishedName Subject(string commonName)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(commonName);
        return builder.Build();
    }

    // Random 128-bit serials (positive: the top bit clear), so certificates issued at different times never collide.
    static byte[] SerialNumber()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return serial;
    }
}

/// <summary>Extended key usage OIDs (RFC 5280 4.2.1.12).</summary>
public static class X509Oids
{
    public const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";
}
