using System.Text;
using Microsoft.ML.Tokenizers;

namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>
/// GPT-2's pre-tokenization, <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>,
/// written as a scanner over Unicode scalar values. A .NET <see cref="System.Text.RegularExpressions.Regex"/> sees
/// UTF-16 code units, so a letter or digit outside the BMP (𝐀, CJK Extension B) would count as two "other"
/// surrogates and split differently from Python/Rust, which match by code point.
/// </summary>
public sealed class Gpt2PreTokenizer : PreTokenizer
{
    public static readonly Gpt2PreTokenizer Instance = new();

    Gpt2PreTokenizer() { }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text.ToString());

    /// <summary>(offset, length) in UTF-16 units of each pre-token, in order, covering the whole text.</summary>
    public static List<(int Offset, int Length)> Split(string text)
    {
        var pieces = new List<(int, int)>();
        for (var start = 0; start < text.Length;)
        {
            var end = PieceEnd(text, start);
            pieces.Add((start, end - start));
            start = end;
        }
        return pieces;
    }

    enum CharClass { Letter, Number, Whitespace, Other }

    static int PieceEnd(string text, int start)
    {
        if (text[start] == '\'' && ContractionLength(text, start) is var contraction and > 0) return start + contraction;

        var cls = ClassAt(text, start, out _);
        if (cls != CharClass.Whitespace) return RunEnd(text, start, cls);

        // " ?\p{L}+" etc.: a single ASCII space joins the letter/number/other run that follows it.
        if (text[start] == ' ' && start + 1 < text.Length && ClassAt(text, start + 1, out _) is var next && next != CharClass.Whitespace)
            return RunEnd(text, start + 1, next);

        var end = RunEnd(text, start, CharClass.Whitespace);
        if (end == text.Length) return end;
        // "\s+(?!\S)" backtracks one character so the last whitespace can prefix the next word; a run of one
        // falls through to "\s+". Every whitespace character is in the BMP, so "one character" is one char.
        return end - 1 > start ? end - 1 : end;
    }

    static int ContractionLength(string text, int quote)
    {
        var rest = text.AsSpan(quote + 1);
        if (rest.StartsWith("re") || rest.StartsWith("ve") || rest.StartsWith("ll")) return 3;
        return rest.Length > 0 && rest[0] is 's' or 't' or 'm' or 'd' ? 2 : 0;
    }

    static int RunEnd(string text, int start, CharClass cls)
    {
        var i = start;
        while (i < text.Length && ClassAt(text, i, out var width) == cls) i += width;
        return i;
    }

    static CharClass ClassAt(string text, int index, out int width)
    {
        // A lone surrogate decodes as U+FFFD (a symbol), which is what the UTF-8 bytes encode anyway.
        Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out width);
        if (Rune.IsLetter(rune)) return CharClass.Letter;
        if (Rune.IsNumber(rune)) return CharClass.Number;
        return Rune.IsWhiteSpace(rune) ? CharClass.Whitespace : CharClass.Other;
    }
}
