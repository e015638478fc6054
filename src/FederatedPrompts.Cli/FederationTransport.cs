using System.CommandLine;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Protocol.Security;
using Grpc.Core;

namespace FederatedPrompts.Cli;

/// <summary>
/// --certs DIR (ca.crt plus NAME.crt/NAME.key, as <c>fedprompt certs</c> writes them), --identity NAME and --insecure:
/// how a client or the operator reaches the coordinator.
/// </summary>
public sealed class FederationTransport(string defaultIdentity)
{
    public readonly Option<string> Coordinator = new("--coordinator") { Description = "Coordinator address, https://host:port", Required = true };
    public readonly Option<string?> Certs = new("--certs") { Description = "Folder with ca.crt and IDENTITY.crt/.key (from fedprompt certs)" };
    public readonly Option<string> Identity = new("--identity") { Description = "Whose certificate to present", DefaultValueFactory = _ => defaultIdentity };
    public readonly Option<bool> Insecure = new("--insecure") { Description = "Plaintext HTTP/2 on loopback only, identity sent as a header (testing only)" };

    public IEnumerable<Option> Options => [Coordinator, Certs, Identity, Insecure];

    public CallInvoker Connect(ParseResult parse)
    {
        bool insecure = parse.GetValue(Insecure);
        string identity = parse.GetValue(Identity)!;
        var address = TransportSecurity.ParseAddress(parse.GetValue(Coordinator)!, insecure);
        if (insecure) return CoordinatorChannel.Create(address, null, insecure: true, identity).CreateCallInvoker();
        string certs = parse.GetValue(Certs) ?? throw new UserInputException("give --certs DIR (or --insecure on loopback)");
        var tls = ClientCredentials.Load(PemFiles.CertificatePath(certs, identity), PemFiles.KeyPath(certs, identity), PemFiles.CertificatePath(certs, "ca"));
        return CoordinatorChannel.Create(address, tls, insecure: false, null).CreateCallInvoker();
    }
}
