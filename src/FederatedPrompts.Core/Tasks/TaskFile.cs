using System.Text;
using System.Text.Json;

namespace FederatedPrompts.Core.Tasks;

/// <summary>
/// Reads a labeled task file, chosen by extension:
/// <list type="bullet">
/// <item><c>.jsonl</c>: one object per line with string <c>text</c> and string or numeric <c>label</c> (numbers keep their JSON spelling, e.g. <c>1</c> → "1"); blank lines are skipped.</item>
/// <item><c>.csv</c>: RFC 4180 (quoted fields may hold commas, doubled quotes and line breaks) with a header row.</item>
/// <item><c>.tsv</c>: tab-separated with a header row, no quoting.</item>
/// </list>
/// CSV and TSV headers must name <c>text</c> and <c>label</c> columns (any order, case-insensitive); other columns are ignored.
/// Labels are trimmed; texts are kept verbatim. Every problem is a <see cref="DataFileException"/> naming file and line.
/// </summary>
public static class TaskFile
{
    public static TaskDataset Load(string path)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        var examples = extension switch
        {
            ".jsonl" => ReadJsonLines(path),
            ".csv" => FromTable(path, ReadCsv(path, File.ReadAllText(path))),
            ".tsv" => FromTable(path, ReadTsv(File.ReadAllText(path))),
            _ => throw new DataFileException(path, null,
                $"unknown extension '{extension}'; expected .jsonl, .csv or .tsv"),
        };
        if (examples.Count == 0) throw new DataFileException(path, null, "no examples in the file");
        return new TaskDataset(examples, path);
    }

    static List<LabeledExample> ReadJsonLines(string path)
    {
        var examples = new List<LabeledExample>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement record;
            try
            {
                using var document = JsonDocument.Parse(line);
                record = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new DataFileException(path, lineNumber, $"malformed JSON: {e.Message}", e);
            }
            if (record.ValueKind != JsonValueKind.Object)
                throw new DataFileException(path, lineNumber, $"expected a JSON object, got {record.ValueKind}");
            examples.Add(Example(path, lineNumber,
                JsonField(path, lineNumber, record, "text", allowNumber: false),
                JsonField(path, lineNumber, record, "label", allowNumber: true)));
        }
        return examples;
    }

    /// <summary>The field as a string, or null when absent or JSON null.</summary>
    static string? JsonField(string path, int line, JsonElement record, string name, bool allowNumber)
    {
        if (!record.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number when allowNumber => value.GetRawText(),
            _ => throw new DataFileException(path, line,
                $"\"{name}\" must be a string{(allowNumber ? " or number" : "")}, got {value.ValueKind}"),
        };
    }

    static LabeledExample Example(string path, int line, string? text, string? label)
    {
        if (text is null) throw new DataFileException(path, line, "missing \"text\"");
        if (string.IsNullOrWhiteSpace(text)) throw new DataFileException(path, line, "empty \"text\"");
        if (label is null) throw new DataFileException(path, line, "missing \"label\"");
        if (string.IsNullOrWhiteSpace(label)) throw new DataFileException(path, line, "empty \"label\"");
        return new LabeledExample(text, label.Trim());
    }

    /// <summary>Header row first, then one example per row; rows must have as many fields as the header.</summary>
    static List<LabeledExample> FromTable(string path, List<(int Line, string[] Fields)> rows)
    {
        var examples = new List<LabeledExample>();
        if (rows.Count == 0) return examples;
        var (headerLine, header) = rows[0];
        var textColumn = Column(path, headerLine, header, "text");
        var labelColumn = Column(path, headerLine, header, "label");
        foreach (var (line, fields) in rows.Skip(1))
        {
            if (fields.Length != header.Length)
                throw new DataFileException(path, line, $"row has {fields.Length} fields but the header has {header.Length}");
            examples.Add(Example(path, line, fields[textColumn], fields[labelColumn]));
        }
        return examples;
    }

    static int Column(string path, int line, string[] header, string name)
    {
        var matches = Enumerable.Range(0, header.Length)
            .Where(i => string.Equals(header[i].Trim(), name, StringComparison.OrdinalIgnoreCase)).ToArray();
        return matches.Length switch
        {
            1 => matches[0],
            0 => throw new DataFileException(path, line,
                $"header has no \"{name}\" column (columns: {string.Join(", ", header.Select(h => $"\"{h}\""))})"),
            _ => throw new DataFileException(path, line, $"header has {matches.Length} \"{name}\" columns"),
        };
    }

    static List<(int Line, string[] Fields)> ReadTsv(string content)
    {
        var rows = new List<(int, string[])>();
        var lines = content.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length > 0) rows.Add((i + 1, line.Split('\t')));
        }
        return rows;
    }

    /// <summary>RFC 4180 records with the line each starts on; blank lines are skipped.</summary>
    static List<(int Line, string[] Fields)> ReadCsv(string path, string content)
    {
        var rows = new List<(int, string[])>();
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, recordLine = 1, quoteLine = 0;
        bool inQuotes = false, fieldWasQuoted = false;

        void EndField()
        {
            fields.Add(field.ToString());
            field.Clear();
            fieldWasQuoted = false;
        }
        void EndRecord()
        {
            var blank = fields.Count == 0 && field.Length == 0 && !fieldWasQuoted;
            if (!blank)
            {
                EndField();
                rows.Add((recordLine, fields.ToArray()));
            }
            fields.Clear();
        }

        for (var i = 0; i < content.Length; i++)
        {
            var c = content[i];
            if (inQuotes)
            {
                if (c == '"' && i + 1 < content.Length && content[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"')
                {
                    inQuotes = false;
                    if (i + 1 < content.Length && content[i + 1] is not (',' or '\r' or '\n'))
                        throw new DataFileException(path, line, "unexpected character after a closing quote");
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append(c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length > 0 || fieldWasQuoted:
                    throw new DataFileException(path, line,
                        "quote inside an unquoted field (quote the whole field and double the inner quotes)");
                case '"':
                    inQuotes = fieldWasQuoted = true;
                    quoteLine = line;
                    break;
                case ',':
                    EndField();
                    break;
                case '\r' or '\n':
                    if (c == '\r' && i + 1 < content.Length && content[i + 1] == '\n') i++;
                    EndRecord();
                    recordLine = ++line;
                    break;
                default:
                    field.Append(c);
                    break;
            }
        }
        if (inQuotes) throw new DataFileException(path, quoteLine, "quoted field is never closed");
        EndRecord();
        return rows;
    }

    /// <summary>Writes a dataset as JSON Lines with "text" and "label", the layout <see cref="Load"/> reads first.</summary>
    public static void SaveJsonl(TaskDataset dataset, string path) =>
        File.WriteAllLines(path, dataset.Examples.Select(e => System.Text.Json.JsonSerializer.Serialize(new { text = e.Text, label = e.Label })));
}
