using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Models;

/// <summary>
/// A decoder-only language model split at the two seams prompt methods need: token ids → input
/// embeddings (where soft prompts are prepended) and final hidden states → logits (where classification
/// and distillation read). GPT-2 and Llama implement it; everything above this layer is family-agnostic.
/// </summary>
public abstract class CausalLM : nn.Module
{
    protected CausalLM(string name, TransformerConfig config) : base(name) => Config = config;

    public TransformerConfig Config { get; }
    public int HiddenSize => Config.HiddenSize;
    public int VocabSize => Config.VocabSize;

    /// <summary>Token ids [B,T] (int64) → input embeddings [B,T,H].</summary>
    public abstract Tensor EmbedTokens(Tensor ids);

    /// <summary>
    /// Input embeddings [B,T,H] → hidden states after the final norm [B,T,H].
    /// <paramref name="attentionMask"/> [B,T] is 1 for real positions and 0 for padding (padding keys are never
    /// attended to); <paramref name="positionIds"/> [B,T] defaults to cumsum(mask)−1 (0,1,2… without a mask),
    /// as Hugging Face does, so left and right padding both give each real token its true position.
    /// </summary>
    public abstract Tensor HiddenStates(Tensor inputEmbeds, Tensor? attentionMask = null, Tensor? positionIds = null);

    /// <summary>Hidden states [..,H] → next-token logits [..,V].</summary>
    public abstract Tensor LmHead(Tensor hidden);

    /// <summary>Stops gradients to every weight and switches to eval mode: prompt methods train inputs, not the model.</summary>
    public void Freeze()
    {
        foreach (var parameter in parameters()) parameter.requires_grad_(false);
        eval();
    }

    /// <summary>Convenience: logits [B,T,V] for token ids [B,T].</summary>
    public Tensor Logits(Tensor ids, Tensor? attentionMask = null) => LmHead(HiddenStates(EmbedTokens(ids), attentionMask));

    /// <summary>
    /// <paramref name="input"/> through <paramref name="layers"/> in turn, each layer's intermediates freed when it returns, as
    /// Python's reference counting frees PyTorch's: one dispose scope around the whole pass would keep every layer's until
    /// the end (measured on the Llama-135M shape: +1.1 GB for a forward pass of 4 texts, against +47 MB in PyTorch).
    /// Autograd holds on its own to what backward needs. The input itself is left to its owner.
    /// </summary>
    protected static Tensor ThroughLayers<TLayer>(Tensor input, IEnumerable<TLayer> layers, Func<TLayer, Tensor, Tensor> forward)
    {
        var x = input;
        foreach (var layer in layers)
        {
            Tensor next;
            using (NewDisposeScope()) next = forward(layer, x).MoveToOuterDisposeScope();
            if (!ReferenceEquals(x, input)) x.Dispose();
            x = next;
        }
        return x;
    }

    /// <summary>Default position ids from a padding mask, as Hugging Face computes them.</summary>
    public static Tensor DefaultPositionIds(Tensor inputEmbeds, Tensor? attentionMask)
    {
        long batch = inputEmbeds.shape[0], length = inputEmbeds.shape[1];
        if (attentionMask is null)
            return arange(length, dtype: ScalarType.Int64, device: inputEmbeds.device).unsqueeze(0).expand(batch, length);
        return (attentionMask.to_type(ScalarType.Int64).cumsum(1) - 1).clamp_min(0);
    }
}
