using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Coordinator.Strategies;
using FederatedPrompts.Core.Prompts;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Hosting;

/// <summary>
/// A run the coordinator serves: its engine, its strategy per mode, and its models, loaded when first needed (a finished
/// run's status and report never load them).
/// </summary>
public sealed record ActiveRun(RoundEngine Engine, IReadOnlyDictionary<PromptMode, FederationStrategy> Strategies, Lazy<RunModels> Models);

/// <summary>
/// Holds the coordinator's current run (at most one is served at a time) and creates new ones. At start-up the
/// newest run in the store is resumed, or the configured one created; the operator may create the next once the
/// current one is over.
/// </summary>
public sealed class RunHost(CoordinatorStore store, TimeProvider time, ILoggerFactory logs, InferenceBatching? inference = null) : IDisposable
{
    readonly Lock _gate = new();
    ActiveRun? _current;

    public CoordinatorStore Store => store;
    public ActiveRun? Current { get { lock (_gate) return _current; } }

    public ActiveRun Require() => Current ?? throw new RejectionException(RejectionKind.UnknownRun, "the coordinator has no run; the operator creates one");

    /// <summary>
    /// Serves the newest stored run, resuming it where it stopped; false when the store has none. An unfinished run loads
    /// its models now, so that a missing model fails the start rather than the first client; a finished one never does.
    /// </summary>
    public bool ResumeLatest()
    {
        if (store.LatestRun() is not { } latest) return false;
        var run = Serve(latest.RunId, latest.Config, new Lazy<RunModels>(() => new RunModels(latest.Config, new RunTask(latest.Config), inference)));
        if (latest.State is not (RunState.Finished or RunState.Failed)) _ = run.Models.Value;
        return true;
    }

    /// <summary>Creates a run from a configuration and serves it; refused while another run is still going.</summary>
    public ActiveRun Create(RunConfig config, bool start)
    {
        lock (_gate)
        {
            if (_current?.Engine.State is RunState.Created or RunState.Running or RunState.Transferring)
                throw new RejectionException(RejectionKind.WrongState, $"run {_current.Engine.RunId} is still {_current.Engine.State.ToString().ToLowerInvariant()}");
            string runId = $"{config.Name}-{time.GetUtcNow():yyyyMMdd-HHmmss}";
            // Models first: they check the settings against the models, and a run they cannot serve is never stored.
            var models = new RunModels(config, new RunTask(config), inference);
            try
            {
                store.CreateRun(runId, config, time.GetUtcNow());
            }
            catch
            {
                models.Dispose();
                throw;
            }
            var run = Serve(runId, config, new Lazy<RunModels>(models));
            if (start) Start();
            return run;
        }
    }

    public void Start()
    {
        var run = Require();
        run.Engine.Start(run.Strategies.ToDictionary(p => p.Key, p => p.Value.InitialPrompt()));
    }

    ActiveRun Serve(string runId, RunConfig config, Lazy<RunModels> models)
    {
        var strategies = FederationStrategies.ForRun(config, models);
        var engine = new RoundEngine(store, runId, strategies, () => models.Value.Facts, time, logs.CreateLogger<RoundEngine>());
        var run = new ActiveRun(engine, strategies, models);
        lock (_gate)
        {
            DisposeModels(_current);
            _current = run;
        }
        return run;
    }

    static void DisposeModels(ActiveRun? run)
    {
        if (run?.Models is { IsValueCreated: true } models) models.Value.Dispose();
    }

    public void Dispose() => DisposeModels(_current);
}
