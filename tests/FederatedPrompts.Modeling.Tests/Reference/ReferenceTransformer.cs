using System.Text.Json.Nodes;

namespace FederatedPrompts.Modeling.Tests.Reference;

/// <summary>
/// Plain C# forward passes of GPT-2 and Llama, one token at a time in double precision, written straight from the
/// published definitions (GPT-2: Radford et al. 2019 / Hugging Face GPT2LMHeadModel; Llama: Touvron et al. 2023 /
/// Hugging Face LlamaForCausalLM) with no TorchSharp, to check the library's models against.
/// </summary>
public static class ReferenceTransformer
{
    /// <summary>Logits [T][V] for one unpadded sequence at positions 0..T−1.</summary>
    public static double[][] Logits(ReferenceCheckpoint checkpoint, int[] ids) =>
        checkpoint.Config["model_type"]!.GetValue<string>() switch
        {
            "gpt2" => Gpt2(checkpoint, ids),
            "llama" => Llama(checkpoint, ids),
            var other => throw new NotSupportedException(other),
        };

    static double[][] Gpt2(ReferenceCheckpoint checkpoint, int[] ids)
    {
        var config = checkpoint.Config;
        int hidden = Int(config, "n_embd"), heads = Int(config, "n_head"), layers = Int(config, "n_layer");
        double eps = Double(config, "layer_norm_epsilon", 1e-5);
        var activation = Activation(config["activation_function"]?.GetValue<string>() ?? "gelu_new");
        float[] W(string name) => checkpoint.Tensors["transformer." + name];
        int headDim = hidden / heads, inner = W("h.0.mlp.c_fc.bias").Length;

        var x = ids.Select((id, position) =>
            Enumerable.Range(0, hidden).Select(i => (double)W("wte.weight")[id * hidden + i] + W("wpe.weight")[position * hidden + i]).ToArray()).ToArray();
        for (int layer = 0; layer < layers; layer++)
        {
            string p = $"h.{layer}.";
            var qkv = x.Select(v => Conv1D(LayerNorm(v, W(p + "ln_1.weight"), W(p + "ln_1.bias"), eps), W(p + "attn.c_attn.weight"), W(p + "attn.c_attn.bias"), 3 * hidden)).ToArray();
            var q = qkv.Select(v => v[..hidden]).ToArray();
            var k = qkv.Select(v => v[hidden..(2 * hidden)]).ToArray();
            var val = qkv.Select(v => v[(2 * hidden)..]).ToArray();
            var attended = CausalAttention(q, k, val, heads, heads, headDim);
            x = Add(x, attended.Select(v => Conv1D(v, W(p + "attn.c_proj.weight"), W(p + "attn.c_proj.bias"), hidden)).ToArray());
            var mlp = x.Select(v =>
            {
                var h = Conv1D(LayerNorm(v, W(p + "ln_2.weight"), W(p + "ln_2.bias"), eps), W(p + "mlp.c_fc.weight"), W(p + "mlp.c_fc.bias"), inner);
                return Conv1D(h.Select(activation).ToArray(), W(p + "mlp.c_proj.weight"), W(p + "mlp.c_proj.bias"), hidden);
            }).ToArray();
            x = Add(x, mlp);
        }
        var head = checkpoint.Tensors.GetValueOrDefault("lm_head.weight") ?? W("wte.weight");
        return x.Select(v => Linear(LayerNorm(v, W("ln_f.weight"), W("ln_f.bias"), eps), head, null, head.Length / hidden)).ToArray();
    }

    static double[][] Llama(ReferenceCheckpoint checkpoint, int[] ids)
    {
        var config = checkpoint.Config;
        int hidden = Int(config, "hidden_size"), heads = Int(config, "num_attention_heads"), layers = Int(config, "num_hidden_layers");
        int kvHeads = config["num_key_value_heads"]?.GetValue<int>() ?? heads;
        int headDim = config["head_dim"]?.GetValue<int>() ?? hidden / heads;
        double eps = Double(config, "rms_norm_eps", 1e-6);
        var activation = Activation(config["hidden_act"]?.GetValue<string>() ?? "silu");
        var invFreq = RopeInverseFrequencies(config, headDim);
        var w = checkpoint.Tensors;
        float[]? Bias(string name) => w.GetValueOrDefault(name);
        int inner = w["model.layers.0.mlp.up_proj.weight"].Length / hidden;

        var x = ids.Select(id => Enumerable.Range(0, hidden).Select(i => (double)w["model.embed_tokens.weight"][id * hidden + i]).ToArray()).ToArray();
        for (int layer = 0; layer < layers; layer++)
        {
            string p = $"model.layers.{layer}.";
            var normed = x.Select(v => RmsNorm(v, w[p + "input_layernorm.weight"], eps)).ToArray();
            double[][] Project(string name, int outputs) =>
                normed.Select(v => Linear(v, w[p + name + ".weight"], Bias(p + name + ".bias"), outputs)).ToArray();
            var q = Project("self_attn.q_proj", heads * headDim);
            var k = Project("self_attn.k_proj", kvHeads * headDim);
            var val = Project("self_attn.v_proj", kvHeads * headDim);
            for (int t = 0; t < ids.Length; t++)
            {
                Rotate(q[t], heads, headDim, invFreq, t);
                Rotate(k[t], kvHeads, headDim, invFreq, t);
            }
            var attended = CausalAttention(q, k, val, heads, kvHeads, headDim);
            x = Add(x, attended.Select(v => Linear(v, w[p + "self_attn.o_proj.weight"], Bias(p + "self_attn.o_proj.bias"), hidden)).ToArray());
            var mlp = x.Select(v =>
            {
                var n = RmsNorm(v, w[p + "post_attention_layernorm.weight"], eps);
                var gate = Linear(n, w[p + "mlp.gate_proj.weight"], Bias(p + "mlp.gate_proj.bias"), inner);
                var up = Linear(n, w[p + "mlp.up_proj.weight"], Bias(p + "mlp.up_proj.bias"), inner);
                var product = gate.Select((g, i) => activation(g) * up[i]).ToArray();
                return Linear(product, w[p + "mlp.down_proj.weight"], Bias(p + "mlp.down_proj.bias"), hidden);
            }).ToArray();
            x = Add(x, mlp);
        }
        var head = w.GetValueOrDefault("lm_head.weight") ?? w["model.embed_tokens.weight"];
        return x.Select(v => Linear(RmsNorm(v, w["model.norm.weight"], eps), head, null, head.Length / hidden)).ToArray();
    }

    /// <summary>Hugging Face rope: inv_freq[i] = θ^(−2i/d), with "linear" and "llama3" (_compute_llama3_parameters) scaling.</summary>
    static double[] RopeInverseFrequencies(JsonObject config, int headDim)
    {
        double theta = Double(config, "rope_theta", 10000);
        var invFreq = new double[headDim / 2];
        for (int i = 0; i < invFreq.Length; i++) invFreq[i] = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
        if (config["rope_scaling"] is not JsonObject scaling) return invFreq;
        string type = (scaling["rope_type"] ?? scaling["type"])!.GetValue<string>();
        double factor = scaling["factor"]!.GetValue<double>();
        if (type == "linear") return invFreq.Select(f => f / factor).ToArray();
        if (type != "llama3") throw new NotSupportedException(type);
        double low = scaling["low_freq_factor"]!.GetValue<double>(), high = scaling["high_freq_factor"]!.GetValue<double>();
        double original = scaling["original_max_position_embeddings"]!.GetValue<double>();
        for (int i = 0; i < invFreq.Length; i++)
        {
            double wavelength = 2 * Math.PI / invFreq[i];
            double scaled = wavelength > original / low ? invFreq[i] / factor : invFreq[i];
            bool medium = !(wavelength < original / high) && !(wavelength > original / low);
            if (medium)
            {
                double smooth = (original / wavelength - low) / (high - low);
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            invFreq[i] = scaled;
        }
        return invFreq;
    }

    /// <summary>In place, per head: (x1, x2) → (x1·cos − x2·sin, x2·cos + x1·sin) for the two halves of the head.</summary>
    static void Rotate(double[] vector, int heads, int headDim, double[] invFreq, int position)
    {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
            {
                int a = h * headDim + i, b = a + half;
                double angle = position * invFreq[i], cos = Math.Cos(angle), sin = Math.Sin(angle);
                (vector[a], vector[b]) = (vector[a] * cos - vector[b] * sin, vector[b] * cos + vector[a] * sin);
            }
    }

    /// <summary>softmax(q·k/√d) over keys 0..t for each query t; query head h reads key/value head h/(heads/kvHeads).</summary>
    static double[][] CausalAttention(double[][] q, double[][] k, double[][] v, int heads, int kvHeads, int headDim)
    {
        int length = q.Length, group = heads / kvHeads;
        var output = new double[length][];
        for (int t = 0; t < length; t++)
        {
            output[t] = new double[heads * headDim];
            for (int h = 0; h < heads; h++)
            {
                int kvOffset = h / group * headDim, qOffset = h * headDim;
                var scores = new double[t + 1];
                for (int s = 0; s <= t; s++)
                {
                    double dot = 0;
                    for (int i = 0; i < headDim; i++) dot += q[t][qOffset + i] * k[s][kvOffset + i];
                    scores[s] = dot / Math.Sqrt(headDim);
                }
                double max = scores.Max(), total = scores.Sum(score => Math.Exp(score - max));
                for (int s = 0; s <= t; s++)
                {
                    double weight = Math.Exp(scores[s] - max) / total;
                    for (int i = 0; i < headDim; i++) output[t][qOffset + i] += weight * v[s][kvOffset + i];
                }
            }
        }
        return output;
    }

    static double[] LayerNorm(double[] x, float[] weight, float[] bias, double eps)
    {
        double mean = x.Average(), variance = x.Select(v => (v - mean) * (v - mean)).Average();
        return x.Select((v, i) => (v - mean) / Math.Sqrt(variance + eps) * weight[i] + bias[i]).ToArray();
    }

    static double[] RmsNorm(double[] x, float[] weight, double eps)
    {
        double rms = Math.Sqrt(x.Select(v => v * v).Average() + eps);
        return x.Select((v, i) => v / rms * weight[i]).ToArray();
    }

    /// <summary>PyTorch Linear: weight [out, in], y = W·x + b.</summary>
    static double[] Linear(double[] x, float[] weight, float[]? bias, int outputs)
    {
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = bias?[o] ?? 0;
            for (int i = 0; i < x.Length; i++) sum += weight[o * x.Length + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    /// <summary>OpenAI Conv1D: weight [in, out], y = x·W + b.</summary>
    static double[] Conv1D(double[] x, float[] weight, float[] bias, int outputs)
    {
        var y = bias.Select(b => (double)b).ToArray();
        for (int i = 0; i < x.Length; i++)
            for (int o = 0; o < outputs; o++) y[o] += x[i] * weight[i * outputs + o];
        return y;
    }

    static double[][] Add(double[][] a, double[][] b) => a.Select((row, t) => row.Select((v, i) => v + b[t][i]).ToArray()).ToArray();

    static Func<double, double> Activation(string name) => name switch
    {
        "gelu_new" or "gelu_pytorch_tanh" => x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        "gelu" => x => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        "relu" => x => Math.Max(0, x),
        "silu" or "swish" => x => x / (1 + Math.Exp(-x)),
        _ => throw new NotSupportedException(name),
    };

    /// <summary>Error function (Abramowitz &amp; Stegun 7.1.26, absolute error below 1.5e-7).</summary>
    static double Erf(double x)
    {
        double t = 1 / (1 + 0.3275911 * Math.Abs(x));
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double y = 1 - poly * Math.Exp(-x * x);
        return x >= 0 ? y : -y;
    }

    static int Int(JsonObject config, string key) => config[key]!.GetValue<int>();
    static double Double(JsonObject config, string key, double fallback) => config[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : fallback;
}
