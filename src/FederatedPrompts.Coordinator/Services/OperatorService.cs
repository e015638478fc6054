using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>The operator's service: create and start runs, watch them, fetch the report and the final prompt. Operator identity only.</summary>
public sealed class OperatorService(RunHost runs, CallerIdentity caller) : Operator.OperatorBase
{
    public override Task<RunStatus> CreateRun(CreateRunRequest request, ServerCallContext context)
    {
        RequireOperator(context);
        RunConfig config;
        try
        {
            config = RunConfig.Parse(request.ConfigJson, Directory.GetCurrentDirectory());
        }
        catch (InvalidDataException e)
        {
            throw new RejectionException(RejectionKind.Invalid, e.Message);
        }
        return Task.FromResult(StatusOf(runs.Create(config, start: false).Engine));
    }

    public override Task<RunStatus> StartRun(RunRef request, ServerCallContext context)
    {
        var engine = Run(request, context);
        runs.Start();
        return Task.FromResult(StatusOf(engine));
    }

    public override Task<RunStatus> GetStatus(RunRef request, ServerCallContext context) => Task.FromResult(StatusOf(Run(request, context)));

    public override Task<RunResults> GetResults(RunRef request, ServerCallContext context)
    {
        var engine = Run(request, context);
        return Task.FromResult(new RunResults { RunId = engine.RunId, ReportJson = RunReport.Json(engine.Snapshot(), runs.Store) });
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
        return Task.FromResult(new PromptDownload { Prompt = PromptMessages.ToMessage(result.Prompt) });
    }

    RoundEngine Run(RunRef request, ServerCallContext context)
    {
        RequireOperator(context);
        var engine = runs.Require().Engine;
        if (request.RunId.Length > 0 && request.RunId != engine.RunId)
            throw new RejectionException(RejectionKind.UnknownRun, $"no run \"{request.RunId}\" is served (the current run is {engine.RunId})");
        return engine;
    }

    void RequireOperator(ServerCallContext context) => caller.RequireOperator(context);

    static RunStatus StatusOf(RoundEngine engine)
    {
        var snapshot = engine.Snapshot();
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
                    Uploads = snapshot.Updates.Count(u => u.Round == round.Round && u.Mode == mode), Accuracy = part.Accuracy ?? double.NaN,
                    PromptLength = part.PromptOut?.Length ?? 0, Mode = WireMapping.ToWire(mode),
                });
        return status;
    }
}
