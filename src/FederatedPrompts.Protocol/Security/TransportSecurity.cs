using System.Net;

namespace FederatedPrompts.Protocol.Security;

/// <summary>
/// Where plaintext is allowed: only with an explicit insecure switch, and only to or on a loopback address, so
/// an unauthenticated federation can never be reached from another machine.
/// </summary>
public static class TransportSecurity
{
    /// <summary>Carries the caller's identity in insecure mode only; under TLS the certificate's CN is the identity.</summary>
    public const string IdentityHeader = "fedprompt-identity";

    /// <summary>
    /// The coordinator's address as a URI: <c>https://host:port</c> (or <c>host:port</c>, completed with the mode's
    /// scheme). Insecure needs <c>http</c> and a loopback host; TLS needs <c>https</c>.
    /// </summary>
    public static Uri ParseAddress(string address, bool insecure)
    {
        if (string.IsNullOrWhiteSpace(address)) throw new ArgumentException("the coordinator address is empty");
        string text = address.Contains("://", StringComparison.Ordinal) ? address : (insecure ? "http://" : "https://") + address;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"\"{address}\" is not a coordinator address (https://host:port)");
        RequireMode(uri, insecure);
        return uri;
    }

    /// <summary>Refuses a URI whose scheme does not match the mode, or plaintext to a non-loopback host.</summary>
    public static void RequireMode(Uri address, bool insecure)
    {
        if (insecure)
        {
            if (address.Scheme != Uri.UriSchemeHttp)
                throw new ArgumentException($"{address}: --insecure uses plaintext, so the address must be http://");
            RequireLoopback(address.IdnHost);
        }
        else if (address.Scheme != Uri.UriSchemeHttps)
            throw new ArgumentException($"{address}: plaintext (http://) needs an explicit --insecure, and is allowed on loopback addresses only");
    }

    /// <summary>Throws unless <paramref name="host"/> is localhost or a loopback IP address.</summary>
    public static void RequireLoopback(string host)
    {
        if (!IsLoopback(host))
            throw new ArgumentException($"--insecure is refused on \"{host}\": plaintext without certificates is allowed on loopback addresses only (localhost, 127.0.0.1, ::1); use certificates (fedprompt certs) for any other address");
    }

    public static bool IsLoopback(string host)
    {
        string trimmed = host.Trim('[', ']');
        return trimmed.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || IPAddress.TryParse(trimmed, out var ip) && IPAddress.IsLoopback(ip);
    }
}
