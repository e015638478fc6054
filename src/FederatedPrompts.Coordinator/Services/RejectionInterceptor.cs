using FederatedPrompts.Coordinator.Rounds;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>
/// Turns a <see cref="RejectionException"/> from the domain into its gRPC status; <see cref="RefusalLogging"/> logs it
/// (with every other refusal, including those made before a handler runs).
/// </summary>
public sealed class RejectionInterceptor : Interceptor
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
            throw Refused(e);
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
            throw Refused(e);
        }
    }

    static RpcException Refused(RejectionException e)
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
        return new RpcException(new Status(code, e.Message));
    }
}
