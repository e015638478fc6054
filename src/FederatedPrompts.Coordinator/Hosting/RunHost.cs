using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace FederatedPrompts.Coordinator.Hosting;

/// <summary>A run the coordinator serves: its engine, its loaded models and what clients are told at enrolment.</summary>
public sealed record ActiveRun(RoundEngine Engine, CoordinatorModels Models, TaskSpec Task);

/// <summary>
/// Holds the coordinator's current run (at most one is served at a time) and creates new ones. At start-up the
/// newest run in the store is resumed, or the configured one created; the operator may create the next once the
/// current one is over.
/// </summary>
public sealed class RunHost(CoordinatorStore store, TimeProvider time, ILoggerFactory logs) : IDisposable
{
    readonly Lock _gate = new();
    ActiveRun? _current;

    public CoordinatorStore Store => store;
    public ActiveRun? Current { get { lock (_gate) return _current; } }

    public ActiveRun Require() => Current ?? throw new RejectionException(RejectionKind.UnknownRun, "the coordinator has no run; the operator creates one");

    /// <summary>Serves the newest stored run (resuming it where it stopped); false when the store has none.</summary>
    public bool ResumeLatest()
    {
        if (store.LatestRun() is not { } latest) return false;
        Serve(latest.RunId, new CoordinatorModels(latest.Config));
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
            var models = new CoordinatorModels(config);
            try
            {
                store.CreateRun(runId, config, time.GetUtcNow());
            }
            catch
            {
                models.Dispose();
                throw;
            }
            var run = Serve(runId, models);
            if (start) Start();
            return run;
        }
    }

    public void Start()
    {
        var run = Require();
        run.Engine.Start(run.Models.InitialPrompt());
    }

    ActiveRun Serve(string runId, CoordinatorModels models)
    {
        var engine = new RoundEngine(store, runId, models.Facts, time, logs.CreateLogger<RoundEngine>());
        var run = new ActiveRun(engine, models, models.TaskSpec());
        lock (_gate)
        {
            _current?.Models.Dispose();
            _current = run;
        }
        return run;
    }

    public void Dispose() => _current?.Models.Dispose();
}
