using System.Diagnostics;
using System.Text.Json;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Operations;
using FederatedPrompts.Coordinator.Runs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Rounds;

/// <summary>
/// Drives the current run: asks the engine what is due and has the run's strategies do the heavy part (aggregation,
/// held-out evaluation, transfer to the large model) off the request threads, then reports the result back to the
/// engine, which stores it. A failure in that work fails the run with its message instead of retrying forever.
/// </summary>
public sealed class RoundWorker(RunHost host, CoordinatorMetrics metrics, ILogger<RoundWorker> log) : BackgroundService
{
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (host.Current is { } run)
            {
                try
                {
                    if (await DoDueWork(run, stop)) continue;
                }
                catch (Exception) when (host.Store.WriteFailure is not null)
                {
                    return;   // the store cannot be written: the host is stopping (CoordinatorHost), the run stays as stored
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "run {Run} failed", run.Engine.RunId);
                    run.Engine.Fail(e.Message);
                }
            }
            try
            {
                await Task.Delay(Poll, stop);
            }
            catch (OperationCanceledException)
            {
                return;   // the host is stopping
            }
        }
    }

    /// <summary>True when it did something (so the next step is checked at once).</summary>
    Task<bool> DoDueWork(ActiveRun run, CancellationToken stop) => run.Engine.Step() switch
    {
        EngineStep.Aggregate a => Task.Run(() =>
        {
            var outcomes = a.Modes.Select(part =>
            {
                var strategy = run.Strategies[part.Mode];
                var clock = Stopwatch.StartNew();
                var aggregated = strategy.Aggregate(a.Round, part.PromptIn, part.Updates);
                double aggregateSeconds = clock.Elapsed.TotalSeconds;
                var evaluation = strategy.Evaluate(aggregated.GlobalPrompt);
                double evaluateSeconds = clock.Elapsed.TotalSeconds - aggregateSeconds;
                metrics.Aggregated(part.Mode, aggregateSeconds, evaluateSeconds);
                object? transfer = strategy.TransfersAfter(a.Round) ? strategy.Transfer(aggregated.GlobalPrompt).Outcome : null;
                return new ModeOutcome(part.Mode, aggregated.GlobalPrompt, evaluation.Accuracy, Json(new
                {
                    strategy = strategy.Name, aggregation = aggregated.Notes, macro_accuracy = evaluation.MacroAccuracy,
                    aggregate_seconds = aggregateSeconds, evaluate_seconds = evaluateSeconds, transfer,
                }));
            }).ToList();
            var closed = run.Engine.CompleteRound(a.Round, outcomes);
            metrics.RoundCompleted(closed.ClosedAt!.Value - closed.OpenedAt);
            return true;
        }, stop),
        EngineStep.Transfer t => Task.Run(() =>
        {
            var (largePrompt, outcome) = run.Strategies[t.Mode].Transfer(t.GlobalPrompt);
            run.Engine.CompleteTransfer(t.Mode, largePrompt, Json(outcome));
            return true;
        }, stop),
        _ => Task.FromResult(false),
    };

    static string Json(object value) => JsonSerializer.Serialize(value, RunConfig.Json);
}
