using System.Text.Json;

namespace FederatedPrompts.Core.Tasks;

/// <summary>
/// Maps each label to the words a language model should predict for it after the prompt, e.g.
/// positive → " great". Words are kept verbatim, so a leading space (as GPT-2 style tokenizers expect after a
/// word) is part of the word. A label may have several words; no word may belong to two labels.
/// </summary>
public sealed class Verbalizer
{
    readonly Dictionary<string, string[]> _wordsByLabel;

    public Verbalizer(IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> wordsByLabel)
    {
        _wordsByLabel = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var labelOfWord = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (label, words) in wordsByLabel)
        {
            if (string.IsNullOrWhiteSpace(label)) throw new ArgumentException("verbalizer has an empty label");
            if (words.Count == 0) throw new ArgumentException($"verbalizer label '{label}' has no words");
            if (!_wordsByLabel.TryAdd(label, words.ToArray()))
                throw new ArgumentException($"verbalizer lists label '{label}' twice");
            foreach (var word in words)
            {
                if (string.IsNullOrWhiteSpace(word))
                    throw new ArgumentException($"verbalizer label '{label}' has an empty word");
                if (!labelOfWord.TryAdd(word, label))
                    throw new ArgumentException(
                        $"verbalizer word '{word}' belongs to both '{labelOfWord[word]}' and '{label}'");
            }
        }
        if (_wordsByLabel.Count == 0) throw new ArgumentException("verbalizer has no labels");
        Labels = _wordsByLabel.Keys.ToArray();
    }

    /// <summary>Labels in the order they were given.</summary>
    public IReadOnlyList<string> Labels { get; }

    public IReadOnlyList<string> WordsFor(string label) =>
        _wordsByLabel.TryGetValue(label, out var words)
            ? words
            : throw new KeyNotFoundException($"verbalizer has no words for label '{label}'");

    /// <summary>Every label's word is " " + the label itself: the fallback for tasks without a preset.</summary>
    public static Verbalizer Default(IEnumerable<string> labels) =>
        new(labels.Select(label => KeyValuePair.Create(label, (IReadOnlyList<string>)[" " + label])));

    /// <summary>
    /// A JSON object (<c>{"positive":[" great"," good"],"negative":" terrible"}</c>, words verbatim) or the inline
    /// form <c>positive=great,good;negative=terrible</c>, where each word is trimmed and given one leading space.
    /// </summary>
    public static Verbalizer Parse(string spec)
    {
        try
        {
            return spec.TrimStart().StartsWith('{') ? FromJson(spec) : FromInline(spec);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new FormatException($"invalid verbalizer '{spec}': {e.Message}", e);
        }
    }

    public static Verbalizer Load(string path)
    {
        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new DataFileException(path, (int?)e.LineNumber + 1, $"malformed verbalizer JSON: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new DataFileException(path, null, e.Message, e);
        }
    }

    /// <summary>Throws, listing every label of <paramref name="labels"/> that has no words.</summary>
    public void RequireCovers(IEnumerable<string> labels)
    {
        var missing = labels.Distinct().Where(label => !_wordsByLabel.ContainsKey(label)).ToArray();
        if (missing.Length > 0)
            throw new InvalidDataException(
                $"verbalizer has no words for label(s) {string.Join(", ", missing.Select(l => $"'{l}'"))}" +
                $" (it covers {string.Join(", ", Labels.Select(l => $"'{l}'"))})");
    }

    static Verbalizer FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new ArgumentException("verbalizer JSON must be an object of label → word or [words]");
        return new(document.RootElement.EnumerateObject().Select(property =>
            KeyValuePair.Create(property.Name, JsonWords(property))));
    }

    static IReadOnlyList<string> JsonWords(JsonProperty property) => property.Value.ValueKind switch
    {
        JsonValueKind.String => [property.Value.GetString()!],
        JsonValueKind.Array => property.Value.EnumerateArray().Select(word => word.ValueKind == JsonValueKind.String
            ? word.GetString()!
            : throw new ArgumentException($"verbalizer label '{property.Name}' has a non-string word {word}")).ToArray(),
        _ => throw new ArgumentException($"verbalizer label '{property.Name}' must map to a word or an array of words"),
    };

    static Verbalizer FromInline(string spec) =>
        new(spec.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(entry =>
        {
            var parts = entry.Split('=');
            if (parts.Length != 2) throw new ArgumentException($"'{entry}' is not label=word[,word...]");
            IReadOnlyList<string> words = parts[1].Split(',', StringSplitOptions.TrimEntries)
                .Select(word => word.Length == 0 ? "" : " " + word).ToArray();
            return KeyValuePair.Create(parts[0].Trim(), words);
        }));
}
