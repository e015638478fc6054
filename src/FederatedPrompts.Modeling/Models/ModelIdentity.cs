using System.Security.Cryptography;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Models;

/// <summary>
/// Identity of a model's input embedding space: a short SHA-256 of its token-embedding matrix. A soft prompt lives
/// in that space, so it records this identity; a distilled student copies the teacher's embeddings and so shares it.
/// </summary>
public static class ModelIdentity
{
    public static string Of(CausalLM model)
    {
        using var noGrad = no_grad();
        var all = model.EmbedTokens(arange(model.VocabSize, dtype: ScalarType.Int64, device: model.parameters().First().device));
        var values = all.cpu().contiguous().data<float>().ToArray();
        var hash = SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return $"emb-{model.VocabSize}x{model.HiddenSize}:" + Convert.ToHexString(hash)[..16].ToLowerInvariant();
    }
}
