using System.Security.Cryptography.X509Certificates;
using FederatedPrompts.Protocol.Security;

namespace FederatedPrompts.Protocol.Tests;

/// <summary>Two independent CAs and certificates from each, made once for a test class.</summary>
public sealed class TestPki : IDisposable
{
    public CertificateAuthority Ca { get; } = CertificateAuthority.Create("Test federation CA");
    public CertificateAuthority OtherCa { get; } = CertificateAuthority.Create("Someone else's CA");
    public X509Certificate2 Coordinator { get; }
    public X509Certificate2 Client1 { get; }
    public X509Certificate2 Operator { get; }
    public X509Certificate2 OtherClient1 { get; }
    public X509Certificate2 OtherCoordinator { get; }

    public TestPki()
    {
        Coordinator = Ca.IssueServer("coordinator");
        Client1 = Ca.IssueClient("client-1");
        Operator = Ca.IssueClient("operator");
        OtherClient1 = OtherCa.IssueClient("client-1");
        OtherCoordinator = OtherCa.IssueServer("coordinator");
    }

    public CoordinatorCredentials CoordinatorCredentials => new(Coordinator, Ca.Certificate);
    public ClientCredentials ClientCredentials(X509Certificate2 certificate) => new(certificate, Ca.Certificate);

    public void Dispose()
    {
        foreach (var c in new[] { Coordinator, Client1, Operator, OtherClient1, OtherCoordinator }) c.Dispose();
        Ca.Dispose();
        OtherCa.Dispose();
    }
}
