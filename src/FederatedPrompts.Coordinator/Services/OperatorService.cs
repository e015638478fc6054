using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Operations;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>The operator's service: create and start runs, watch them, fetch the report and the final prompt. Operator identity only.</summary>
/// <remarks>Every action that changes the run or takes something out of the coordinator (create, start, results, prompt) goes to the audit trail.</remarks>
public sealed class OperatorService(RunHost runs, CallerIdentity caller, AuditLog audit) : Operator.OperatorBase
{
    public override Task<RunStatus> CreateRun(CreateRunRequest request, ServerCallContext context)
    {
        caller.RequireOperator(context);
        RunConfig config;
        try
        {
            config = RunConfig.Parse(request.ConfigJson, Directory.GetCurrentDirectory());
        }
        catch (InvalidDataException e)
        {
            throw new RejectionException(RejectionKind.Invalid, e.Message);
        }
        var engine = runs.Create(config, start: false).Engine;
        Audit(context, "create_run", engine);
        return Task.FromResult(StatusOf(engine));
    }

    public override Task<RunStatus> StartRun(RunRef request, ServerCallContext context)
    {
        var engine = Run(request, context);
        runs.Start();
        Audit(context, "start_run", engine);
        return Task.FromResult(StatusOf(engine));
    }

    public override Task<RunStatus> GetStatus(RunRef request, ServerCallContext context) => Task.FromResult(StatusOf(Run(request, context)));

    public override Task<RunResults> GetResults(RunRef request, ServerCallContext context)
    {
        var engine = Run(request, context);
        var results = new RunResults { RunId = engine.RunId, ReportJson = RunReport.Json(engine.Snapshot(), runs.Store) };
        Audit(context, "get_results", engine);
        return Task.FromResult(results);
    }

    public override Task<PromptDownload> DownloadPrompt(RunRef request, ServerCallContext context)
    {
        var engine = Run(request, context);
        var results = runs.Store.Results(engine.RunId);
        if (engine.State != RunState.Finished || results.Count == 0)
            throw new RejectionException(RejectionKind.WrongState, $"run {engine.RunId} is {engine.State.ToString().ToLowerInvariant()}; its prompt is published when it finishes");
        PromptMode mode;
        if (request.Mode == Mode.Unspecified)
        {
            if (results.Count > 1)
                throw new RejectionException(RejectionKind.Invalid, $"run {engine.RunId} is hybrid: name the mode of the prompt to download (soft or discrete)");
            mode = results[0].Mode;
        }
        else mode = WireMapping.ModeOf(request.Mode);
        var result = results.FirstOrDefault(r => r.Mode == mode)
            ?? throw new RejectionException(RejectionKind.Invalid, $"run {engine.RunId} has no {Prompt.NameOf(mode)} prompt (it is a {engine.Config.Mode}-mode run)");
        Audit(context, $"download_prompt {Prompt.NameOf(mode)}", engine);
        return Task.FromResult(new PromptDownload { Prompt = PromptMessages.ToMessage(result.Prompt) });
    }

    /// <summary>The run a request names (or the current one), for the operator only.</summary>
    RoundEngine Run(RunRef request, ServerCallContext context)
    {
        caller.RequireOperator(context);
        var engine = runs.Require().Engine;
        if (request.RunId.Length > 0 && request.RunId != engine.RunId)
            throw new RejectionException(RejectionKind.UnknownRun, $"no run \"{request.RunId}\" is served (the current run is {engine.RunId})");
        return engine;
    }

    /// <summary>Records an operator's action once it has succeeded (a refused one is recorded as a refusal).</summary>
    void Audit(ServerCallContext context, string action, RoundEngine engine) => audit.OperatorAction(caller.Of(context), action, engine.RunId);

    static RunStatus StatusOf(RoundEngine engine)
    {
        var snapshot = engine.Overview();
        var current = snapshot.Rounds.LastOrDefault();
        var config = snapshot.Run.Config;
        var status = new RunStatus
        {
            RunId = snapshot.Run.RunId, State = snapshot.Run.State.ToString().ToLowerInvariant(), Mode = config.Modes.Count == 1 ? WireMapping.ToWire(config.Modes[0]) : Mode.Unspecified,
            Round = snapshot.Run.CurrentRound, TotalRounds = config.Rounds, RoundState = current?.State.ToString().ToLowerInvariant() ?? "",
            EnrolledClients = snapshot.Clients.Count, SampledClients = current?.Sampled.Count ?? 0, UploadsInRound = current is null ? 0 : snapshot.UploadsIn(current.Round),
            Error = snapshot.Run.Error ?? "", RunMode = config.Mode,
        };
        foreach (var round in snapshot.Rounds)
            foreach (var (mode, part) in round.Modes)
                status.Rounds.Add(new RoundSummary
                {
                    Round = round.Round, State = round.State.ToString().ToLowerInvariant(), Sampled = round.Sampled.Count,
                    Uploads = snapshot.UploadsIn(round.Round, mode), Accuracy = part.Accuracy ?? double.NaN,
                    PromptLength = part.PromptOut?.Length ?? 0, Mode = WireMapping.ToWire(mode),
                });
        return status;
    }
}
