using System.Text;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Client.Transport;

/// <summary>
/// The coordinator's inference service as FedDTPT's black box: labels only. Keeps to the service's contract, the
/// <paramref name="limits"/> the coordinator gave at enrolment: a text longer than a text may be is sent as its tail,
/// the part the classifier reads, and requests hold at most the texts and bytes the service takes, so a
/// RESOURCE_EXHAUSTED can only be the budget. It becomes <see cref="QueryBudgetExceededException"/>, which ends the
/// search gracefully. Counts queries and tokens sent, as the local black box does.
/// </summary>
public sealed class RemoteBlackBoxClassifier(Inference.InferenceClient service, string runId, ITextTokenizer tokenizer, long budget,
    InferenceRequestLimits limits, CancellationToken cancel) : IBlackBoxClassifier
{
    public long Queries { get; private set; }
    public long TokensSent { get; private set; }

    public IReadOnlyList<string> Classify(IReadOnlyList<int> promptTokenIds, IReadOnlyList<string> texts)
    {
        if (Queries + texts.Count > budget) throw new QueryBudgetExceededException(budget, Queries, texts.Count);
        var labels = new List<string>(texts.Count);
        foreach (var chunk in Requests(texts.Select(text => InferenceLimits.Tail(text, limits.TextBytes))))
        {
            var request = new ClassifyRequest { RunId = runId, PromptTokenIds = { promptTokenIds }, Texts = { chunk } };
            try
            {
                labels.AddRange(service.Classify(request, cancellationToken: cancel).Labels);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                throw new QueryBudgetExceededException(budget, Queries, texts.Count);
            }
            Queries += chunk.Length;
            TokensSent += chunk.Sum(text => (long)promptTokenIds.Count + tokenizer.Encode(text).Count);
        }
        return labels;
    }

    /// <summary>The texts in order, cut into requests of at most the service's texts and this client's bytes per request.</summary>
    IEnumerable<string[]> Requests(IEnumerable<string> texts)
    {
        var request = new List<string>();
        long bytes = 0;
        foreach (var text in texts)
        {
            int size = Encoding.UTF8.GetByteCount(text);
            if (request.Count == limits.TextsPerRequest || (request.Count > 0 && bytes + size > limits.RequestTextBytes))
            {
                yield return [.. request];
                (request, bytes) = ([], 0);
            }
            request.Add(text);
            bytes += size;
        }
        if (request.Count > 0) yield return [.. request];
    }
}
