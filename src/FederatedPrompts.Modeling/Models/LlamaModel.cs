using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FederatedPrompts.Modeling.Models;

/// <summary>
/// Llama (Touvron et al. 2023) in the layout of Hugging Face's LlamaForCausalLM: RMSNorm, rotary position
/// embeddings (rotate-half layout), grouped-query attention and a SwiGLU MLP. Fields carry Hugging Face's names so
/// parameter names equal checkpoint names (<c>model.layers.0.self_attn.q_proj.weight</c>…); the lm_head exists
/// only when the head is not tied to the token embedding.
/// </summary>
public sealed class LlamaModel : CausalLM
{
    readonly LlamaBackbone model;
    readonly Linear? lm_head;

    public LlamaModel(TransformerConfig config) : base(nameof(LlamaModel), config)
    {
        if (config.Family != ModelFamily.Llama) throw new ArgumentException($"not a Llama config: {config.Family}");
        model = new LlamaBackbone(config);
        lm_head = config.TieWordEmbeddings ? null : nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
        RegisterComponents();
    }

    public override Tensor EmbedTokens(Tensor ids) => model.embed_tokens.forward(ids);

    public override Tensor HiddenStates(Tensor inputEmbeds, Tensor? attentionMask = null, Tensor? positionIds = null)
    {
        using var scope = NewDisposeScope();
        positionIds ??= DefaultPositionIds(inputEmbeds, attentionMask);
        var mask = TransformerOps.CausalPaddingMask(attentionMask, inputEmbeds.shape[1]);
        var (cos, sin) = model.rotary_emb.CosSin(positionIds);
        var x = ThroughLayers(inputEmbeds, model.layers, (layer, h) => layer.Forward(h, cos, sin, mask));
        return model.norm.Forward(x).MoveToOuterDisposeScope();
    }

    public override Tensor LmHead(Tensor hidden) => lm_head?.forward(hidden) ?? F.linear(hidden, model.embed_tokens.weight!);

    /// <summary>The parameter a checkpoint tensor loads into, or null for the rotary inv_freq buffer older checkpoints store.</summary>
    public static string? ParameterName(string checkpointName) =>
        checkpointName.EndsWith(".rotary_emb.inv_freq") ? null : checkpointName;

    /// <summary>
    /// Rotary frequencies inv_freq[i] = 1/θ^(2i/head_dim), adjusted by rope_scaling as Hugging Face's
    /// ROPE_INIT_FUNCTIONS do for "default", "linear" and "llama3" (both keep attention_factor 1).
    /// </summary>
    public static double[] RopeInverseFrequencies(TransformerConfig config)
    {
        int headDim = config.HeadDim;
        var invFreq = Enumerable.Range(0, headDim / 2).Select(i => 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / headDim)).ToArray();
        var scaling = config.RopeScaling;
        switch (TransformerConfig.RopeType(scaling))
        {
            case "default":
                return invFreq;
            case "linear":
                double linearFactor = RopeParameter(scaling!, "factor");
                return invFreq.Select(f => f / linearFactor).ToArray();
            case "llama3":
                // _compute_llama3_parameters: long wavelengths are slowed by `factor`, short ones kept, and the band
                // between interpolated smoothly.
                double factor = RopeParameter(scaling!, "factor"), lowFreqFactor = RopeParameter(scaling!, "low_freq_factor"),
                       highFreqFactor = RopeParameter(scaling!, "high_freq_factor"),
                       oldContext = RopeParameter(scaling!, "original_max_position_embeddings");
                double lowFreqWavelen = oldContext / lowFreqFactor, highFreqWavelen = oldContext / highFreqFactor;
                return invFreq.Select(f =>
                {
                    double wavelen = 2 * Math.PI / f;
                    if (wavelen < highFreqWavelen) return f;
                    if (wavelen > lowFreqWavelen) return f / factor;
                    double smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                    return (1 - smooth) * f / factor + smooth * f;
                }).ToArray();
            default:
                throw new ModelFormatException($"unsupported rope_scaling type \"{TransformerConfig.RopeType(scaling)}\"");
        }
    }

    // Via the JSON text, because a JsonValue built in code from an int does not convert to double.
    static double RopeParameter(JsonObject scaling, string key) =>
        scaling[key] is JsonValue v && v.GetValueKind() == JsonValueKind.Number
            ? double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture)
            : throw new ModelFormatException($"rope_scaling lacks numeric \"{key}\"");

    sealed class LlamaBackbone : nn.Module
    {
        public readonly Embedding embed_tokens;
        public readonly ModuleList<LlamaDecoderLayer> layers;
        public readonly RmsNorm norm;
        public readonly RotaryEmbedding rotary_emb;

        public LlamaBackbone(TransformerConfig config) : base(nameof(LlamaBackbone))
        {
            embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize);
            layers = nn.ModuleList(Enumerable.Range(0, config.NumLayers).Select(_ => new LlamaDecoderLayer(config)).ToArray());
            norm = new RmsNorm(config.HiddenSize, config.NormEps);
            rotary_emb = new RotaryEmbedding(config);
            RegisterComponents();
        }
    }

    /// <summary>
    /// cos/sin tables for given positions. Not a module: inv_freq is derived from the config, never saved, and is made
    /// on the positions' device per call (TorchSharp 0.107 does not move non-persistent buffers with the module).
    /// </summary>
    sealed class RotaryEmbedding(TransformerConfig config)
    {
        readonly float[] inverseFrequencies = RopeInverseFrequencies(config).Select(f => (float)f).ToArray();

        /// <summary>Position ids [B,T] → cos, sin [B,1,T,head_dim], both halves repeating the same frequencies.</summary>
        public (Tensor Cos, Tensor Sin) CosSin(Tensor positionIds)
        {
            var invFreq = tensor(inverseFrequencies, device: positionIds.device);
            var freqs = positionIds.to_type(ScalarType.Float32).unsqueeze(-1) * invFreq;
            var angles = cat([freqs, freqs], -1).unsqueeze(1);
            return (angles.cos(), angles.sin());
        }
    }

    /// <summary>Root-mean-square norm computed in float32: weight · x / √(mean(x²) + ε).</summary>
    sealed class RmsNorm : nn.Module
    {
        readonly Parameter weight;
        readonly double eps;

        public RmsNorm(int size, double eps) : base(nameof(RmsNorm))
        {
            weight = new Parameter(ones(size));
            this.eps = eps;
            RegisterComponents();
        }

        public Tensor Forward(Tensor x)
        {
            var x32 = x.to_type(ScalarType.Float32);
            var normalized = x32 * (x32.pow(2).mean([-1], keepdim: true) + eps).rsqrt();
            return weight * normalized.to_type(x.dtype);
        }
    }

    /// <summary>Pre-norm residual block: x + self_attn(input_layernorm(x)), then x + mlp(post_attention_layernorm(x)).</summary>
    sealed class LlamaDecoderLayer : nn.Module
    {
        readonly RmsNorm input_layernorm, post_attention_layernorm;
        readonly LlamaAttention self_attn;
        readonly LlamaMlp mlp;

        public LlamaDecoderLayer(TransformerConfig config) : base(nameof(LlamaDecoderLayer))
        {
            input_layernorm = new RmsNorm(config.HiddenSize, config.NormEps);
            self_attn = new LlamaAttention(config);
            post_attention_layernorm = new RmsNorm(config.HiddenSize, config.NormEps);
            mlp = new LlamaMlp(config);
            RegisterComponents();
        }

        public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask)
        {
            x = x + self_attn.Forward(input_layernorm.Forward(x), cos, sin, mask);
            return x + mlp.Forward(post_attention_layernorm.Forward(x));
        }
    }

    sealed class LlamaAttention : nn.Module
    {
        readonly Linear q_proj, k_proj, v_proj, o_proj;
        readonly int numHeads, numKvHeads, headDim;

        public LlamaAttention(TransformerConfig config) : base(nameof(LlamaAttention))
        {
            (numHeads, numKvHeads, headDim) = (config.NumHeads, config.NumKvHeads, config.HeadDim);
            q_proj = nn.Linear(config.HiddenSize, numHeads * headDim, hasBias: config.AttentionBias);
            k_proj = nn.Linear(config.HiddenSize, numKvHeads * headDim, hasBias: config.AttentionBias);
            v_proj = nn.Linear(config.HiddenSize, numKvHeads * headDim, hasBias: config.AttentionBias);
            o_proj = nn.Linear(numHeads * headDim, config.HiddenSize, hasBias: config.AttentionBias);
            RegisterComponents();
        }

        public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask)
        {
            long batch = x.shape[0], length = x.shape[1];
            Tensor Heads(Linear projection, int heads) => projection.forward(x).view(batch, length, heads, headDim).transpose(1, 2);
            var query = ApplyRotary(Heads(q_proj, numHeads), cos, sin);
            var key = ApplyRotary(Heads(k_proj, numKvHeads), cos, sin);
            var value = Heads(v_proj, numKvHeads);
            // Grouped-query attention: each key/value head serves numHeads/numKvHeads consecutive query heads.
            if (numKvHeads != numHeads)
            {
                key = key.repeat_interleave(numHeads / numKvHeads, dim: 1);
                value = value.repeat_interleave(numHeads / numKvHeads, dim: 1);
            }
            var y = TransformerOps.CausalAttention(query, key, value, mask);
            return o_proj.forward(y.transpose(1, 2).reshape(batch, length, numHeads * headDim));
        }

        /// <summary>x·cos + rotate_half(x)·sin, where rotate_half([x1, x2]) = [−x2, x1] over the two halves of head_dim.</summary>
        static Tensor ApplyRotary(Tensor x, Tensor cos, Tensor sin)
        {
            var halves = x.chunk(2, -1);
            var rotated = cat([-halves[1], halves[0]], -1);
            return x * cos + rotated * sin;
        }
    }

    /// <summary>SwiGLU: down_proj(act(gate_proj(x)) · up_proj(x)).</summary>
    sealed class LlamaMlp : nn.Module
    {
        readonly Linear gate_proj, up_proj, down_proj;
        readonly Func<Tensor, Tensor> activation;

        public LlamaMlp(TransformerConfig config) : base(nameof(LlamaMlp))
        {
            gate_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: config.MlpBias);
            up_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: config.MlpBias);
            down_proj = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: config.MlpBias);
            activation = TransformerOps.Activation(config.Activation);
            RegisterComponents();
        }

        public Tensor Forward(Tensor x) => down_proj.forward(activation(gate_proj.forward(x)) * up_proj.forward(x));
    }
}
