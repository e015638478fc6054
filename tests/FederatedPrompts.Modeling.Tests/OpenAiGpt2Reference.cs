using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FederatedPrompts.Modeling.Tests;

/// <summary>
/// Independent GPT-2 encoder for cross-checking, a transcription of OpenAI's gpt-2 <c>src/encoder.py</c>:
/// bytes_to_unicode table, regex pre-tokenization, rank-ordered merges. It shares no code with the product.
/// Limitation: .NET's Regex matches UTF-16 code units, so letters/digits outside the BMP split differently from
/// Python; inputs given to it must keep those out (hard-coded ids cover them instead).
/// </summary>
sealed class OpenAiGpt2Reference
{
    static readonly Regex Pattern = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+");
    static readonly char[] ByteEncoder = BytesToUnicode();

    readonly Dictionary<string, int> _encoder;
    readonly Dictionary<(string, string), int> _bpeRanks = [];

    public OpenAiGpt2Reference(string vocabJson, string mergesTxt)
    {
        _encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabJson))!;
        var lines = File.ReadAllLines(mergesTxt).Skip(1).Where(l => l.Length > 0).ToList();
        for (var rank = 0; rank < lines.Count; rank++)
        {
            var parts = lines[rank].Split(' ');
            _bpeRanks[(parts[0], parts[1])] = rank;
        }
    }

    /// <summary>Printable bytes map to themselves; the rest to 256+n, so every byte is a visible character.</summary>
    static char[] BytesToUnicode()
    {
        var bs = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToList();
        var cs = bs.ToList();
        var n = 0;
        for (var b = 0; b < 256; b++)
            if (!bs.Contains(b)) { bs.Add(b); cs.Add(256 + n++); }
        var table = new char[256];
        for (var i = 0; i < bs.Count; i++) table[bs[i]] = (char)cs[i];
        return table;
    }

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (Match match in Pattern.Matches(text))
        {
            var token = new string(Encoding.UTF8.GetBytes(match.Value).Select(b => ByteEncoder[b]).ToArray());
            ids.AddRange(Bpe(token).Select(piece => _encoder[piece]));
        }
        return ids;
    }

    List<string> Bpe(string token)
    {
        var word = token.Select(c => c.ToString()).ToList();
        while (word.Count > 1)
        {
            var bigram = word.Zip(word.Skip(1)).MinBy(p => _bpeRanks.GetValueOrDefault(p, int.MaxValue));
            if (!_bpeRanks.ContainsKey(bigram)) break;
            var (first, second) = bigram;
            var merged = new List<string>();
            for (var i = 0; i < word.Count;)
            {
                if (i < word.Count - 1 && word[i] == first && word[i + 1] == second) { merged.Add(first + second); i += 2; }
                else merged.Add(word[i++]);
            }
            word = merged;
        }
        return word;
    }
}
