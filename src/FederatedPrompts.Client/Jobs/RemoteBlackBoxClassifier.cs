using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Client.Jobs;

/// <summary>
/// The coordinator's inference service as FedDTPT's black box: labels only. Sends at most the service's per-request
/// limit of texts per call; a budget refusal (RESOURCE_EXHAUSTED) becomes <see cref="QueryBudgetExceededException"/>, which
/// ends the search gracefully. Counts queries and tokens sent, as the local black box does.
/// </summary>
public sealed class RemoteBlackBoxClassifier(Inference.InferenceClient service, string runId, ITextTokenizer tokenizer, long budget,
    CancellationToken cancel) : IBlackBoxClassifier
{
    const int TextsPerRequest = 256;

    public long Queries { get; private set; }
    public long TokensSent { get; private set; }

    public IReadOnlyList<string> Classify(IReadOnlyList<int> promptTokenIds, IReadOnlyList<string> texts)
    {
        if (Queries + texts.Count > budget) throw new QueryBudgetExceededException(budget, Queries, texts.Count);
        var labels = new List<string>(texts.Count);
        foreach (var chunk in texts.Chunk(TextsPerRequest))
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
}
