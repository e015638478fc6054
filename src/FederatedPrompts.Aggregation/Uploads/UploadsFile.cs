using System.Globalization;
using System.Text.Json;
using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Core;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Aggregation.Uploads;

/// <summary>Whether an uploads file holds discrete (token id) or soft (vector) prompts.</summary>
public enum UploadKind { Discrete, Soft }

/// <summary>A discrete upload as the file gives it: token ids, not yet embedded, and the file line it came from.</summary>
public sealed record UploadedTokenIds(string ClientId, IReadOnlyList<int> TokenIds, int ExampleCount, int Line);

/// <summary>
/// One round's uploads as a JSON Lines file, one upload per line, all of one kind (blank lines are skipped):
/// <code>
/// {"client": "org-a", "token_ids": [464, 3290], "tokenizer": "&lt;tokenizer identity&gt;", "examples": 120}
/// {"client": "org-a", "vectors": [[0.1, -0.2], [0.3, 0.0]], "model": "&lt;model identity&gt;", "examples": 120}
/// </code>
/// "examples" is optional (default 1). Every line must name the same tokenizer (discrete) or model (soft) identity: prompts
/// from different vocabularies or embedding spaces cannot be aggregated. A vector value may be a JSON number or one of the
/// strings "NaN", "Infinity", "-Infinity", so that non-finite values reach <see cref="UploadValidation"/>, which names the
/// client and position. Every problem is a <see cref="DataFileException"/> naming the file and, where it has one, the line.
/// </summary>
public sealed class UploadsFile
{
    static readonly string[] DiscreteFields = ["client", "token_ids", "tokenizer", "examples"];
    static readonly string[] SoftFields = ["client", "vectors", "model", "examples"];

    UploadsFile(string path, UploadKind kind, string identity, IReadOnlyList<UploadedTokenIds> tokenIds, IReadOnlyList<SoftPromptUpload> soft)
    {
        Path = path;
        Kind = kind;
        Identity = identity;
        TokenIds = tokenIds;
        Soft = soft;
    }

    public string Path { get; }
    public UploadKind Kind { get; }
    /// <summary>The tokenizer identity (discrete) or model identity (soft) that every line names.</summary>
    public string Identity { get; }
    /// <summary>The discrete uploads in file order; empty for a soft file.</summary>
    public IReadOnlyList<UploadedTokenIds> TokenIds { get; }
    /// <summary>The soft uploads in file order, already validated; empty for a discrete file.</summary>
    public IReadOnlyList<SoftPromptUpload> Soft { get; }
    /// <summary>The clients in file order.</summary>
    public IReadOnlyList<string> ClientIds => Kind == UploadKind.Discrete ? TokenIds.Select(u => u.ClientId).ToArray() : Soft.Select(u => u.ClientId).ToArray();

    public static UploadsFile Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Uploads file {path} does not exist");
        var lines = new List<ParsedLine>();
        var number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            var parsed = ParseLine(new LineReader(path, number), text);
            if (lines.Count > 0 && parsed.Kind != lines[0].Kind)
                throw new DataFileException(path, number,
                    $"a {Describe(parsed.Kind)} upload after {Describe(lines[0].Kind)} ones (line {lines[0].Line}); a file holds one kind");
            if (lines.Count > 0 && parsed.Identity != lines[0].Identity)
                throw new DataFileException(path, number,
                    $"{IdentityField(parsed.Kind)} \"{parsed.Identity}\" differs from \"{lines[0].Identity}\" (line {lines[0].Line}); all uploads must share one");
            lines.Add(parsed);
        }
        if (lines.Count == 0) throw new DataFileException(path, null, "no uploads");
        var soft = lines.Where(line => line.Soft is not null).Select(line => line.Soft!).ToArray();
        if (soft.Length > 0) Validated(path, () => UploadValidation.CheckSoft(soft));
        return new UploadsFile(path, lines[0].Kind, lines[0].Identity,
            lines.Where(line => line.TokenIds is not null).Select(line => line.TokenIds!).ToArray(), soft);
    }

    /// <summary>
    /// The discrete uploads with every token's vector from <paramref name="vocabulary"/> (the model's input embeddings or
    /// an encoder's embeddings of the token texts), validated; a token id outside the vocabulary is named with its line,
    /// client and position.
    /// </summary>
    public IReadOnlyList<TokenPromptUpload> EmbedTokens(ITokenEmbeddings vocabulary)
    {
        if (Kind != UploadKind.Discrete) throw new InvalidOperationException($"{Path} holds soft uploads, not token ids");
        foreach (var upload in TokenIds)
            for (var position = 0; position < upload.TokenIds.Count; position++)
                if (upload.TokenIds[position] is var id && (id < 0 || id >= vocabulary.VocabularySize))
                    throw new DataFileException(Path, upload.Line,
                        $"client '{upload.ClientId}' position {position}: token id {id} is outside the model's vocabulary of {vocabulary.VocabularySize}");
        var uploads = TokenIds.Select(upload => new TokenPromptUpload(upload.ClientId,
            upload.TokenIds.Zip(vocabulary.Embed(upload.TokenIds), (id, vector) => new PromptToken(id, vector)).ToArray(), upload.ExampleCount)).ToArray();
        Validated(Path, () => UploadValidation.CheckTokens(uploads));
        return uploads;
    }

    /// <summary>One non-blank line: its kind and identity, and the upload (exactly one of the two is set).</summary>
    sealed record ParsedLine(UploadKind Kind, string Identity, int Line, UploadedTokenIds? TokenIds, SoftPromptUpload? Soft);

    static ParsedLine ParseLine(LineReader reader, string text)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(text);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw reader.Error($"not valid JSON: {e.Message}");
        }
        if (root.ValueKind != JsonValueKind.Object) throw reader.Error("expected a JSON object");
        bool hasIds = root.TryGetProperty("token_ids", out var ids), hasVectors = root.TryGetProperty("vectors", out var vectors);
        if (hasIds == hasVectors) throw reader.Error("give either \"token_ids\" (a discrete upload) or \"vectors\" (a soft upload)");
        var kind = hasIds ? UploadKind.Discrete : UploadKind.Soft;
        var known = kind == UploadKind.Discrete ? DiscreteFields : SoftFields;
        foreach (var property in root.EnumerateObject())
            if (!known.Contains(property.Name))
                throw reader.Error($"field \"{property.Name}\" does not belong to a {Describe(kind)} upload (fields: {string.Join(", ", known)})");

        var client = reader.String(root, "client");
        var identity = reader.String(root, IdentityField(kind));
        var examples = root.TryGetProperty("examples", out var count) ? reader.Integer(count, "examples") : 1;
        return kind == UploadKind.Discrete
            ? new ParsedLine(kind, identity, reader.Line, new UploadedTokenIds(client, reader.Array(ids, "token_ids", reader.Integer), examples, reader.Line), null)
            : new ParsedLine(kind, identity, reader.Line, null, new SoftPromptUpload(client,
                reader.Array(vectors, "vectors", (row, name) => reader.Array(row, name, reader.Float)), examples));
    }

    static string Describe(UploadKind kind) => kind == UploadKind.Discrete ? "discrete" : "soft";

    static string IdentityField(UploadKind kind) => kind == UploadKind.Discrete ? "tokenizer" : "model";

    /// <summary>Runs a library validation, naming the file in its message.</summary>
    static void Validated(string path, Action check)
    {
        try { check(); }
        catch (ArgumentException e) { throw new DataFileException(path, null, e.Message, e); }
    }

    /// <summary>Reads typed values from one line, every error naming the file, the line and the value's JSON path.</summary>
    readonly record struct LineReader(string Path, int Line)
    {
        public DataFileException Error(string problem) => new(Path, Line, problem);

        public string String(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
                ? text
                : throw Error($"\"{name}\" must be a non-empty string");

        public int Integer(JsonElement value, string name) =>
            value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var integer) ? integer : throw Error($"{name} must be a whole number");

        public float Float(JsonElement value, string name) => value.ValueKind switch
        {
            // beyond float range becomes ±Infinity, which validation rejects; beyond double range the reader refuses it
            JsonValueKind.Number => value.TryGetDouble(out var number) ? (float)number : throw Error($"{name} is beyond the range of a double"),
            JsonValueKind.String when value.GetString() is "NaN" or "Infinity" or "-Infinity" => float.Parse(value.GetString()!, CultureInfo.InvariantCulture),
            _ => throw Error($"{name} must be a number"),
        };

        public T[] Array<T>(JsonElement value, string name, Func<JsonElement, string, T> element) =>
            value.ValueKind == JsonValueKind.Array
                ? value.EnumerateArray().Select((item, i) => element(item, $"{name}[{i}]")).ToArray()
                : throw Error($"{name} must be an array");
    }
}
