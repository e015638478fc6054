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

/// <summary>One input to classify with the prompt it comes with.</summary>
public sealed record BlackBoxQuery(IReadOnlyList<int> PromptTokenIds, string Text);

/// <summary>
/// A black box that classifies inputs with different prompts in one pass: the coordinator's inference service batches
/// the queries of several clients, each searching its own prompt, into one forward pass (<c>InferenceBatcher</c>).
/// Each answer is the one <see cref="IBlackBoxClassifier.Classify"/> gives the query alone.
/// </summary>
public interface IBatchingBlackBox : IBlackBoxClassifier
{
    IReadOnlyList<string> Classify(IReadOnlyList<BlackBoxQuery> queries);
}
