using System.Text.Json;

namespace FederatedPrompts.Core.Corpora;

/// <summary>Unlabeled documents for pretraining, distillation and prompt transfer: JSONL with a "text" field, or plain .txt.</summary>
public static class TextCorpus
{
    /// <summary>
    /// JSONL: one document per line, its "text" field. .txt: documents separated by blank lines.
    /// Errors name the file and line.
    /// </summary>
    public static IReadOnlyList<string> Load(string path) => Open(path).Read().ToList();

    /// <summary>
    /// The corpus as a source that reads the file again on every pass instead of holding it: a 67 MB JSONL corpus is
    /// about 130 MB of strings, which pretraining needs only once per pass. Same format and errors as <see cref="Load"/>;
    /// the file and its format are checked now, its lines as they are read.
    /// </summary>
    public static DocumentSource Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: corpus file not found");
        string extension = Path.GetExtension(path).ToLowerInvariant();
        Func<IEnumerable<string>> read = extension switch
        {
            ".jsonl" => () => ReadJsonl(path),
            ".txt" => () => ReadParagraphs(path),
            _ => throw new InvalidDataException($"{path}: unknown corpus format \"{extension}\" (use .jsonl with a \"text\" field, or .txt)"),
        };
        return new DocumentSource(path, () => NotEmpty(path, read()));
    }

    static IEnumerable<string> ReadJsonl(string path)
    {
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string? document;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("text", out var text)
                    || text.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{path}:{lineNumber}: expected an object with a string \"text\" field");
                document = text.GetString();
            }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNumber}: invalid JSON ({e.Message})"); }
            if (document is { Length: > 0 }) yield return document;
        }
    }

    static IEnumerable<string> ReadParagraphs(string path) =>
        File.ReadAllText(path).Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(p => p.Trim()).Where(p => p.Length > 0);

    static IEnumerable<string> NotEmpty(string path, IEnumerable<string> documents)
    {
        bool any = false;
        foreach (var document in documents) { any = true; yield return document; }
        if (!any) throw new InvalidDataException($"{path}: the corpus holds no text");
    }
}
