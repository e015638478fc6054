using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>
/// GPT-2 style byte-level BPE (Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> with <see cref="Gpt2PreTokenizer"/>),
/// producing Hugging Face's ids with <c>add_special_tokens=False</c>.
/// Special tokens written literally in the text (<c>&lt;|endoftext|&gt;</c>) become their id, as in Hugging Face's
/// GPT2Tokenizer and GPT2TokenizerFast, whose tokenize step always splits on added tokens (tiktoken, in contrast,
/// refuses such text by default).
/// </summary>
public sealed class ByteLevelBpeTokenizer : ITextTokenizer
{
    public const string EndOfText = "<|endoftext|>";

    readonly BpeTokenizer _bpe;
    readonly IReadOnlyDictionary<string, int> _specialTokens;

    ByteLevelBpeTokenizer(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<string> merges, IReadOnlyDictionary<string, int> specialTokens)
    {
        _bpe = BpeTokenizer.Create(new BpeOptions(vocabulary) { Merges = merges, ByteLevel = true, PreTokenizer = Gpt2PreTokenizer.Instance });
        _specialTokens = specialTokens;
        VocabSize = vocabulary.Values.Concat(specialTokens.Values).Max() + 1;
        BosId = EosId = specialTokens.TryGetValue(EndOfText, out var endOfText) ? endOfText : null;
        Identity = VocabularyIdentity.Of("gpt2-bpe",
            vocabulary.OrderBy(e => e.Value).Select(e => $"{e.Value}\t{e.Key}")
                .Append("merges").Concat(merges)
                .Append("special").Concat(specialTokens.OrderBy(e => e.Value).Select(e => $"{e.Value}\t{e.Key}")));
    }

    public string Identity { get; }
    public int VocabSize { get; }
    /// <summary><c>&lt;|endoftext|&gt;</c> where the vocabulary has it: GPT-2 uses it as both BOS and EOS.</summary>
    public int? BosId { get; }
    public int? EosId { get; }

    /// <summary>From the <c>vocab.json</c> + <c>merges.txt</c> pair of a GPT-2 style folder; <c>&lt;|endoftext|&gt;</c> is special when in the vocabulary.</summary>
    public static ByteLevelBpeTokenizer FromVocabAndMerges(string vocabJsonPath, string mergesTxtPath)
    {
        var vocabulary = ReadVocabJson(vocabJsonPath);
        var merges = ReadMergesTxt(mergesTxtPath);
        var special = vocabulary.TryGetValue(EndOfText, out var id) ? new Dictionary<string, int> { [EndOfText] = id } : [];
        try { return new ByteLevelBpeTokenizer(vocabulary, merges, special); }
        catch (InvalidOperationException e) // the package rejects merges whose result is not in the vocabulary
        {
            throw new InvalidDataException($"{mergesTxtPath} does not fit {vocabJsonPath}: {e.Message}", e);
        }
    }

    /// <summary>From a Hugging Face <c>tokenizer.json</c> whose model is BPE with a ByteLevel pre-tokenizer; its added tokens are special.</summary>
    public static ByteLevelBpeTokenizer FromTokenizerJson(string tokenizerJsonPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath));
            var root = doc.RootElement;
            var model = root.GetProperty("model");
            var type = model.TryGetProperty("type", out var t) ? t.GetString() : null;
            if (type != "BPE") throw new InvalidDataException($"{tokenizerJsonPath}: model type is '{type}', expected 'BPE'");
            if (!UsesByteLevel(root.GetProperty("pre_tokenizer")))
                throw new InvalidDataException($"{tokenizerJsonPath}: pre_tokenizer is not ByteLevel, so this is not a GPT-2 style byte-level BPE");

            var vocabulary = model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
            var merges = model.GetProperty("merges").EnumerateArray().Select(m => m.ValueKind == JsonValueKind.Array
                ? $"{m[0].GetString()} {m[1].GetString()}" // newer tokenizers write ["a", "b"]
                : m.GetString()!).ToList();
            var special = root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array
                ? added.EnumerateArray().ToDictionary(a => a.GetProperty("content").GetString()!, a => a.GetProperty("id").GetInt32())
                : [];
            return new ByteLevelBpeTokenizer(vocabulary, merges, special);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{tokenizerJsonPath}: not a valid Hugging Face tokenizer.json ({e.Message})", e);
        }
    }

    static bool UsesByteLevel(JsonElement preTokenizer) =>
        preTokenizer.ValueKind == JsonValueKind.Object && preTokenizer.GetProperty("type").GetString() switch
        {
            "ByteLevel" => true,
            "Sequence" => preTokenizer.GetProperty("pretokenizers").EnumerateArray().Any(UsesByteLevel),
            _ => false,
        };

    static Dictionary<string, int> ReadVocabJson(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(path))
                ?? throw new InvalidDataException($"{path}: is 'null', expected an object of token → id");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: expected a JSON object of token → id ({e.Message})", e);
        }
    }

    static List<string> ReadMergesTxt(string path)
    {
        var merges = new List<string>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version"))) continue;
            if (line.Split(' ').Length != 2) throw new InvalidDataException($"{path}:{lineNumber}: expected 'left right', got '{line}'");
            merges.Add(line);
        }
        return merges;
    }

    public IReadOnlyList<int> Encode(string text) =>
        SpecialTokenSplitter.Encode(text, _specialTokens, (ordinary, ids) => ids.AddRange(_bpe.EncodeToIds(ordinary)));

    public string Decode(IEnumerable<int> ids) => _bpe.Decode(ids);
}
