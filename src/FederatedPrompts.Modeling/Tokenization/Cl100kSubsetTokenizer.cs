using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>
/// Tokenizer for models this project trains from scratch: cl100k_base restricted to the tokens a training corpus
/// uses, renumbered densely so the embedding table stays small.
/// New ids: 0–255 are the single bytes 0x00–0xFF; then the corpus's most frequent multi-byte cl100k tokens (ties by
/// cl100k id); last, <c>&lt;|endoftext|&gt;</c> (document separator, used as BOS and EOS).
/// Encoding runs cl100k and maps each token; a token outside the kept set is re-emitted as its single-byte tokens,
/// so encoding is lossless and decoding (concatenate bytes, UTF-8 decode) exact.
/// </summary>
/// <remarks>
/// Saved as <see cref="FileName"/>:
/// <code>
/// { "format": "fedprompt-tokenizer/1", "base_encoding": "cl100k_base",
///   "kept_base_ids": [ cl100k id of new id 0, of new id 1, … ],
///   "special_tokens": { "&lt;|endoftext|&gt;": kept_base_ids.length } }
/// </code>
/// </remarks>
public sealed class Cl100kSubsetTokenizer : ITextTokenizer
{
    public const string FileName = "fedprompt-tokenizer.json";
    public const string EndOfText = "<|endoftext|>";
    const string Format = "fedprompt-tokenizer/1";

    readonly int[] _keptBaseIds;
    readonly Dictionary<int, int> _newIdOfBaseId;
    readonly Dictionary<string, int> _specialTokens;
    readonly Cl100kBase _base = Cl100kBase.Instance;

    Cl100kSubsetTokenizer(int[] keptBaseIds)
    {
        _keptBaseIds = keptBaseIds;
        _newIdOfBaseId = keptBaseIds.Select((baseId, newId) => (baseId, newId)).ToDictionary(p => p.baseId, p => p.newId);
        EndOfTextId = keptBaseIds.Length;
        _specialTokens = new() { [EndOfText] = EndOfTextId };
        Identity = VocabularyIdentity.Of("cl100k-subset",
            keptBaseIds.Select(id => id.ToString()).Prepend(Cl100kBase.EncodingName).Append($"{EndOfText}\t{EndOfTextId}"));
    }

    public string Identity { get; }
    public int VocabSize => _keptBaseIds.Length + 1;
    public int EndOfTextId { get; }
    public int? BosId => EndOfTextId;
    public int? EosId => EndOfTextId;

    /// <summary>cl100k id of each new id (the special id excluded).</summary>
    public IReadOnlyList<int> KeptBaseIds => _keptBaseIds;

    /// <summary>
    /// Keeps the 256 byte tokens and the most frequent cl100k tokens of <paramref name="corpus"/>, at most
    /// <paramref name="vocabSize"/> ids in all (fewer when the corpus uses fewer distinct tokens).
    /// </summary>
    public static Cl100kSubsetTokenizer Train(IEnumerable<string> corpus, int vocabSize)
    {
        const int minimum = 256 + 1;
        if (vocabSize < minimum) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"needs at least {minimum}: 256 bytes and <|endoftext|>");

        var cl100k = Cl100kBase.Instance;
        var counts = new Dictionary<int, long>();
        foreach (var document in corpus)
            foreach (var id in cl100k.Tokenizer.EncodeToIds(document))
                if (cl100k.IsOrdinary(id) && cl100k.BytesOf(id).Length > 1)
                    counts[id] = counts.GetValueOrDefault(id) + 1;

        var frequent = counts.OrderByDescending(e => e.Value).ThenBy(e => e.Key).Take(vocabSize - minimum).Select(e => e.Key);
        return new Cl100kSubsetTokenizer([.. cl100k.SingleByteTokens, .. frequent]);
    }

    public IReadOnlyList<int> Encode(string text) => SpecialTokenSplitter.Encode(text, _specialTokens, EncodeOrdinary);

    void EncodeOrdinary(string text, List<int> ids)
    {
        foreach (var baseId in _base.Tokenizer.EncodeToIds(text))
        {
            if (_newIdOfBaseId.TryGetValue(baseId, out var newId)) ids.Add(newId);
            else foreach (var b in _base.BytesOf(baseId)) ids.Add(b); // new ids 0–255 are the bytes themselves
        }
    }

    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (id == EndOfTextId)
            {
                text.Append(Encoding.UTF8.GetString([.. bytes])).Append(EndOfText);
                bytes.Clear();
            }
            else if ((uint)id < (uint)_keptBaseIds.Length) bytes.AddRange(_base.BytesOf(_keptBaseIds[id]));
            else throw new ArgumentOutOfRangeException(nameof(ids), id, $"not an id of this {VocabSize}-token vocabulary");
        }
        return text.Append(Encoding.UTF8.GetString([.. bytes])).ToString();
    }

    /// <summary>Writes <see cref="FileName"/> into <paramref name="modelDir"/>; returns its path.</summary>
    public string Save(string modelDir)
    {
        var json = new JsonObject
        {
            ["format"] = Format,
            ["base_encoding"] = Cl100kBase.EncodingName,
            ["kept_base_ids"] = new JsonArray([.. _keptBaseIds.Select(id => (JsonNode)id)]),
            ["special_tokens"] = new JsonObject { [EndOfText] = EndOfTextId },
        };
        var path = Path.Combine(modelDir, FileName);
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })); // keep <|…|> legible
        return path;
    }

    public static Cl100kSubsetTokenizer Load(string path)
    {
        try { return Parse(JsonNode.Parse(File.ReadAllText(path)), path); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: malformed {FileName} ({e.Message})", e);
        }
    }

    static Cl100kSubsetTokenizer Parse(JsonNode? json, string path)
    {
        if (json is not JsonObject root) throw new InvalidDataException($"{path}: expected a JSON object");
        var format = root["format"]?.GetValue<string>();
        if (format != Format) throw new InvalidDataException($"{path}: 'format' is '{format}', expected '{Format}'");
        var baseEncoding = root["base_encoding"]?.GetValue<string>();
        if (baseEncoding != Cl100kBase.EncodingName)
            throw new InvalidDataException($"{path}: 'base_encoding' is '{baseEncoding}', only '{Cl100kBase.EncodingName}' is supported");

        if (root["kept_base_ids"] is not JsonArray keptArray) throw new InvalidDataException($"{path}: 'kept_base_ids' array is missing");
        int[] kept = [.. keptArray.Select(n => n?.GetValue<int>() ?? throw new InvalidDataException($"{path}: 'kept_base_ids' holds a null"))];
        var cl100k = Cl100kBase.Instance;
        if (kept.Length < 256 || !kept.AsSpan(0, 256).SequenceEqual(cl100k.SingleByteTokens))
            throw new InvalidDataException($"{path}: 'kept_base_ids' must start with cl100k's 256 single-byte tokens in byte order");
        if (!kept.All(cl100k.IsOrdinary) || kept.Distinct().Count() != kept.Length)
            throw new InvalidDataException($"{path}: 'kept_base_ids' must be distinct ids of cl100k's byte-pair table (no special ids)");
        if (root["special_tokens"] is not JsonObject special || special.Count != 1 || special[EndOfText]?.GetValue<int>() != kept.Length)
            throw new InvalidDataException($"{path}: 'special_tokens' must be {{\"{EndOfText}\": {kept.Length}}}");
        return new Cl100kSubsetTokenizer(kept);
    }
}
