using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Semantics;

namespace FederatedPrompts.Discrete.BlackBox;

/// <summary>
/// The black boxes by name, what the inference service, <c>fedprompt search</c> and the benchmarks answer FedDTPT's
/// queries with. Both read the same prompts: token ids of the run's (the language model's) tokenizer.
/// <list type="bullet">
/// <item>"lm" (default): the large language model, its prompted classifier (<see cref="LanguageModelBlackBox"/>).</item>
/// <item>"minilm": the pretrained sentence encoder all-MiniLM-L6-v2, by similarity to the task's label descriptions
/// (<see cref="SentenceEncoderBlackBox"/>).</item>
/// </list>
/// </summary>
public static class BlackBoxes
{
    public const string Lm = "lm", MiniLm = MiniLmEncoder.Name;

    public static IReadOnlyList<string> Names { get; } = [Lm, MiniLm];

    /// <summary>The black box called <paramref name="name"/> (case-insensitive) over the labels of <paramref name="languageModel"/>; ArgumentException listing the known names otherwise.</summary>
    /// <param name="languageModel">The "lm" black box itself; for "minilm", where its labels come from.</param>
    /// <param name="tokenizer">The prompts' tokenizer (the language model's).</param>
    /// <param name="descriptions">What "minilm" compares inputs with.</param>
    public static IBatchingBlackBox Create(string name, PromptedClassifier languageModel, ITextTokenizer tokenizer, LabelDescriptions descriptions) =>
        name.ToLowerInvariant() switch
        {
            Lm => new LanguageModelBlackBox(languageModel),
            MiniLm => new SentenceEncoderBlackBox(tokenizer, languageModel.Labels, descriptions.For(languageModel.Labels)),
            _ => throw Unknown(name),
        };

    /// <summary>The black box in words, for reports.</summary>
    public static string Describe(string name) => name.ToLowerInvariant() switch
    {
        Lm => "the large language model",
        MiniLm => "all-MiniLM-L6-v2, a pretrained sentence encoder, by similarity to label descriptions",
        _ => throw Unknown(name),
    };

    static ArgumentException Unknown(string name) => new($"unknown black box '{name}' (known: {string.Join(", ", Names)})");

    /// <summary>
    /// Accuracy and confusion matrix of a black box with a prompt on labeled texts, from its answers alone (what a client
    /// of the service could measure too). <paramref name="labels"/> orders the matrix; an answer or a true label outside it
    /// is an error naming it.
    /// </summary>
    public static ClassificationResult Evaluate(this IBlackBoxClassifier blackBox, IReadOnlyList<string> labels,
        IReadOnlyList<(string Text, string Label)> examples, IReadOnlyList<int> promptTokenIds)
    {
        var index = labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i);
        int IndexOf(string label) => index.TryGetValue(label, out int i) ? i
            : throw new ArgumentException($"label \"{label}\" is not one of the classifier's ({string.Join(", ", labels)})");
        var truth = examples.Select(e => IndexOf(e.Label)).ToArray();
        var answers = blackBox.Classify(promptTokenIds, examples.Select(e => e.Text).ToArray());
        return ClassificationResult.Of(labels, truth, answers.Select(IndexOf).ToArray());
    }
}
