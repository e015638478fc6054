using System.Net.Security;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Protocol.Security;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace FederatedPrompts.Protocol.Tests;

/// <summary>
/// Mutual TLS end to end: a real Kestrel coordinator (CoordinatorTls) on 127.0.0.1 and clients through
/// CoordinatorChannel, over real sockets.
/// </summary>
public class MutualTlsTests(TestPki pki) : IClassFixture<TestPki>
{
    static async Task<string> EnrolAs(Uri address, ClientCredentials tls)
    {
        using var channel = CoordinatorChannel.Create(address, tls, insecure: false, insecureIdentity: null);
        return (await new Federation.FederationClient(channel).EnrolAsync(new EnrolRequest())).ClientId;
    }

    [Fact]
    public async Task A_client_certificate_from_our_CA_is_admitted_and_its_identity_is_its_common_name()
    {
        await using var coordinator = await TestCoordinator.StartAsync(pki.CoordinatorCredentials);
        Assert.Equal("client-1", await EnrolAs(coordinator.Address, pki.ClientCredentials(pki.Client1)));
        Assert.Equal("operator", await EnrolAs(coordinator.Address, pki.ClientCredentials(pki.Operator)));
    }

    [Fact]
    public async Task The_identity_header_is_ignored_under_TLS()
    {
        await using var coordinator = await TestCoordinator.StartAsync(pki.CoordinatorCredentials);
        using var channel = CoordinatorChannel.Create(coordinator.Address, pki.ClientCredentials(pki.Client1), false, null);
        var headers = new Metadata { { TransportSecurity.IdentityHeader, "operator" } };
        Assert.Equal("client-1", (await new Federation.FederationClient(channel).EnrolAsync(new EnrolRequest(), headers)).ClientId);
        var denied = await Assert.ThrowsAsync<RpcException>(() => new Operator.OperatorClient(channel).GetStatusAsync(new RunRef(), headers).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
    }

    [Fact]
    public async Task A_client_certificate_from_another_CA_is_refused()
    {
        await using var coordinator = await TestCoordinator.StartAsync(pki.CoordinatorCredentials);
        // Same CN as an admitted client, but signed by someone else's CA.
        await Assert.ThrowsAsync<RpcException>(() => EnrolAs(coordinator.Address, new ClientCredentials(pki.OtherClient1, pki.Ca.Certificate)));
        // The client sees only a broken handshake; the coordinator's log says why.
        Assert.Contains(coordinator.Warnings.Messages, m => m.Contains("refused a client certificate") && m.Contains("not issued by this federation's CA"));
    }

    [Fact]
    public async Task A_server_only_certificate_used_as_a_client_certificate_is_refused()
    {
        await using var coordinator = await TestCoordinator.StartAsync(pki.CoordinatorCredentials);
        await Assert.ThrowsAsync<RpcException>(() => EnrolAs(coordinator.Address, pki.ClientCredentials(pki.Coordinator)));
        Assert.Contains(coordinator.Warnings.Messages, m => m.Contains("not a client (clientAuth"));
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused()
    {
        await using var coordinator = await TestCoordinator.StartAsync(pki.CoordinatorCredentials);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => TlsClientHandler.ValidateServer(certificate, "127.0.0.1", pki.Ca.Certificate),
            },
        };
        using var channel = GrpcChannel.ForAddress(coordinator.Address, new GrpcChannelOptions { HttpHandler = handler });
        await Assert.ThrowsAsync<RpcException>(() => new Federation.FederationClient(channel).EnrolAsync(new EnrolRequest()).ResponseAsync);
    }

    [Fact]
    public async Task The_client_refuses_a_coordinator_certificate_from_another_CA()
    {
        await using var coordinator = await TestCoordinator.StartAsync(new CoordinatorCredentials(pki.OtherCoordinator, pki.Ca.Certificate));
        var refused = await Assert.ThrowsAsync<RpcException>(() => EnrolAs(coordinator.Address, pki.ClientCredentials(pki.Client1)));
        Assert.Contains("not issued by this federation's CA", refused.Status.DebugException?.ToString() ?? refused.Message);
    }

    [Fact]
    public async Task The_client_refuses_a_coordinator_certificate_that_does_not_name_the_host()
    {
        using var elsewhere = pki.Ca.IssueServer("coordinator", ["coordinator.example.org"]);
        await using var coordinator = await TestCoordinator.StartAsync(new CoordinatorCredentials(elsewhere, pki.Ca.Certificate));
        var refused = await Assert.ThrowsAsync<RpcException>(() => EnrolAs(coordinator.Address, pki.ClientCredentials(pki.Client1)));
        Assert.Contains("does not name \"127.0.0.1\"", refused.Status.DebugException?.ToString() ?? refused.Message);
    }

    [Fact]
    public async Task The_operator_API_admits_the_operator_and_denies_a_client_by_name()
    {
        await using var coordinator = await TestCoordinator.StartAsync(pki.CoordinatorCredentials);
        using (var channel = CoordinatorChannel.Create(coordinator.Address, pki.ClientCredentials(pki.Operator), false, null))
            Assert.Equal("operator", (await new Operator.OperatorClient(channel).GetStatusAsync(new RunRef())).RunId);

        using var client = CoordinatorChannel.Create(coordinator.Address, pki.ClientCredentials(pki.Client1), false, null);
        var denied = await Assert.ThrowsAsync<RpcException>(() => new Operator.OperatorClient(client).GetStatusAsync(new RunRef()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains("\"client-1\"", denied.Status.Detail);
    }

    [Fact]
    public async Task Insecure_on_loopback_carries_the_identity_in_the_header()
    {
        await using var coordinator = await TestCoordinator.StartAsync(tls: null, insecure: true);
        Assert.Equal("http", coordinator.Address.Scheme);
        using var channel = CoordinatorChannel.Create(coordinator.Address, null, insecure: true, insecureIdentity: "client-7");
        Assert.Equal("client-7", (await new Federation.FederationClient(channel).EnrolAsync(new EnrolRequest())).ClientId);
        var denied = await Assert.ThrowsAsync<RpcException>(() => new Operator.OperatorClient(channel).GetStatusAsync(new RunRef()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
    }

    [Fact]
    public async Task Insecure_without_the_identity_header_is_unauthenticated()
    {
        await using var coordinator = await TestCoordinator.StartAsync(tls: null, insecure: true);
        using var channel = GrpcChannel.ForAddress(coordinator.Address);
        var refused = await Assert.ThrowsAsync<RpcException>(() => new Federation.FederationClient(channel).EnrolAsync(new EnrolRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Theory]
    [InlineData("http://10.1.2.3:5000")]
    [InlineData("http://coordinator.example.org:5000")]
    [InlineData("http://0.0.0.0:5000")]
    public void Insecure_is_refused_on_a_non_loopback_address(string address)
    {
        var client = Assert.Throws<ArgumentException>(() => CoordinatorChannel.Create(new Uri(address), null, true, "client-1"));
        Assert.Contains("loopback addresses only", client.Message);
        var server = Assert.Throws<ArgumentException>(() =>
            Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder().UseCoordinatorTransport(new CoordinatorTransport(new Uri(address), null, true)));
        Assert.Contains("loopback addresses only", server.Message);
    }

    [Fact]
    public void Plaintext_needs_an_explicit_insecure_and_TLS_needs_credentials()
    {
        Assert.Contains("--insecure", Assert.Throws<ArgumentException>(() => CoordinatorChannel.Create(new Uri("http://127.0.0.1:5000"), pki.ClientCredentials(pki.Client1), false, null)).Message);
        Assert.Contains("client certificate", Assert.Throws<ArgumentException>(() => CoordinatorChannel.Create(new Uri("https://127.0.0.1:5000"), null, false, null)).Message);
        Assert.Contains("identity", Assert.Throws<ArgumentException>(() => CoordinatorChannel.Create(new Uri("http://127.0.0.1:5000"), null, true, null)).Message);
    }
}
