namespace FederatedPrompts.Modeling.Tokenization;

/// <summary>
/// Cuts literal special-token text (e.g. <c>&lt;|endoftext|&gt;</c>) out of the input before the ordinary
/// encoder sees it, as Hugging Face tokenizers do for added tokens: the literal becomes its single id.
/// </summary>
static class SpecialTokenSplitter
{
    public static List<int> Encode(string text, IReadOnlyDictionary<string, int> specialTokens, Action<string, List<int>> encodeOrdinary)
    {
        var ids = new List<int>();
        var position = 0;
        while (position < text.Length)
        {
            var (index, token) = FirstSpecial(text, position, specialTokens.Keys);
            if (token is null) { encodeOrdinary(text[position..], ids); break; }
            if (index > position) encodeOrdinary(text[position..index], ids);
            ids.Add(specialTokens[token]);
            position = index + token.Length;
        }
        return ids;
    }

    /// <summary>Leftmost occurrence; the longest token wins where two start at the same place.</summary>
    static (int Index, string? Token) FirstSpecial(string text, int from, IEnumerable<string> tokens)
    {
        var best = (Index: int.MaxValue, Token: (string?)null);
        foreach (var token in tokens)
        {
            var index = text.IndexOf(token, from, StringComparison.Ordinal);
            if (index < 0) continue;
            if (index < best.Index || (index == best.Index && token.Length > best.Token!.Length)) best = (index, token);
        }
        return best;
    }
}
