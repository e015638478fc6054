using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Operations;

/// <summary>
/// Whether the coordinator can make progress, as the gRPC health service (<c>grpc.health.v1</c>) reports it for the
/// service <c>""</c> (readiness): not serving while the store cannot be written or the current run's models or data are
/// missing. A coordinator without a run, or whose run is over, serves (it answers status and report calls). Each change
/// of verdict is logged with its reason, since the health protocol carries only SERVING / NOT_SERVING. The service
/// <see cref="LivenessService"/> checks nothing: it serves while the process answers.
/// </summary>
public sealed class CoordinatorHealthCheck(RunHost runs, ILogger<CoordinatorHealthCheck> log) : IHealthCheck
{
    public const string Name = "coordinator", LivenessService = "liveness";

    string? _lastProblem;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancel = default)
    {
        string? problem = Problem();
        if (problem != Interlocked.Exchange(ref _lastProblem, problem))
        {
            if (problem is null) log.LogInformation("health: serving again");
            else log.LogWarning("health: not serving: {Problem}", problem);
        }
        return Task.FromResult(problem is null ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(problem));
    }

    /// <summary>What keeps the coordinator from making progress, or null.</summary>
    public string? Problem()
    {
        if (runs.Store.WriteProblem() is { } store) return $"the store cannot be written: {store}";
        if (runs.Current?.Engine is { State: RunState.Created or RunState.Running or RunState.Transferring } engine
            && engine.Config.MissingFiles() is [var missing, ..])
            return $"run {engine.RunId} cannot go on: {missing}";
        return null;
    }
}
