using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>
/// Logs every call that ends with a non-OK gRPC status, once, with its method, status and detail, whoever refused it:
/// the round engine (a <see cref="Rounds.RejectionException"/> mapped by <see cref="RejectionInterceptor"/>), a service
/// or the caller check (an <see cref="RpcException"/>), or gRPC itself before any handler ran (a request over the
/// message size limit). It reads the status the call wrote (response headers for a trailers-only reply, else trailers).
/// </summary>
public static class RefusalLogging
{
    public static IApplicationBuilder UseRefusalLogging(this IApplicationBuilder app, ILogger log) => app.Use(async (context, next) =>
    {
        await next(context);
        if (StatusOf(context) is not { } status) return;
        log.LogWarning("{Method} {Outcome} ({Code}): {Detail}", context.Request.Path.Value, IsRefusal(status.Code) ? "refused" : "failed", status.Code, status.Detail);
    });

    /// <summary>
    /// The non-OK, non-cancelled gRPC status a finished call wrote (response headers for a trailers-only reply, else
    /// trailers), with its detail unescaped; null for a call that succeeded or a request that is not gRPC.
    /// </summary>
    public static (StatusCode Code, string Detail)? StatusOf(HttpContext context)
    {
        if (!(context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) ?? false)) return null;
        string? code = context.Response.Headers["grpc-status"].FirstOrDefault()
            ?? context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].FirstOrDefault();
        if (code is null || !int.TryParse(code, out int value) || (StatusCode)value is StatusCode.OK or StatusCode.Cancelled) return null;
        string message = context.Response.Headers["grpc-message"].FirstOrDefault()
            ?? context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-message"].FirstOrDefault() ?? "";
        return ((StatusCode)value, Uri.UnescapeDataString(message));
    }

    /// <summary>Statuses that answer a bad or untimely request (the caller's to fix), as opposed to a failure of the coordinator.</summary>
    public static bool IsRefusal(StatusCode code) => code is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.AlreadyExists
        or StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.FailedPrecondition or StatusCode.OutOfRange or StatusCode.ResourceExhausted;
}
