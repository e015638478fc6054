using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Protocol.Security;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;
using Fed = FederatedPrompts.Protocol.V1.Federation;

namespace FederatedPrompts.Federation.Tests;

/// <summary>Issue #12: a certificate of our CA that names no single identity is refused on every call.</summary>
public partial class BadInputTests
{
    [Fact]
    public async Task A_certificate_of_our_CA_with_two_common_names_is_unauthenticated_and_changes_nothing()
    {
        await using var c = await Start("soft");
        foreach (var names in new[] { new[] { "operator", "client-1" }, ["client-1", "operator"] })
        {
            using var certificate = IssueClientWithCommonNames(setting.Ca, names);
            using var channel = CoordinatorChannel.Create(c.Host.Address, new ClientCredentials(certificate, setting.Ca.Certificate), insecure: false, insecureIdentity: null);
            const string problem = "has 2 common names (CN); an identity is exactly one";
            await c.Refused(StatusCode.Unauthenticated, problem, () => new Operator.OperatorClient(channel).GetStatusAsync(new RunRef()).ResponseAsync);
            await c.Refused(StatusCode.Unauthenticated, problem, () => new Fed.FederationClient(channel).EnrolAsync(SoftEnrol(6)).ResponseAsync);
        }
        Assert.Empty(c.Store.Clients(c.RunId));
        Assert.Equal(0, (await c.Operator("operator").GetStatusAsync(new RunRef())).EnrolledClients);
    }

    /// <summary>A client certificate from <paramref name="ca"/> whose subject is these common names in this order (the CA itself issues one).</summary>
    static X509Certificate2 IssueClientWithCommonNames(CertificateAuthority ca, string[] names)
    {
        var subject = new X500DistinguishedNameBuilder();
        foreach (var name in names) subject.AddCommonName(name);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(X509Oids.ClientAuth)], false));
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(ca.Certificate, now.AddMinutes(-5), now.AddDays(1), [0x12, .. RandomNumberGenerator.GetBytes(15)]);
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12, as the CA's own certificates are: TLS stacks want a key they can find again.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
