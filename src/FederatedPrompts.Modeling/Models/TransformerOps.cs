using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FederatedPrompts.Modeling.Models;

/// <summary>Pieces GPT-2 and Llama share: activation functions by their Hugging Face name and masked causal attention.</summary>
public static class TransformerOps
{
    public static readonly IReadOnlyList<string> Activations = ["gelu_new", "gelu_pytorch_tanh", "gelu", "relu", "silu", "swish"];

    /// <summary>The activation Hugging Face's ACT2FN maps the name to; gelu_new is the tanh approximation.</summary>
    public static Func<Tensor, Tensor> Activation(string name) => name switch
    {
        "gelu_new" or "gelu_pytorch_tanh" => x => F.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "gelu" => x => F.gelu(x),
        "relu" => x => F.relu(x),
        "silu" or "swish" => x => F.silu(x),
        _ => throw new ModelFormatException($"unknown activation \"{name}\" (supported: {string.Join(", ", Activations)})"),
    };

    /// <summary>
    /// The boolean attention mask [B,1,T,T] (true = may attend) for a padding mask [B,T], or null when there is none
    /// (attention is then plainly causal). A query never attends to later or padded keys; it always attends to
    /// itself so that padded queries (whose logits are meaningless) do not produce NaN from an all-masked row.
    /// </summary>
    public static Tensor? CausalPaddingMask(Tensor? attentionMask, long length)
    {
        if (attentionMask is null) return null;
        var device = attentionMask.device;
        using var causal = ones(length, length, dtype: ScalarType.Bool, device: device).tril();
        using var keys = attentionMask.to_type(ScalarType.Bool).unsqueeze(1).unsqueeze(2);
        using var self = eye(length, dtype: ScalarType.Bool, device: device);
        using var allowed = causal.logical_and(keys);
        return allowed.logical_or(self);
    }

    /// <summary>Scaled dot-product attention (scale 1/√head_dim) for q [B,H,T,D], k/v [B,H,T,D], causal.</summary>
    public static Tensor CausalAttention(Tensor query, Tensor key, Tensor value, Tensor? mask) =>
        mask is null
            ? F.scaled_dot_product_attention(query, key, value, is_casual: true)
            : F.scaled_dot_product_attention(query, key, value, attn_mask: mask);
}
