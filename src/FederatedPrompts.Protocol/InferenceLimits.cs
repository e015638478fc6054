using System.Text;

namespace FederatedPrompts.Protocol;

/// <summary>The inference service's contract, shared by the coordinator that enforces it and the client that keeps to it.</summary>
public static class InferenceLimits
{
    /// <summary>Most texts per request, so one call cannot hold the model for long.</summary>
    public const int MaxTextsPerRequest = 256;

    /// <summary>
    /// Most UTF-8 bytes per text: far more than a review or a report a prompt classifies. The classifier reads only a
    /// text's tail as long as the model's window (tokenizing a whole long text took quadratic time under the model
    /// lock), so this bound is the contract's, not the cost's.
    /// </summary>
    public const int MaxTextBytes = 64 * 1024;

    /// <summary>
    /// Most UTF-8 bytes of text a client puts in one request: below the coordinator's default largest message (4 MiB),
    /// which gRPC enforces with RESOURCE_EXHAUSTED, the status the service also gives for a spent query budget.
    /// </summary>
    public const int MaxRequestTextBytes = 3 * 1024 * 1024;

    /// <summary>
    /// <paramref name="text"/>, or where it has more than <paramref name="maxBytes"/> UTF-8 bytes its longest tail of whole
    /// characters within them: the part of a text the classifier reads is at its end.
    /// </summary>
    public static string Tail(string text, int maxBytes = MaxTextBytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes) return text;
        int start = text.Length, bytes = 0;
        while (start > 0)
        {
            int width = start >= 2 && char.IsSurrogatePair(text[start - 2], text[start - 1]) ? 2 : 1;
            int size = Encoding.UTF8.GetByteCount(text.AsSpan(start - width, width));
            if (bytes + size > maxBytes) break;
            bytes += size;
            start -= width;
        }
        return text[start..];
    }
}
