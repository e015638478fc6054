using Grpc.Core;

namespace FederatedPrompts.Client;

/// <summary>
/// Calls the coordinator again after transient failures (it is restarting, the network dropped), waiting
/// exponentially longer each time (doubling from the first backoff, capped), with seeded jitter. Other statuses are
/// answers, not failures, and reach the caller at once.
/// </summary>
public sealed class Retry(CallPolicy policy, int seed)
{
    readonly Random _jitter = new(seed);

    /// <summary>Told of every transient failure before the wait: the failure, the attempt that failed and the wait before the next.</summary>
    public Action<RpcException, int, TimeSpan>? OnRetry { get; init; }

    public static bool IsTransient(RpcException e) => e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded
        or StatusCode.Aborted or StatusCode.Internal or StatusCode.Unknown;

    public async Task<T> Call<T>(Func<Task<T>> call, CancellationToken cancel)
    {
        var wait = policy.FirstBackoff;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RpcException e) when (IsTransient(e) && attempt < policy.MaxAttempts && !cancel.IsCancellationRequested)
            {
                var pause = wait * (0.75 + 0.5 * _jitter.NextDouble());
                OnRetry?.Invoke(e, attempt, pause);
                await Task.Delay(pause, cancel);
                wait = TimeSpan.FromTicks(Math.Min(policy.MaxBackoff.Ticks, wait.Ticks * 2));
            }
        }
    }
}
