using System.Text;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Coordinator.Services;

/// <summary>
/// The large model as a black box for discrete-mode clients: labels only. A request is checked whole (texts, their
/// sizes, the prompt) before its queries are charged to the caller's budget for the round; they are given back if
/// inference fails inside the coordinator.
/// </summary>
public sealed class InferenceService(RunHost runs, CallerIdentity caller) : Inference.InferenceBase
{
    /// <summary>Most texts per request, so one call cannot hold the model for long.</summary>
    public const int MaxTextsPerRequest = 256;

    /// <summary>
    /// Most UTF-8 bytes per text: far more than a review or a report a prompt classifies. The classifier reads only a
    /// text's tail as long as the model's window (tokenizing a whole long text took quadratic time under the model
    /// lock), so this bound is the contract's, not the cost's. A request's total is bounded by the coordinator's
    /// largest message (<see cref="Hosting.CoordinatorOptions.MaxMessageBytes"/>, 4 MiB by default: about 63 texts
    /// at this limit), which gRPC enforces with RESOURCE_EXHAUSTED before this service runs.
    /// </summary>
    public const int MaxTextBytes = 64 * 1024;

    public override async Task<ClassifyReply> Classify(ClassifyRequest request, ServerCallContext context)
    {
        if (request.Texts.Count is 0 or > MaxTextsPerRequest)
            throw new RejectionException(RejectionKind.Invalid, $"a request classifies 1 to {MaxTextsPerRequest} texts, not {request.Texts.Count}");
        for (int i = 0; i < request.Texts.Count; i++)
            if (Encoding.UTF8.GetByteCount(request.Texts[i]) is var bytes and > MaxTextBytes)
                throw new RejectionException(RejectionKind.Invalid, $"text {i} has {bytes} bytes (UTF-8), more than the {MaxTextBytes} a text may have");
        if (request.PromptTokenIds.Count == 0) throw new RejectionException(RejectionKind.Invalid, "the prompt has no tokens");
        var run = runs.Require();
        string identity = caller.Of(context);
        run.Models.CheckInferencePrompt(request.PromptTokenIds);   // a malformed prompt is refused before anything is counted
        var (round, used) = run.Engine.ChargeQueries(identity, request.RunId, request.Texts.Count);
        try
        {
            var labels = await Task.Run(() => run.Models.Classify(request.PromptTokenIds, request.Texts), context.CancellationToken);
            return new ClassifyReply { Labels = { labels }, QueriesUsed = used, QueryBudget = run.Engine.Config.Discrete.QueryBudget };
        }
        catch
        {
            run.Engine.RefundQueries(identity, round, request.Texts.Count);
            throw;
        }
    }
}
