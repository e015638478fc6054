using System.Security.Cryptography;
namespace FederatedPrompts.Modeling.Models;

/// <summary>
/// Identity of a model's input embedding space: a short SHA-256 of its token-embedding matrix. A soft prompt lives
/// in that space, so it records this identity; a distilled student copies the teacher's embeddings and so shares it.
/// </summary>
public static class ModelIdentity
{
    public static string Of(CausalLM model)
    {
        var values = InputEmbeddings.Matrix(model);
        var hash = SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return $"emb-{model.VocabSize}x{model.HiddenSize}:" + Convert.ToHexString(hash)[..16].ToLowerInvariant();
    }
}
