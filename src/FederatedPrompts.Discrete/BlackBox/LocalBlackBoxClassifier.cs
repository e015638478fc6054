using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Discrete.BlackBox;

/// <summary>
/// A black-box classifier served by a local <see cref="PromptedClassifier"/>, with the metering a paid API has.
/// One query is one input text classified. Tokens sent per input are the prompt's tokens plus the input text's own
/// tokens (the template is the service's, not the client's). With a budget, a call that would go over it throws
/// <see cref="QueryBudgetExceededException"/> before any inference and counts nothing, so a call either runs in
/// full or not at all.
/// </summary>
public sealed class LocalBlackBoxClassifier : IBlackBoxClassifier
{
    readonly PromptedClassifier _classifier;
    readonly ITextTokenizer _tokenizer;

    /// <param name="tokenizer">The classifier's tokenizer, used only to count the tokens sent.</param>
    /// <param name="queryBudget">Most inputs this service will classify in total; null for no limit.</param>
    public LocalBlackBoxClassifier(PromptedClassifier classifier, ITextTokenizer tokenizer, long? queryBudget = null)
    {
        if (queryBudget < 0) throw new ArgumentOutOfRangeException(nameof(queryBudget), queryBudget, "must not be negative");
        _classifier = classifier;
        _tokenizer = tokenizer;
        QueryBudget = queryBudget;
    }

    public long? QueryBudget { get; }
    /// <summary>Inputs classified so far.</summary>
    public long Queries { get; private set; }
    public long TokensSent { get; private set; }

    public IReadOnlyList<string> Classify(IReadOnlyList<int> promptTokenIds, IReadOnlyList<string> texts)
    {
        if (QueryBudget is long budget && Queries + texts.Count > budget)
            throw new QueryBudgetExceededException(budget, Queries, texts.Count);
        var predictions = _classifier.Predict(texts, new PromptInput(Discrete: promptTokenIds));
        Queries += texts.Count;
        TokensSent += texts.Sum(text => (long)promptTokenIds.Count + _tokenizer.Encode(text).Count);
        return predictions.Select(label => _classifier.Labels[label]).ToArray();
    }
}
