using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Services;
using Microsoft.AspNetCore.Builder;

namespace FederatedPrompts.Coordinator.Operations;

public static class RefusalAccounting
{
    /// <summary>
    /// Counts every call answered with a non-OK gRPC status (<c>fedprompt.requests.refused</c>, by method and status) and
    /// writes it to the audit trail with the caller and the reason, whoever answered it: the round engine, a service,
    /// gRPC's own limits, or the <see cref="MalformedRequestGuard"/> (which rate-limits its log lines, not this record).
    /// </summary>
    public static IApplicationBuilder UseRefusalAccounting(this IApplicationBuilder app, CoordinatorMetrics metrics, AuditLog audit, CallerIdentity caller) =>
        app.Use(async (context, next) =>
        {
            await next(context);
            if (RefusalLogging.StatusOf(context) is not { } status) return;
            string method = context.Request.Path.Value ?? "";
            metrics.Refused(method, status.Code.ToString());
            audit.Refused(caller.Describe(context), method, status.Code.ToString(), status.Detail);
        });
}
