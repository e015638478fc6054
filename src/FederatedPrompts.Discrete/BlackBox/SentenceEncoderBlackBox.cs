using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Semantics;

namespace FederatedPrompts.Discrete.BlackBox;

/// <summary>
/// The "minilm" black box: a real pretrained model, all-MiniLM-L6-v2 (<see cref="MiniLmEncoder.Shared"/>), as a
/// classifier. The prompt's token ids are decoded with the run's tokenizer, the one the language-model black box reads,
/// so clients propose, upload and the server aggregates exactly the same prompts whichever black box answers. Each input
/// becomes <c>prompt text + " " + input text</c>; its embedding is compared (cosine; the encoder's vectors have unit
/// length) with one embedding per label description, computed once, and the most similar label is the answer (the
/// first of equals). Unmetered: the inference service and <see cref="LocalBlackBoxClassifier"/> count and budget the
/// queries.
/// <para>
/// Why the prompt goes first: the encoder reads only a text's first 256 word pieces (the package cuts the rest; a tail
/// added after them leaves the embedding unchanged), so after a long input (IMDb reviews, e-mails) a trailing prompt
/// would not be read at all. On 200 seeded sst2 test sentences, short enough for either order, the two orders were
/// within 4 points of each other for every prompt tried (docs/ARCHITECTURE.md, "FedDTPT client"), and the language
/// model black box also reads its prompt before the text.
/// </para>
/// </summary>
public sealed class SentenceEncoderBlackBox : IBatchingBlackBox
{
    readonly ITextTokenizer _tokenizer;
    readonly IReadOnlyList<string> _labels;
    readonly float[][] _descriptions;

    /// <param name="tokenizer">The tokenizer of the prompts' token ids.</param>
    /// <param name="descriptions">One per label, in the order of <paramref name="labels"/>.</param>
    public SentenceEncoderBlackBox(ITextTokenizer tokenizer, IReadOnlyList<string> labels, IReadOnlyList<string> descriptions)
    {
        if (labels.Count < 2) throw new ArgumentException($"classification needs at least two labels, got {labels.Count}");
        if (descriptions.Count != labels.Count) throw new ArgumentException($"{labels.Count} labels but {descriptions.Count} descriptions");
        _tokenizer = tokenizer;
        _labels = labels;
        _descriptions = MiniLmEncoder.Shared.Encode(descriptions);
    }

    /// <summary>The text the encoder reads for one input: the decoded prompt, then the input (the encoder's tokenizer splits on white space, so the join adds no token and an empty prompt leaves the input alone).</summary>
    string Compose(IReadOnlyList<int> promptTokenIds, string text) => _tokenizer.Decode(promptTokenIds) + " " + text;

    public IReadOnlyList<string> Classify(IReadOnlyList<int> promptTokenIds, IReadOnlyList<string> texts) =>
        Closest(texts.Select(text => Compose(promptTokenIds, text)).ToArray());

    public IReadOnlyList<string> Classify(IReadOnlyList<BlackBoxQuery> queries) =>
        Closest(queries.Select(q => Compose(q.PromptTokenIds, q.Text)).ToArray());

    /// <summary>The label whose description is most similar to each composed input.</summary>
    IReadOnlyList<string> Closest(IReadOnlyList<string> composed)
    {
        var inputs = MiniLmEncoder.Shared.Encode(composed);
        return inputs.Select(input =>
        {
            int best = 0;
            double bestSimilarity = double.NegativeInfinity;
            for (int label = 0; label < _descriptions.Length; label++)
            {
                double similarity = 0;
                for (int k = 0; k < input.Length; k++) similarity += input[k] * _descriptions[label][k];
                if (similarity > bestSimilarity) (best, bestSimilarity) = (label, similarity);
            }
            return _labels[best];
        }).ToArray();
    }
}
