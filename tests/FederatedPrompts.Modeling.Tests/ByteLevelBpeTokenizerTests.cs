using System.Text.Json;
using System.Text.Json.Nodes;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.TestSupport;

namespace FederatedPrompts.Modeling.Tests;

public class ByteLevelBpeTokenizerTests
{
    static readonly Lazy<ByteLevelBpeTokenizer> Gpt2 = new(() => ByteLevelBpeTokenizer.FromVocabAndMerges(
        SharedData.Under("models", "gpt2-tokenizer", "vocab.json"), SharedData.Under("models", "gpt2-tokenizer", "merges.txt")));

    static readonly Lazy<OpenAiGpt2Reference> Reference = new(() => new OpenAiGpt2Reference(
        SharedData.Under("models", "gpt2-tokenizer", "vocab.json"), SharedData.Under("models", "gpt2-tokenizer", "merges.txt")));

    /// <summary>
    /// Ids from a Python transcription of OpenAI's encoder.py run on the real GPT-2 files, with the pattern evaluated
    /// by Python's <c>re</c> on code points (\p{L}, \p{N} spelled out from unicodedata). The first four are also
    /// well-known Hugging Face outputs. The last cases put letters/digits outside the BMP next to ordinary ones,
    /// where a UTF-16 regex would split differently.
    /// </summary>
    public static TheoryData<string, int[]> KnownIds => new()
    {
        { "Hello world", [15496, 995] },
        { "Hello, world!", [15496, 11, 995, 0] },
        { " the", [262] },
        { "\n\n", [628] },
        { "<|endoftext|>", [50256] },
        { "a<|endoftext|>b", [64, 50256, 65] },
        { "I'm sure they'll say it's fine, won't they?", [40, 1101, 1654, 484, 1183, 910, 340, 338, 3734, 11, 1839, 470, 484, 30] },
        { "I'M SURE IT'S", [40, 6, 44, 311, 11335, 7283, 6, 50] },
        { "x  \n\n  y", [87, 220, 220, 628, 220, 331] },
        { "tab\tseparated\t\tvalues  ", [8658, 197, 25512, 515, 197, 197, 27160, 220, 220] },
        { "naïve café, Zürich über résumé", [2616, 38776, 40304, 11, 1168, 9116, 7527, 6184, 120, 527, 40560, 16345, 2634] },
        { "東京は日本の首都です。", [30266, 109, 12859, 105, 31676, 33768, 98, 17312, 105, 33426, 99, 244, 32849, 121, 30640, 33623, 16764] },
        { "emoji 🙂👍🏽 family 👨‍👩‍👧", [368, 31370, 32485, 41840, 235, 8582, 237, 121, 1641, 50169, 101, 447, 235, 41840, 102, 447, 235, 41840, 100] },
        { "e\u0301 combining", [68, 136, 223, 19771] },
        { "1234567890 3.14159 -42", [10163, 2231, 30924, 3829, 513, 13, 1415, 19707, 532, 3682] },
        { "    indented code()\n\treturn x;", [220, 220, 220, 773, 4714, 2438, 3419, 198, 197, 7783, 2124, 26] },
        { "𝐀𝐁𝐂 bold and 𠀀𠀁 ext-B", [47728, 238, 222, 47728, 238, 223, 47728, 238, 224, 10758, 290, 220, 172, 254, 222, 222, 172, 254, 222, 223, 1070, 12, 33] },
        { "word𝐀𝐁mixed", [4775, 47728, 238, 222, 47728, 238, 223, 76, 2966] },
        { "x𝟏2", [87, 47728, 253, 237, 17] },
        { "café𠀀", [66, 1878, 2634, 172, 254, 222, 222] },
    };

    [SharedDataTheory]
    [MemberData(nameof(KnownIds))]
    public void Encode_GivesHuggingFaceIds(string text, int[] expected)
    {
        Assert.Equal(expected, Gpt2.Value.Encode(text));
        Assert.Equal(text, Gpt2.Value.Decode(expected));
    }

    [SharedDataFact]
    public void Encode_MatchesOpenAiReference_OnVariedText()
    {
        var texts = TokenizerTestTexts.Adversarial
            .Concat(TokenizerTestTexts.BrownSentences(300))
            .Concat(TokenizerTestTexts.BrownDocuments().Where((_, index) => index % 50 == 0)) // whole documents across genres
            .Concat(TokenizerTestTexts.RandomMixes(300))
            .ToList();
        Assert.True(texts.Count > 600);
        foreach (var text in texts)
        {
            var ids = Gpt2.Value.Encode(text);
            Assert.True(Reference.Value.Encode(text).SequenceEqual(ids), $"ids differ from the reference for {Escape(text)}");
            Assert.Equal(text, Gpt2.Value.Decode(ids));
        }
    }

    [SharedDataFact]
    public void Properties_AreThoseOfGpt2()
    {
        var gpt2 = Gpt2.Value;
        Assert.Equal(50257, gpt2.VocabSize);
        Assert.Equal(50256, gpt2.BosId);
        Assert.Equal(50256, gpt2.EosId);
        Assert.StartsWith("gpt2-bpe:", gpt2.Identity);
        Assert.Equal(gpt2.Identity, ByteLevelBpeTokenizer.FromVocabAndMerges(
            SharedData.Under("models", "gpt2-tokenizer", "vocab.json"), SharedData.Under("models", "gpt2-tokenizer", "merges.txt")).Identity);
    }

    [SharedDataFact]
    public void TokenizerJson_AndVocabMerges_GiveTheSameTokenizer()
    {
        var folder = SharedData.Under("models", "tiny-random-gpt2");
        var fromPair = ByteLevelBpeTokenizer.FromVocabAndMerges(Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"));
        var fromJson = ByteLevelBpeTokenizer.FromTokenizerJson(Path.Combine(folder, "tokenizer.json"));
        var reference = new OpenAiGpt2Reference(Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"));

        Assert.Equal(fromPair.Identity, fromJson.Identity);
        Assert.Equal(1000, fromJson.VocabSize);
        // The tiny test vocabulary lacks many byte symbols (tab, '{', most non-ASCII), so stick to the ASCII it has.
        var texts = TokenizerTestTexts.Adversarial.Concat(TokenizerTestTexts.BrownSentences(100)).Where(t => t.All(c => c is >= ' ' and <= '~' and not '{'));
        foreach (var text in texts)
        {
            Assert.Equal(reference.Encode(text), fromJson.Encode(text));
            Assert.Equal(fromPair.Encode(text), fromJson.Encode(text));
        }
    }

    [SharedDataFact]
    public void TokenizerJson_AcceptsMergesWrittenAsPairs()
    {
        var tokenizerJson = SharedData.Under("models", "tiny-random-gpt2", "tokenizer.json");
        var node = JsonNode.Parse(File.ReadAllText(tokenizerJson))!;
        var merges = node["model"]!["merges"]!.AsArray().Select(m => m!.GetValue<string>().Split(' '));
        node["model"]!["merges"] = new JsonArray([.. merges.Select(pair => (JsonNode)new JsonArray(JsonValue.Create(pair[0]), JsonValue.Create(pair[1])))]);
        using var dir = new TempFolder();
        var path = dir.Write("tokenizer.json", node.ToJsonString());

        var fromPairs = ByteLevelBpeTokenizer.FromTokenizerJson(path);
        var fromStrings = ByteLevelBpeTokenizer.FromTokenizerJson(tokenizerJson);
        Assert.Equal(fromStrings.Identity, fromPairs.Identity);
        Assert.Equal(fromStrings.Encode("Hello there, general Kenobi"), fromPairs.Encode("Hello there, general Kenobi"));
    }

    static string Escape(string text) => JsonSerializer.Serialize(text);
}
