using System.Security.Cryptography;
using System.Text;

namespace FederatedPrompts.Modeling.Tokenization;

/// <summary><c>kind:hash</c>, hash = first 16 hex digits of the SHA-256 of a canonical text of the vocabulary.</summary>
static class VocabularyIdentity
{
    public static string Of(string kind, IEnumerable<string> canonicalLines) =>
        Of(kind, Encoding.UTF8.GetBytes(string.Join("\n", canonicalLines)));

    public static string Of(string kind, byte[] content) =>
        $"{kind}:{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}";
}
