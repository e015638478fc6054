using FederatedPrompts.Coordinator.Rounds;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>Turns a <see cref="RejectionException"/> from the domain into its gRPC status, and logs it.</summary>
public sealed class RejectionInterceptor(ILogger<RejectionInterceptor> log) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (RejectionException e)
        {
            throw Refused(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (RejectionException e)
        {
            throw Refused(e, context);
        }
    }

    RpcException Refused(RejectionException e, ServerCallContext context)
    {
        var code = e.Kind switch
        {
            RejectionKind.NotAdmitted => StatusCode.PermissionDenied,
            RejectionKind.UnknownRun => StatusCode.NotFound,
            RejectionKind.WrongState => StatusCode.FailedPrecondition,
            RejectionKind.Duplicate => StatusCode.AlreadyExists,
            RejectionKind.Invalid => StatusCode.InvalidArgument,
            RejectionKind.OverBudget => StatusCode.ResourceExhausted,
            _ => StatusCode.Internal,
        };
        log.LogWarning("{Method} refused ({Code}): {Reason}", context.Method, code, e.Message);
        return new RpcException(new Status(code, e.Message));
    }
}
