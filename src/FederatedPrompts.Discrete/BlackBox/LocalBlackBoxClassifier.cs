using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Discrete.BlackBox;

/// <summary>
/// A black box served on this machine (a language model or the sentence encoder, <see cref="BlackBoxes"/>), with the
/// metering a paid API has. One query is one input text classified. Tokens sent per input are the prompt's tokens plus
/// the input text's own tokens, both in the prompts' tokenizer whichever model answers (the template is the service's,
/// not the client's), so the two black boxes are metered alike. With a budget, a call that would go over it throws
/// <see cref="QueryBudgetExceededException"/> before any inference and counts nothing, so a call either runs in full or
/// not at all.
/// </summary>
public sealed class LocalBlackBoxClassifier : IBlackBoxClassifier
{
    readonly IBlackBoxClassifier _model;
    readonly ITextTokenizer _tokenizer;

    /// <param name="model">What answers, unmetered.</param>
    /// <param name="tokenizer">The prompts' tokenizer, used only to count the tokens sent.</param>
    /// <param name="queryBudget">Most inputs this service will classify in total; null for no limit.</param>
    public LocalBlackBoxClassifier(IBlackBoxClassifier model, ITextTokenizer tokenizer, long? queryBudget = null)
    {
        if (queryBudget < 0) throw new ArgumentOutOfRangeException(nameof(queryBudget), queryBudget, "must not be negative");
        _model = model;
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
        var answers = _model.Classify(promptTokenIds, texts);
        Queries += texts.Count;
        TokensSent += texts.Sum(text => (long)promptTokenIds.Count + _tokenizer.Encode(text).Count);
        return answers;
    }
}
