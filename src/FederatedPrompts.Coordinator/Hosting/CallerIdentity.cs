using FederatedPrompts.Protocol.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace FederatedPrompts.Coordinator.Hosting;

/// <summary>
/// Who is calling. Under TLS: the CN of the client certificate Kestrel verified in the handshake (a
/// <c>fedprompt-identity</c> header is ignored, never trusted). In insecure mode (loopback only): that header.
/// The mode comes from the coordinator's configuration, never from the request.
/// </summary>
public sealed class CallerIdentity(bool insecure, string operatorIdentity = CallerIdentity.DefaultOperator)
{
    public const string DefaultOperator = "operator";

    public bool Insecure => insecure;
    public string OperatorIdentity => operatorIdentity;

    /// <summary>
    /// The caller's identity; <see cref="StatusCode.Unauthenticated"/> if there is none, or if the certificate names no
    /// single identity (the detail says why, in <see cref="PeerIdentity.Of"/>'s words).
    /// </summary>
    public string Of(ServerCallContext context)
    {
        var (identity, missing) = Identify(context.GetHttpContext());
        return identity ?? throw Unauthenticated(missing);
    }

    /// <summary>The caller's identity if it is the operator's; <see cref="StatusCode.PermissionDenied"/> naming the caller otherwise.</summary>
    public string RequireOperator(ServerCallContext context)
    {
        string identity = Of(context);
        return identity == operatorIdentity ? identity
            : throw new RpcException(new Status(StatusCode.PermissionDenied, $"\"{identity}\" may not call the operator API (only \"{operatorIdentity}\" may)"));
    }

    /// <summary>
    /// Who sent a request, for logs and the audit trail, also where <see cref="Of"/> would refuse: the identity, or why
    /// there is none in parentheses.
    /// </summary>
    public string Describe(HttpContext context)
    {
        var (identity, missing) = Identify(context);
        return identity ?? $"(no identity: {missing})";
    }

    /// <summary>The caller's identity under this mode, or why the request names none (a missing header or certificate, in <see cref="PeerIdentity.Of"/>'s words).</summary>
    (string? Identity, string Missing) Identify(HttpContext context)
    {
        if (insecure)
            return context.Request.Headers[TransportSecurity.IdentityHeader].FirstOrDefault()?.Trim() is { Length: > 0 } header
                ? (header, "")
                : (null, $"in insecure mode every call carries the \"{TransportSecurity.IdentityHeader}\" header");
        if (context.Connection.ClientCertificate is not { } certificate) return (null, "the call has no client certificate");
        try { return (PeerIdentity.Of(certificate), ""); }
        catch (ArgumentException e) { return (null, e.Message); }
    }

    static RpcException Unauthenticated(string why) => new(new Status(StatusCode.Unauthenticated, $"no caller identity: {why}"));
}
