using System.Security.Cryptography.X509Certificates;
using FederatedPrompts.Protocol.Security;

namespace FederatedPrompts.Protocol.Tests;

/// <summary>The CA, PEM files, and the peer check on its own (no sockets).</summary>
public class CertificateTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public void Issued_certificates_carry_the_identity_usage_and_names()
    {
        Assert.Equal("client-1", PeerIdentity.Of(pki.Client1));
        Assert.True(pki.Client1.HasPrivateKey);
        Assert.True(pki.Coordinator.MatchesHostname("localhost"));
        Assert.True(pki.Coordinator.MatchesHostname("127.0.0.1"));
        Assert.True(pki.Coordinator.MatchesHostname("::1"));
        Assert.False(pki.Coordinator.MatchesHostname("example.org"));
        var ca = pki.Ca.Certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(ca.CertificateAuthority);
        Assert.Equal(X509KeyUsageFlags.KeyCertSign, pki.Ca.Certificate.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages & X509KeyUsageFlags.KeyCertSign);
    }

    [Fact]
    public void The_check_accepts_our_certificates_in_their_roles_only()
    {
        Assert.True(PeerValidation.Check(pki.Client1, pki.Ca.Certificate, PeerRole.Client).Ok);
        Assert.True(PeerValidation.Check(pki.Coordinator, pki.Ca.Certificate, PeerRole.Server).Ok);
        Assert.Contains("not a client (clientAuth", PeerValidation.Check(pki.Coordinator, pki.Ca.Certificate, PeerRole.Client).Reason);
        Assert.Contains("not a server (serverAuth", PeerValidation.Check(pki.Client1, pki.Ca.Certificate, PeerRole.Server).Reason);
        Assert.Contains("not issued by this federation's CA", PeerValidation.Check(pki.OtherClient1, pki.Ca.Certificate, PeerRole.Client).Reason);
        Assert.Contains("no certificate", PeerValidation.Check(null, pki.Ca.Certificate, PeerRole.Client).Reason);
        // The CA's own certificate is no client certificate (no clientAuth usage).
        Assert.False(PeerValidation.Check(pki.Ca.Certificate, pki.Ca.Certificate, PeerRole.Client).Ok);
    }

    [Fact]
    public void Expired_and_not_yet_valid_certificates_are_refused()
    {
        using var future = pki.Ca.IssueClient("early", days: 30, notBefore: DateTimeOffset.UtcNow.AddDays(2));
        using var shortLived = pki.Ca.IssueClient("short", days: 1);
        // Expiry is checked at a later moment rather than with a backdated certificate (the CA itself is from now).
        Assert.Contains("has expired", PeerValidation.Check(shortLived, pki.Ca.Certificate, PeerRole.Client, DateTime.Now.AddDays(2)).Reason);
        Assert.True(PeerValidation.Check(shortLived, pki.Ca.Certificate, PeerRole.Client).Ok);
        Assert.Contains("not valid yet", PeerValidation.Check(future, pki.Ca.Certificate, PeerRole.Client).Reason);
    }

    [Fact]
    public void Pem_pairs_round_trip_with_owner_only_keys()
    {
        string dir = Directory.CreateTempSubdirectory("fedprompt-pem-").FullName;
        try
        {
            pki.Ca.Save(dir);
            PemFiles.Save(pki.Client1, dir, "client-1");
            PemFiles.Save(pki.Coordinator, dir, "coordinator");
            if (!OperatingSystem.IsWindows())
                foreach (var key in Directory.GetFiles(dir, "*.key"))
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));

            using var ca = CertificateAuthority.Load(Path.Combine(dir, "ca.crt"), Path.Combine(dir, "ca.key"));
            Assert.Equal(pki.Ca.Certificate.Thumbprint, ca.Certificate.Thumbprint);
            var client = ClientCredentials.Load(Path.Combine(dir, "client-1.crt"), Path.Combine(dir, "client-1.key"), Path.Combine(dir, "ca.crt"));
            Assert.Equal("client-1", client.Identity);
            Assert.True(client.Certificate.HasPrivateKey);
            // A loaded CA keeps issuing certificates that the saved CA certificate validates.
            using var later = ca.IssueClient("client-9");
            Assert.True(PeerValidation.Check(later, client.Authority, PeerRole.Client).Ok);

            // Credentials are checked on load: a client certificate is no coordinator certificate.
            var wrongRole = Assert.Throws<InvalidDataException>(() =>
                CoordinatorCredentials.Load(Path.Combine(dir, "client-1.crt"), Path.Combine(dir, "client-1.key"), Path.Combine(dir, "ca.crt")));
            Assert.Contains("serverAuth", wrongRole.Message);
            Assert.Throws<InvalidDataException>(() => CertificateAuthority.Load(Path.Combine(dir, "client-1.crt"), Path.Combine(dir, "client-1.key")));
            Assert.Throws<InvalidDataException>(() => PemFiles.Load(Path.Combine(dir, "client-1.crt"), Path.Combine(dir, "coordinator.key")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("[::1]", true)]
    [InlineData("10.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("example.org", false)]
    public void Loopback_is_localhost_or_a_loopback_IP(string host, bool loopback) => Assert.Equal(loopback, TransportSecurity.IsLoopback(host));

    [Fact]
    public void Addresses_parse_with_or_without_a_scheme()
    {
        Assert.Equal(new Uri("https://coord.example.org:7443"), TransportSecurity.ParseAddress("coord.example.org:7443", insecure: false));
        Assert.Equal(new Uri("http://127.0.0.1:5000"), TransportSecurity.ParseAddress("127.0.0.1:5000", insecure: true));
        Assert.Contains("loopback", Assert.Throws<ArgumentException>(() => TransportSecurity.ParseAddress("http://10.0.0.1:5000", insecure: true)).Message);
        Assert.Contains("--insecure", Assert.Throws<ArgumentException>(() => TransportSecurity.ParseAddress("http://127.0.0.1:5000", insecure: false)).Message);
        Assert.Throws<ArgumentException>(() => TransportSecurity.ParseAddress("ftp://x:1", insecure: false));
    }
}
