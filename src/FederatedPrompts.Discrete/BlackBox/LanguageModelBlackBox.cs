using FederatedPrompts.Modeling.Classification;

namespace FederatedPrompts.Discrete.BlackBox;

/// <summary>
/// The "lm" black box: a causal language model read through its <see cref="PromptedClassifier"/>: the prompt's tokens
/// before the templated text, the label whose words score highest after it. Unmetered: the inference service and
/// <see cref="LocalBlackBoxClassifier"/> count and budget the queries.
/// </summary>
public sealed class LanguageModelBlackBox(PromptedClassifier classifier) : IBatchingBlackBox
{
    public IReadOnlyList<string> Classify(IReadOnlyList<int> promptTokenIds, IReadOnlyList<string> texts) =>
        classifier.Predict(texts, new PromptInput(Discrete: promptTokenIds)).Select(i => classifier.Labels[i]).ToArray();

    /// <summary>Each query's prompt before its own text, in one padded batch (as many rows as the single-prompt call).</summary>
    public IReadOnlyList<string> Classify(IReadOnlyList<BlackBoxQuery> queries) =>
        classifier.Predict(queries.Select(q => q.Text).ToList(), new PromptInput(DiscretePerRow: queries.Select(q => q.PromptTokenIds).ToList()))
            .Select(i => classifier.Labels[i]).ToArray();
}
