using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Rounds;

/// <summary>
/// Drives the current run: asks the engine what is due and does the heavy part (aggregation, held-out evaluation,
/// POST transfer) off the request threads, then reports the result back to the engine, which stores it. A failure
/// in that work fails the run with its message instead of retrying forever.
/// </summary>
public sealed class RoundWorker(RunHost host, ILogger<RoundWorker> log) : BackgroundService
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
                    if (await DoDueWork(run.Engine, run.Models, stop)) continue;
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
    static Task<bool> DoDueWork(RoundEngine engine, CoordinatorModels models, CancellationToken stop) => engine.Step() switch
    {
        EngineStep.Aggregate a => Task.Run(() =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (prompt, notes) = models.Aggregate(a.Updates);
            double aggregateSeconds = clock.Elapsed.TotalSeconds;
            var evaluation = models.Evaluate(prompt);
            double evaluateSeconds = clock.Elapsed.TotalSeconds - aggregateSeconds;
            object? transfer = null;
            var config = engine.Config;
            if (config.IsSoft && config.Transfer.EveryRounds > 0 && a.Round % config.Transfer.EveryRounds == 0 && a.Round < config.Rounds)
                transfer = models.Transfer(prompt).Outcome;
            engine.CompleteRound(a.Round, prompt, evaluation.Accuracy, CoordinatorModels.ToJson(new
            {
                aggregation = notes, macro_accuracy = evaluation.MacroAccuracy, aggregate_seconds = aggregateSeconds, evaluate_seconds = evaluateSeconds, transfer,
            }));
            return true;
        }, stop),
        EngineStep.Transfer t => Task.Run(() =>
        {
            var (largePrompt, outcome) = models.Transfer(t.GlobalPrompt);
            engine.CompleteTransfer(largePrompt, CoordinatorModels.ToJson(outcome));
            return true;
        }, stop),
        _ => Task.FromResult(false),
    };
}
