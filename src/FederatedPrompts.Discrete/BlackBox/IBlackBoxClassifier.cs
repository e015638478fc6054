namespace FederatedPrompts.Discrete.BlackBox;

/// <summary>
/// A classification service as FedDTPT's clients see a hosted LLM: a discrete prompt (token ids in the service's
/// vocabulary) and input texts go in, one predicted label name per text comes out, in input order. Nothing else
/// comes back (no logits, probabilities or gradients), so a client can only search, never differentiate.
/// </summary>
public interface IBlackBoxClassifier
{
    IReadOnlyList<string> Classify(IReadOnlyList<int> promptTokenIds, IReadOnlyList<string> texts);
}
