namespace FederatedPrompts.Core;

/// <summary>
/// IProgress that reports on the calling thread, in order. (System.Progress posts to the thread pool, so a
/// long job's updates could arrive late, out of order, or after the job has returned.)
/// </summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
