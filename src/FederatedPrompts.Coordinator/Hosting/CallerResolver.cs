using Grpc.Core;

namespace FederatedPrompts.Coordinator.Hosting;

/// <summary>Who is calling: the authenticated identity of a gRPC call, as the host's transport security establishes it.</summary>
public sealed class CallerResolver(Func<ServerCallContext, string> resolve)
{
    public string Of(ServerCallContext context) => resolve(context);
}
