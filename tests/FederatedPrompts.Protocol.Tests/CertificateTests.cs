using System.Formats.Asn1;
using System.Security.Cryptography;
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

    /// <summary>A self-signed certificate with exactly this subject: the identity is read from the subject alone.</summary>
    static X509Certificate2 WithSubject(X500DistinguishedName subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
    }

    static X500DistinguishedName Subject(Action<X500DistinguishedNameBuilder> build)
    {
        var subject = new X500DistinguishedNameBuilder();
        build(subject);
        return subject.Build();
    }

    /// <summary>"CN=client-1+O=operator" as one name component with two attributes (the builder and the string parser make one attribute a component).</summary>
    static X500DistinguishedName JoinedComponent()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSetOf())
            foreach (var (oid, value) in new[] { ("2.5.4.3", "client-1"), ("2.5.4.10", "operator") })
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(oid);
                    writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
                }
        return new X500DistinguishedName(writer.Encode());
    }

    /// <summary>Issue #12: a subject that is not exactly one plain common name is no identity, whichever name a reader would pick from it.</summary>
    [Fact]
    public void A_subject_that_is_not_one_plain_common_name_is_no_identity()
    {
        using var plain = WithSubject(Subject(s => { s.AddOrganizationName("Hospital A"); s.AddCommonName("client-1"); }));
        Assert.Equal("client-1", PeerIdentity.Of(plain));

        (X500DistinguishedName Subject, string Problem)[] refused =
        [
            (Subject(s => { s.AddCommonName("operator"); s.AddCommonName("client-1"); }), "has 2 common names (CN); an identity is exactly one"),
            (Subject(s => { s.AddCommonName("client-1"); s.AddCommonName("operator"); }), "has 2 common names (CN); an identity is exactly one"),
            (JoinedComponent(), "joins several attributes in one name component"),
            (Subject(s => s.AddOrganizationName("operator")), "has no common name (CN) to use as identity"),
            (Subject(s => s.AddCommonName(" ")), "has a blank common name"),
            (Subject(s => s.AddCommonName("operator ")), "has white space around its common name"),
            (Subject(s => s.AddCommonName("client-1\noperator")), "has a control or formatting character (U+000A) in its common name"),
            (Subject(s => s.AddCommonName("operator\u200B")), "has a control or formatting character (U+200B) in its common name"),
        ];
        foreach (var (subject, problem) in refused)
        {
            using var certificate = WithSubject(subject);
            var error = Assert.Throws<ArgumentException>(() => PeerIdentity.Of(certificate));
            Assert.Contains(problem, error.Message);
            Assert.DoesNotContain('\n', error.Message);   // the subject is quoted with such characters escaped
        }

        // The handshake's check quotes a stranger's name escaped too, so its refusal cannot write a line of its own into the log.
        using var forged = WithSubject(Subject(s => s.AddCommonName("x\nWARN admitted operator")));
        var reason = PeerValidation.Check(forged, pki.Ca.Certificate, PeerRole.Client).Reason;
        Assert.Contains("certificate \"x\\u000AWARN admitted operator\"", reason);
        Assert.DoesNotContain('\n', reason);
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
