using System.Text.Json;

namespace FederatedPrompts.Core.Corpora;

/// <summary>Unlabeled documents for pretraining, distillation and prompt transfer: JSONL with a "text" field, or plain .txt.</summary>
public static class TextCorpus
{
    /// <summary>
    /// JSONL: one document per line, its "text" field. .txt: documents separated by blank lines.
    /// Errors name the file and line.
    /// </summary>
    public static IReadOnlyList<string> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: corpus file not found");
        var documents = new List<string>();
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".jsonl")
        {
            int lineNumber = 0;
            foreach (var line in File.ReadLines(path))
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("text", out var text)
                        || text.ValueKind != JsonValueKind.String)
                        throw new InvalidDataException($"{path}:{lineNumber}: expected an object with a string \"text\" field");
                    if (text.GetString() is { Length: > 0 } s) documents.Add(s);
                }
                catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNumber}: invalid JSON ({e.Message})"); }
            }
        }
        else if (extension == ".txt")
        {
            var paragraphs = File.ReadAllText(path).Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            documents.AddRange(paragraphs.Select(p => p.Trim()).Where(p => p.Length > 0));
        }
        else throw new InvalidDataException($"{path}: unknown corpus format \"{extension}\" (use .jsonl with a \"text\" field, or .txt)");
        if (documents.Count == 0) throw new InvalidDataException($"{path}: the corpus holds no text");
        return documents;
    }
}
