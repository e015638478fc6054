using System.Text;
using System.Text.Json;
using FederatedPrompts.TestSupport;

namespace FederatedPrompts.Modeling.Tests;

/// <summary>Varied inputs for tokenizer checks: hand-picked adversarial strings, Brown corpus sentences, seeded random mixes.</summary>
static class TokenizerTestTexts
{
    public static readonly string[] Adversarial =
    [
        "", " ", "  ", "\n", "\n\n", "\t", " \t \n ", "a", " a", "  a", "a  ", "a \n b", "x  \n\n  y", "end with spaces   ",
        "tab\tseparated\t\tvalues", "\r\nwindows\r\nlines\r\n", "line\u2028separator\u00a0nbsp\u3000ideographic",
        "I'm sure they'll say it's fine, won't they? We've, we'd, you're", "I'M SURE IT'S", "'s 's ' s''s '''", "rock'n'roll",
        "naïve café, Zürich über résumé", "e\u0301 combining a\u0308\u0323 marks", "Ελληνικά и русский текст", "עברית ועברית",
        "東京は日本の首都です。", "한국어 텍스트", "ภาษาไทย", "हिन्दी", "emoji 🙂👍🏽 family 👨‍👩‍👧 flags 🇺🇸",
        "1234567890 3.14159 -42 1,000,000 2nd 3rd", "١٢٣ ٤٥٦ Ⅻ ½ ²", "    indented code()\n\treturn x;", "{\"json\": [1, 2, null]}",
        "<html><body class=\"x\">&amp;</body></html>", "http://example.com/a?b=c&d=e#f", "!!!???...,,,;;;", "---===+++",
        "$100.00 €50 £20 ¥1000", "a\u0000b\u0001c\u007f", "\u200b\u200c\u200dzero width", "\ufeffBOM", "Mr. O'Neil's 'quote'",
        "ALL CAPS AND lower", "camelCaseWords snake_case_words kebab-case-words", "...", "'", "''", "'ll", " 'll",
    ];

    /// <summary>The first lines of Brown corpus documents, two per document, so every genre is represented.</summary>
    public static IEnumerable<string> BrownSentences(int count)
    {
        var sentences = new List<string>();
        foreach (var text in BrownDocuments())
        {
            sentences.AddRange(text.Split('\n').Take(2));
            if (sentences.Count >= count) break;
        }
        return sentences.Take(count);
    }

    /// <summary>The Brown corpus documents in file order (genres a…r), read lazily.</summary>
    public static IEnumerable<string> BrownDocuments() => File.ReadLines(SharedData.Under("corpora", "brown.jsonl"))
        .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!);

    /// <summary>Seeded random mixes of letters, digits, spaces, quotes and symbols, BMP only (see <see cref="OpenAiGpt2Reference"/>).</summary>
    public static IEnumerable<string> RandomMixes(int count, int seed = 1234)
    {
        string[] atoms = ["a", "Z", "é", "ß", "中", "é", "0", "7", "٣", " ", "  ", "\n", "\t", "\r\n", "'", "'s", "'ll", "'T", ".", ",", "!",
            "-", "_", "😀", "👍🏽", "\u0301", "\u00a0", "<", "|", ">", "world", "Hello", "\u3000", "€"];
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var text = new StringBuilder();
            for (var n = random.Next(1, 20); n > 0; n--) text.Append(atoms[random.Next(atoms.Length)]);
            yield return text.ToString();
        }
    }
}
