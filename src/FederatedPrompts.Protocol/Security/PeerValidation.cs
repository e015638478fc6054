using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FederatedPrompts.Protocol.Security;

/// <summary>What a peer's certificate must be for: a client (or the operator) or the coordinator.</summary>
public enum PeerRole { Client, Server }

/// <summary>The outcome of checking a peer's certificate; <see cref="Reason"/> says why it was refused.</summary>
public sealed record PeerCheck(bool Ok, string Reason)
{
    public static readonly PeerCheck Accepted = new(true, "");
    public static PeerCheck Refused(string reason) => new(false, reason);
}

/// <summary>
/// Checks a presented certificate against the federation's CA only: the system's trust store plays no part, so a
/// certificate from any public or other private CA is refused. No revocation check (the CA publishes no CRL;
/// removing an identity from the run's enrolment list is how a client is shut out).
/// </summary>
public static class PeerValidation
{
    public static PeerCheck Check(X509Certificate2? presented, X509Certificate2 authority, PeerRole role, DateTime? at = null)
    {
        if (presented is null) return PeerCheck.Refused("no certificate was presented");
        string who = $"certificate \"{PeerIdentity.Shown(presented.GetNameInfo(X509NameType.SimpleName, false))}\"";
        // NotBefore/NotAfter are local times; a UTC moment is converted so the comparison is of like with like.
        var when = at is { Kind: DateTimeKind.Utc } utc ? utc.ToLocalTime() : at ?? DateTime.Now;
        if (when < presented.NotBefore) return PeerCheck.Refused($"{who} is not valid yet (valid from {presented.NotBefore.ToUniversalTime():u})");
        if (when > presented.NotAfter) return PeerCheck.Refused($"{who} has expired (valid until {presented.NotAfter.ToUniversalTime():u})");

        // Required explicitly: a certificate without the extension would otherwise pass as good for any purpose.
        string usage = role == PeerRole.Client ? X509Oids.ClientAuth : X509Oids.ServerAuth;
        var ekus = presented.Extensions.OfType<X509EnhancedKeyUsageExtension>().SelectMany(e => e.EnhancedKeyUsages.Cast<Oid>());
        if (!ekus.Any(oid => oid.Value == usage))
            return PeerCheck.Refused($"{who} is not a {(role == PeerRole.Client ? "client (clientAuth" : "server (serverAuth")} extended key usage) certificate");

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = when;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(usage));
        if (!chain.Build(presented))
        {
            var status = chain.ChainStatus.Select(s => s.Status).Aggregate(X509ChainStatusFlags.NoError, (a, b) => a | b);
            if ((status & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
                return PeerCheck.Refused($"{who} (issuer \"{PeerIdentity.Shown(presented.Issuer)}\") is not issued by this federation's CA \"{authority.Subject}\"");
            return PeerCheck.Refused($"{who} does not chain to this federation's CA: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()))}");
        }
        // CustomRootTrust already anchors the chain at the CA; compared again so the rule is visible here.
        var root = chain.ChainElements[^1].Certificate;
        return root.RawDataMemory.Span.SequenceEqual(authority.RawDataMemory.Span)
            ? PeerCheck.Accepted
            : PeerCheck.Refused($"{who} chains to \"{PeerIdentity.Shown(root.Subject)}\", not to this federation's CA");
    }
}

/// <summary>The identity a certificate stands for: the one common name of its subject (<c>client-1</c>, <c>operator</c>, ...).</summary>
public static class PeerIdentity
{
    const string CommonNameOid = "2.5.4.3";

    /// <summary>
    /// The CN, or <see cref="ArgumentException"/> naming why the subject is no one identity. Nothing is guessed: .NET's
    /// simple name takes one of several CNs (a CA-signed "CN=operator, CN=client-1" was admitted as the operator). So a
    /// subject needs exactly one CN, in a name component of its own ("CN=a+O=b" joins attributes without an order), and
    /// that CN must read as what it is: not blank, no white space around it, no control or invisible formatting
    /// character (which a log shows as nothing, or as a line of its own).
    /// </summary>
    public static string Of(X509Certificate2 certificate)
    {
        var subject = certificate.SubjectName;
        var names = new List<string?>();
        foreach (var component in subject.EnumerateRelativeDistinguishedNames())
        {
            if (component.HasMultipleElements) throw Refused(subject, "joins several attributes in one name component (\"+\"), so it names no single identity");
            if (component.GetSingleElementType().Value == CommonNameOid) names.Add(component.GetSingleElementValue());
        }
        if (names.Count != 1)
            throw Refused(subject, names.Count == 0 ? "has no common name (CN) to use as identity" : $"has {names.Count} common names (CN); an identity is exactly one");
        string name = names[0] ?? throw Refused(subject, "has a common name that is not text");
        if (string.IsNullOrWhiteSpace(name)) throw Refused(subject, "has a blank common name");
        if (name.Trim() != name) throw Refused(subject, "has white space around its common name");
        foreach (char c in name)
            if (Unseen(c)) throw Refused(subject, $"has a control or formatting character (U+{(int)c:X4}) in its common name");
        return name;
    }

    static bool Unseen(char c) => char.IsControl(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format;

    /// <summary>A name from a certificate as a message quotes it: control and formatting characters escaped (\uXXXX), so that it cannot forge or hide text in a log.</summary>
    internal static string Shown(string name) => string.Concat(name.Select(c => Unseen(c) ? $"\\u{(int)c:X4}" : c.ToString()));

    static ArgumentException Refused(X500DistinguishedName subject, string problem) => new($"certificate \"{Shown(subject.Name)}\" {problem}");
}
