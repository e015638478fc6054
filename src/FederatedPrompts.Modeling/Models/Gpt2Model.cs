using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FederatedPrompts.Modeling.Models;

/// <summary>
/// GPT-2 (Radford et al. 2019) in the layout of Hugging Face's GPT2LMHeadModel, nanoGPT style. Fields carry
/// Hugging Face's names so that parameter names equal checkpoint names (<c>transformer.h.0.attn.c_attn.weight</c>…);
/// the lm_head exists only when the head is not tied to the token embedding.
/// </summary>
public sealed class Gpt2Model : CausalLM
{
    readonly Gpt2Transformer transformer;
    readonly Linear? lm_head;

    public Gpt2Model(TransformerConfig config) : base(nameof(Gpt2Model), config)
    {
        if (config.Family != ModelFamily.Gpt2) throw new ArgumentException($"not a GPT-2 config: {config.Family}");
        transformer = new Gpt2Transformer(config);
        lm_head = config.TieWordEmbeddings ? null : nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
        RegisterComponents();
    }

    public override Tensor EmbedTokens(Tensor ids) => transformer.wte.forward(ids);

    public override Tensor HiddenStates(Tensor inputEmbeds, Tensor? attentionMask = null, Tensor? positionIds = null)
    {
        using var scope = NewDisposeScope();
        positionIds ??= DefaultPositionIds(inputEmbeds, attentionMask);
        var mask = TransformerOps.CausalPaddingMask(attentionMask, inputEmbeds.shape[1]);
        var x = ThroughLayers(inputEmbeds + transformer.wpe.forward(positionIds), transformer.h, (block, h) => block.Forward(h, mask));
        return transformer.ln_f.forward(x).MoveToOuterDisposeScope();
    }

    public override Tensor LmHead(Tensor hidden) => lm_head?.forward(hidden) ?? F.linear(hidden, transformer.wte.weight!);

    /// <summary>
    /// The parameter a checkpoint tensor loads into, or null for tensors to skip: the causal-mask buffers
    /// <c>attn.bias</c>/<c>attn.masked_bias</c> older checkpoints store. Checkpoints converted from OpenAI's
    /// release lack the <c>transformer.</c> prefix.
    /// </summary>
    public static string? ParameterName(string checkpointName)
    {
        if (checkpointName.EndsWith(".attn.bias") || checkpointName.EndsWith(".attn.masked_bias")) return null;
        return checkpointName.StartsWith("transformer.") || checkpointName.StartsWith("lm_head.") ? checkpointName : "transformer." + checkpointName;
    }

    sealed class Gpt2Transformer : nn.Module
    {
        public readonly Embedding wte, wpe;
        public readonly ModuleList<Gpt2Block> h;
        public readonly LayerNorm ln_f;

        public Gpt2Transformer(TransformerConfig config) : base(nameof(Gpt2Transformer))
        {
            wte = nn.Embedding(config.VocabSize, config.HiddenSize);
            wpe = nn.Embedding(config.MaxPositions, config.HiddenSize);
            h = nn.ModuleList(Enumerable.Range(0, config.NumLayers).Select(_ => new Gpt2Block(config)).ToArray());
            ln_f = nn.LayerNorm(config.HiddenSize, config.NormEps);
            RegisterComponents();
        }
    }

    /// <summary>Pre-norm residual block: x + attn(ln_1(x)), then x + mlp(ln_2(x)).</summary>
    sealed class Gpt2Block : nn.Module
    {
        readonly LayerNorm ln_1, ln_2;
        readonly Gpt2Attention attn;
        readonly Gpt2Mlp mlp;

        public Gpt2Block(TransformerConfig config) : base(nameof(Gpt2Block))
        {
            ln_1 = nn.LayerNorm(config.HiddenSize, config.NormEps);
            attn = new Gpt2Attention(config);
            ln_2 = nn.LayerNorm(config.HiddenSize, config.NormEps);
            mlp = new Gpt2Mlp(config);
            RegisterComponents();
        }

        public Tensor Forward(Tensor x, Tensor? mask)
        {
            x = x + attn.Forward(ln_1.forward(x), mask);
            return x + mlp.Forward(ln_2.forward(x));
        }
    }

    sealed class Gpt2Attention : nn.Module
    {
        readonly Conv1D c_attn, c_proj;
        readonly int numHeads;

        public Gpt2Attention(TransformerConfig config) : base(nameof(Gpt2Attention))
        {
            c_attn = new Conv1D(config.HiddenSize, 3 * config.HiddenSize);
            c_proj = new Conv1D(config.HiddenSize, config.HiddenSize);
            numHeads = config.NumHeads;
            RegisterComponents();
        }

        public Tensor Forward(Tensor x, Tensor? mask)
        {
            long batch = x.shape[0], length = x.shape[1], hidden = x.shape[2];
            // c_attn packs query, key and value along the last dimension; split into heads [B,H,T,D].
            var qkv = c_attn.Forward(x).view(batch, length, 3, numHeads, hidden / numHeads).permute(2, 0, 3, 1, 4);
            var y = TransformerOps.CausalAttention(qkv[0], qkv[1], qkv[2], mask);
            return c_proj.Forward(y.transpose(1, 2).reshape(batch, length, hidden));
        }
    }

    sealed class Gpt2Mlp : nn.Module
    {
        readonly Conv1D c_fc, c_proj;
        readonly Func<Tensor, Tensor> activation;

        public Gpt2Mlp(TransformerConfig config) : base(nameof(Gpt2Mlp))
        {
            c_fc = new Conv1D(config.HiddenSize, config.IntermediateSize);
            c_proj = new Conv1D(config.IntermediateSize, config.HiddenSize);
            activation = TransformerOps.Activation(config.Activation);
            RegisterComponents();
        }

        public Tensor Forward(Tensor x) => c_proj.Forward(activation(c_fc.Forward(x)));
    }

    /// <summary>OpenAI's "Conv1D": a linear layer whose weight is stored [in, out], so y = x·W + b.</summary>
    sealed class Conv1D : nn.Module
    {
        readonly Parameter weight, bias;

        public Conv1D(int inFeatures, int outFeatures) : base(nameof(Conv1D))
        {
            weight = new Parameter(empty(inFeatures, outFeatures));
            bias = new Parameter(zeros(outFeatures));
            RegisterComponents();
        }

        public Tensor Forward(Tensor x) => x.matmul(weight) + bias;
    }
}
