namespace FederatedPrompts.Core.Tasks;

/// <summary>
/// One short text per label that a sentence encoder compares an input with (the "minilm" black box): the label whose
/// description is most similar wins. A language model reads label words as the next token; an encoder has no next
/// token, so it needs a whole sentence that reads like the input's answer ("It was great." rather than " great").
/// </summary>
public sealed class LabelDescriptions
{
    readonly Dictionary<string, string> _byLabel;

    public LabelDescriptions(IEnumerable<KeyValuePair<string, string>> byLabel)
    {
        _byLabel = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (label, description) in byLabel)
        {
            if (string.IsNullOrWhiteSpace(label)) throw new ArgumentException("label descriptions have an empty label");
            if (string.IsNullOrWhiteSpace(description)) throw new ArgumentException($"label '{label}' has an empty description");
            if (!_byLabel.TryAdd(label, description)) throw new ArgumentException($"label descriptions list label '{label}' twice");
        }
        if (_byLabel.Count == 0) throw new ArgumentException("label descriptions name no label");
    }

    public IReadOnlyDictionary<string, string> ByLabel => _byLabel;

    /// <summary>The descriptions of <paramref name="labels"/>, in that order; an error names every label without one.</summary>
    public IReadOnlyList<string> For(IReadOnlyList<string> labels)
    {
        var missing = labels.Distinct().Where(label => !_byLabel.ContainsKey(label)).ToArray();
        if (missing.Length > 0)
            throw new InvalidDataException(
                $"label descriptions have none for label(s) {string.Join(", ", missing.Select(l => $"'{l}'"))}" +
                $" (they describe {string.Join(", ", _byLabel.Keys.Select(l => $"'{l}'"))})");
        return labels.Select(label => _byLabel[label]).ToArray();
    }

    /// <summary>
    /// For a task without written descriptions: the template's closing text followed by the label's first word and a full
    /// stop, the sentence the template and the verbalizer make together ("{text} It was" and " great" give "It was
    /// great."); only the word, where the template closes with the input.
    /// </summary>
    public static LabelDescriptions Derived(PromptTemplate template, Verbalizer verbalizer)
    {
        string closing = template.Pattern[(template.Pattern.IndexOf(PromptTemplate.Placeholder, StringComparison.Ordinal) + PromptTemplate.Placeholder.Length)..].Trim();
        return new(verbalizer.Labels.Select(label =>
        {
            string word = verbalizer.WordsFor(label)[0].Trim();
            return KeyValuePair.Create(label, closing.Length == 0 ? word : $"{closing} {word}.");
        }));
    }
}
