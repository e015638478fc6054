using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
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
        var (prompt, _) = runs.Store.FinalResult(engine.RunId);
        if (engine.State != RunState.Finished || prompt is null)
            throw new RejectionException(RejectionKind.WrongState, $"run {engine.RunId} is {engine.State.ToString().ToLowerInvariant()}; its prompt is published when it finishes");
        return Task.FromResult(new PromptDownload { Prompt = prompt });
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
        var status = new RunStatus
        {
            RunId = snapshot.Run.RunId, State = snapshot.Run.State.ToString().ToLowerInvariant(), Mode = snapshot.Run.Config.IsSoft ? Mode.Soft : Mode.Discrete,
            Round = snapshot.Run.CurrentRound, TotalRounds = snapshot.Run.Config.Rounds, RoundState = current?.State.ToString().ToLowerInvariant() ?? "",
            EnrolledClients = snapshot.Clients.Count, SampledClients = current?.Sampled.Count ?? 0, UploadsInRound = current is null ? 0 : snapshot.UploadsIn(current.Round),
            Error = snapshot.Run.Error ?? "",
        };
        foreach (var round in snapshot.Rounds)
            status.Rounds.Add(new RoundSummary
            {
                Round = round.Round, State = round.State.ToString().ToLowerInvariant(), Sampled = round.Sampled.Count,
                Uploads = snapshot.UploadsIn(round.Round), Accuracy = round.Accuracy ?? double.NaN,
                PromptLength = round.PromptOut is { } p ? RunReport.PromptLength(p) : 0,
            });
        return status;
    }
}
