using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using FederatedPrompts.Protocol.Security;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt certs --out DIR</c>: the federation's mutual-TLS material. A new CA with the coordinator's,
/// the operator's and one certificate per client; or, where DIR already holds a CA, more client certificates from
/// it (so an organization can be enrolled later without re-issuing everyone's).
/// </summary>
public static partial class CertsCommand
{
    const string CaName = "ca";
    const string CoordinatorName = "coordinator";

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for the .crt/.key pairs (keys are written owner-only)", Required = true };
        var clients = new Option<int?>("--clients") { Description = "Number of client certificates, named client-1 … client-N (default 2)" };
        var names = new Option<string[]>("--client") { Description = "A client identity (the certificate's CN); repeat for several. With an existing CA in --out: issue only these, from it" };
        var operatorName = new Option<string>("--operator") { Description = "The operator's identity", DefaultValueFactory = _ => "operator" };
        var hosts = new Option<string[]>("--host") { Description = $"DNS name or IP address the coordinator is reached at; repeat for several (default {string.Join(", ", CertificateAuthority.DefaultHosts)})" };
        var days = new Option<int>("--days") { Description = "Validity of the issued certificates in days (the CA is valid 10 years)", DefaultValueFactory = _ => 365 };
        var force = new Option<bool>("--force") { Description = "Replace an existing CA in --out (every certificate issued from it stops being accepted)" };
        var json = CommonOptions.Json();
        var command = new Command("certs", "Create the federation's CA and the coordinator, operator and client certificates for mutual TLS")
            { output, clients, names, operatorName, hosts, days, force, json };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(output)!;
            int validity = parse.GetValue(days);
            if (validity < 1) throw new UserInputException($"--days must be at least 1, got {validity}");
            string[] named = parse.GetValue(names) ?? [];
            if (parse.GetValue(clients) is not null && named.Length > 0) throw new UserInputException("--clients and --client exclude each other");
            if (parse.GetValue(clients) is < 1) throw new UserInputException($"--clients must be at least 1, got {parse.GetValue(clients)}");
            string operatorId = RequireIdentity(parse.GetValue(operatorName)!, "--operator");
            foreach (var name in named) RequireIdentity(name, "--client");
            var duplicate = named.Append(operatorId).GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw new UserInputException($"identity \"{duplicate.Key}\" is named twice (clients and operator need distinct names)");

            bool existing = File.Exists(PemFiles.CertificatePath(dir, CaName)) || File.Exists(PemFiles.KeyPath(dir, CaName));
            var issued = existing && !parse.GetValue(force)
                ? AddClients(dir, named, validity, parse.GetResult(hosts) is not null || parse.GetResult(clients) is not null)
                : CreateAll(dir, named.Length > 0 ? named : Enumerable.Range(1, parse.GetValue(clients) ?? 2).Select(i => $"client-{i}").ToArray(),
                    operatorId, parse.GetValue(hosts) is { Length: > 0 } h ? h : CertificateAuthority.DefaultHosts, validity);
            Report(dir, caCreated: !existing || parse.GetValue(force), issued, parse.GetValue(json));
            return 0;
        });
        return command;
    }

    sealed record Issued(string Role, string Identity, string Certificate, string Key, DateTime NotAfter, string Sha256);

    static List<Issued> CreateAll(string dir, string[] clientNames, string operatorId, IEnumerable<string> hosts, int days)
    {
        using var ca = CertificateAuthority.Create();
        var issued = new List<Issued> { Save(ca.Certificate, dir, CaName, "ca") };
        using (var coordinator = ca.IssueServer(CoordinatorName, hosts, days)) issued.Add(Save(coordinator, dir, CoordinatorName, "coordinator"));
        using (var op = ca.IssueClient(operatorId, days)) issued.Add(Save(op, dir, operatorId, "operator"));
        issued.AddRange(IssueClients(ca, dir, clientNames, days));
        return issued;
    }

    static List<Issued> AddClients(string dir, string[] clientNames, int days, bool creationOptionsGiven)
    {
        if (clientNames.Length == 0)
            throw new UserInputException($"{dir} already holds a CA ({CaName}.crt): --client NAME issues more client certificates from it, --force replaces it (and every certificate it issued stops being accepted)");
        if (creationOptionsGiven)
            throw new UserInputException($"{dir} already holds a CA: only --client NAME applies (--clients and --host shape a new CA's certificates; --force replaces the CA)");
        foreach (var path in clientNames.SelectMany(n => new[] { PemFiles.CertificatePath(dir, n), PemFiles.KeyPath(dir, n) }).Where(File.Exists))
            throw new UserInputException($"{path} already exists; a client identity is issued once (choose another name)");
        using var ca = CertificateAuthority.Load(PemFiles.CertificatePath(dir, CaName), PemFiles.KeyPath(dir, CaName));
        return IssueClients(ca, dir, clientNames, days);
    }

    static List<Issued> IssueClients(CertificateAuthority ca, string dir, IEnumerable<string> names, int days) =>
        names.Select(name =>
        {
            using var certificate = ca.IssueClient(name, days);
            return Save(certificate, dir, name, "client");
        }).ToList();

    static Issued Save(X509Certificate2 certificate, string dir, string name, string role)
    {
        PemFiles.Save(certificate, dir, name);
        return new Issued(role, PeerIdentity.Of(certificate), PemFiles.CertificatePath(dir, name), PemFiles.KeyPath(dir, name),
            certificate.NotAfter.ToUniversalTime(), certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256).ToLowerInvariant());
    }

    // Identities become file names and CNs, so they stay plain: letters, digits, '.', '_', '-'.
    static string RequireIdentity(string name, string option)
    {
        if (!IdentityPattern().IsMatch(name))
            throw new UserInputException($"{option} \"{name}\": an identity is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        if (name.Equals(CaName, StringComparison.OrdinalIgnoreCase) || name.Equals(CoordinatorName, StringComparison.OrdinalIgnoreCase))
            throw new UserInputException($"{option} \"{name}\": the name is reserved for the {name.ToLowerInvariant()}'s own certificate");
        return name;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex IdentityPattern();

    static void Report(string dir, bool caCreated, List<Issued> issued, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { directory = dir, ca_created = caCreated, certificates = issued }, CommonOptions.JsonLine));
            return;
        }
        Console.WriteLine(caCreated ? $"new CA in {dir}" : $"issued from the existing CA in {dir}");
        foreach (var i in issued)
            Console.WriteLine($"wrote {i.Certificate}, {i.Key}  ({i.Role} \"{i.Identity}\", until {i.NotAfter:yyyy-MM-dd})");
        if (caCreated)
            Console.WriteLine($"keep {PemFiles.KeyPath(dir, CaName)} with the operator; give each client its own .crt/.key and {PemFiles.CertificatePath(dir, CaName)}");
    }
}
