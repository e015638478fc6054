using System.Text;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Operations;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>
/// The large model as a black box for discrete-mode clients: labels only. A request is checked whole (texts, their
/// sizes, the prompt) before its queries are charged to the caller's budget for the round; they are given back if
/// inference fails inside the coordinator.
/// </summary>
public sealed class InferenceService(RunHost runs, CallerIdentity caller, CoordinatorMetrics metrics) : Inference.InferenceBase
{
    public override async Task<ClassifyReply> Classify(ClassifyRequest request, ServerCallContext context)
    {
        if (request.Texts.Count is 0 or > InferenceLimits.MaxTextsPerRequest)
            throw new RejectionException(RejectionKind.Invalid, $"a request classifies 1 to {InferenceLimits.MaxTextsPerRequest} texts, not {request.Texts.Count}");
        for (int i = 0; i < request.Texts.Count; i++)
            if (Encoding.UTF8.GetByteCount(request.Texts[i]) is var bytes and > InferenceLimits.MaxTextBytes)
                throw new RejectionException(RejectionKind.Invalid, $"text {i} has {bytes} bytes (UTF-8), more than the {InferenceLimits.MaxTextBytes} a text may have");
        if (request.PromptTokenIds.Count == 0) throw new RejectionException(RejectionKind.Invalid, "the prompt has no tokens");
        var run = runs.Require();
        string identity = caller.Of(context);
        var models = run.Models.Value;
        models.CheckInferencePrompt(request.PromptTokenIds);   // a malformed prompt is refused before anything is counted
        var (round, used) = run.Engine.ChargeQueries(identity, request.RunId, request.Texts.Count);
        try
        {
            var answer = await models.ClassifyAsync(identity, request.PromptTokenIds, request.Texts).WaitAsync(context.CancellationToken);
            metrics.Classified(request.Texts.Count, answer.QueueWait);
            return new ClassifyReply { Labels = { answer.Labels }, QueriesUsed = used, QueryBudget = run.Engine.Config.Discrete.QueryBudget };
        }
        catch
        {
            run.Engine.RefundQueries(identity, round, request.Texts.Count);
            throw;
        }
    }
}
