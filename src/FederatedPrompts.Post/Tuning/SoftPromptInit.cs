using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using static TorchSharp.torch;

namespace FederatedPrompts.Post.Tuning;

/// <summary>
/// Initial soft prompt: the token embeddings of a text repeated to the length, or of seeded random vocabulary
/// tokens. POST initialises the large model's prompt "like p_s", i.e. with the same text or seed on its embeddings.
/// </summary>
public static class SoftPromptInit
{
    public static Tensor Embed(CausalLM model, ITextTokenizer tokenizer, int length, string? initText, int seed)
    {
        if (length < 1) throw new ArgumentException($"prompt length must be at least 1, got {length}");
        using var noGrad = no_grad();
        long[] ids;
        if (initText is not null)
        {
            var encoded = tokenizer.Encode(initText);
            if (encoded.Count == 0) throw new ArgumentException($"init text \"{initText}\" encodes to no tokens");
            ids = Enumerable.Range(0, length).Select(i => (long)encoded[i % encoded.Count]).ToArray();
        }
        else
        {
            var random = new Random(seed);
            ids = Enumerable.Range(0, length).Select(_ => (long)random.Next(model.VocabSize)).ToArray();
        }
        return model.EmbedTokens(tensor(ids, device: model.parameters().First().device)).detach().clone();
    }
}
