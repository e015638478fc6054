using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using FederatedPrompts.Protocol.Security;

namespace FederatedPrompts.Cli.Tests;

/// <summary><c>fedprompt certs</c>: the files it writes, their validity against the CA, no silent CA replacement, late enrolment.</summary>
public sealed class CertsCommandTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("fedprompt-certs-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Out => Path.Combine(dir, "pki");

    static X509Certificate2 Load(string dir, string name) => PemFiles.Load(PemFiles.CertificatePath(dir, name), PemFiles.KeyPath(dir, name));

    [Fact]
    public void Writes_a_CA_and_valid_certificates_for_the_coordinator_the_operator_and_each_client()
    {
        var run = Fedprompt.Run("certs", "--out", Out, "--clients", "3", "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var result = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.True(result.GetProperty("ca_created").GetBoolean());
        Assert.Equal(["ca", "coordinator", "operator", "client-1", "client-2", "client-3"],
            result.GetProperty("certificates").EnumerateArray().Select(c => Path.GetFileNameWithoutExtension(c.GetProperty("certificate").GetString()!)));

        using var ca = PemFiles.LoadCertificate(Path.Combine(Out, "ca.crt"));
        using var coordinator = Load(Out, "coordinator");
        Assert.True(PeerValidation.Check(coordinator, ca, PeerRole.Server).Ok);
        Assert.True(coordinator.MatchesHostname("127.0.0.1"));
        foreach (var client in new[] { "operator", "client-1", "client-2", "client-3" })
        {
            using var certificate = Load(Out, client);
            Assert.True(PeerValidation.Check(certificate, ca, PeerRole.Client).Ok, client);
            Assert.Equal(client, PeerIdentity.Of(certificate));
        }
        if (!OperatingSystem.IsWindows())
            foreach (var key in Directory.GetFiles(Out, "*.key"))
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
    }

    [Fact]
    public void Refuses_to_replace_a_CA_without_force_and_replaces_it_with_force()
    {
        Assert.Equal(0, Fedprompt.Run("certs", "--out", Out, "--client", "alpha").ExitCode);
        string before = File.ReadAllText(Path.Combine(Out, "ca.crt"));

        var refused = Fedprompt.Run("certs", "--out", Out);
        Assert.Equal(2, refused.ExitCode);
        Assert.StartsWith("error: ", refused.Stderr);
        Assert.Contains("--force", refused.Stderr);
        Assert.Equal(before, File.ReadAllText(Path.Combine(Out, "ca.crt")));

        Assert.Equal(0, Fedprompt.Run("certs", "--out", Out, "--force").ExitCode);
        Assert.NotEqual(before, File.ReadAllText(Path.Combine(Out, "ca.crt")));
    }

    [Fact]
    public void Issues_additional_clients_from_an_existing_CA()
    {
        Assert.Equal(0, Fedprompt.Run("certs", "--out", Out, "--clients", "1").ExitCode);
        string caBefore = File.ReadAllText(Path.Combine(Out, "ca.crt"));
        string client1Before = File.ReadAllText(Path.Combine(Out, "client-1.crt"));

        var run = Fedprompt.Run("certs", "--out", Out, "--client", "org-b", "--client", "org-c");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("existing CA", run.Stdout);
        Assert.Equal(caBefore, File.ReadAllText(Path.Combine(Out, "ca.crt")));
        Assert.Equal(client1Before, File.ReadAllText(Path.Combine(Out, "client-1.crt")));
        using var ca = PemFiles.LoadCertificate(Path.Combine(Out, "ca.crt"));
        using var late = Load(Out, "org-c");
        Assert.True(PeerValidation.Check(late, ca, PeerRole.Client).Ok);

        var again = Fedprompt.Run("certs", "--out", Out, "--client", "org-b");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("org-b.crt already exists", again.Stderr);
    }

    [Theory]
    [InlineData("--clients 0", "--clients must be at least 1, got 0")]
    [InlineData("--days 0", "--days must be at least 1, got 0")]
    [InlineData("--client a/b", "\"a/b\": an identity is")]
    [InlineData("--client coordinator", "reserved")]
    [InlineData("--client x --client x", "named twice")]
    [InlineData("--clients 2 --client x", "exclude each other")]
    public void Bad_input_ends_with_one_error_line_and_exit_2(string arguments, string message)
    {
        var run = Fedprompt.Run(["certs", "--out", Out, .. arguments.Split(' ')]);
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", line);
        Assert.Contains(message, line);
        Assert.False(Directory.Exists(Out));
    }
}
