using System.Text.Json;
using System.Text.Json.Nodes;

namespace FederatedPrompts.Modeling.Models;

public enum ModelFamily { Gpt2, Llama }

/// <summary>
/// The architecture of a model, read from and written to a Hugging Face <c>config.json</c>. Only the keys
/// that change the computation are modelled; every other key of the file is kept verbatim in
/// <see cref="Source"/> so a saved folder round-trips.
/// </summary>
public sealed record TransformerConfig
{
    public required ModelFamily Family { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    /// <summary>Key/value heads (grouped-query attention); equals <see cref="NumHeads"/> for GPT-2.</summary>
    public int NumKvHeads { get; init; }
    public int HeadDim { get; init; }
    public required int IntermediateSize { get; init; }
    public required int MaxPositions { get; init; }
    public double NormEps { get; init; } = 1e-5;
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>Hugging Face <c>rope_scaling</c> object (null when absent), e.g. {"rope_type":"llama3",...}.</summary>
    public JsonObject? RopeScaling { get; init; }
    public bool TieWordEmbeddings { get; init; }
    /// <summary>GPT-2 <c>activation_function</c> or Llama <c>hidden_act</c>.</summary>
    public string Activation { get; init; } = "gelu_new";
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }
    /// <summary>The parsed file this config came from (empty for configs built in code).</summary>
    public JsonObject Source { get; init; } = new();

    public static TransformerConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException($"{path}: file not found");
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                   ?? throw new ModelFormatException($"{path}: not a JSON object");
        }
        catch (JsonException e) { throw new ModelFormatException($"{path}: invalid JSON ({e.Message})"); }
        return Parse(json, path);
    }

    public static TransformerConfig Parse(JsonObject json, string origin)
    {
        string modelType = json["model_type"] is JsonValue type && type.TryGetValue<string>(out var name) ? name
                           : throw new ModelFormatException($"{origin}: no \"model_type\" string");
        int Req(string key) => json[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i
                               : throw new ModelFormatException($"{origin}: missing integer \"{key}\"");
        int? Opt(string key) => json[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
        double OptD(string key, double fallback) => json[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : fallback;
        bool OptB(string key, bool fallback) => json[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : fallback;
        string? OptS(string key) => json[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

        // GPT-2 attention variants this implementation does not compute.
        if (modelType == "gpt2" && (!OptB("scale_attn_weights", true) || OptB("scale_attn_by_inverse_layer_idx", false)))
            throw new ModelFormatException($"{origin}: unsupported GPT-2 attention scaling (scale_attn_weights false or scale_attn_by_inverse_layer_idx true)");

        TransformerConfig config = modelType switch
        {
            "gpt2" => new TransformerConfig
            {
                Family = ModelFamily.Gpt2, VocabSize = Req("vocab_size"), HiddenSize = Req("n_embd"),
                NumLayers = Req("n_layer"), NumHeads = Req("n_head"), NumKvHeads = Req("n_head"),
                HeadDim = Req("n_embd") / Req("n_head"),
                // n_inner null means 4·n_embd; an unrelated "intermediate_size" key is ignored, as Hugging Face does.
                IntermediateSize = Opt("n_inner") ?? 4 * Req("n_embd"),
                MaxPositions = Req("n_positions"), NormEps = OptD("layer_norm_epsilon", 1e-5),
                TieWordEmbeddings = OptB("tie_word_embeddings", true),
                Activation = OptS("activation_function") ?? "gelu_new", AttentionBias = true, MlpBias = true,
                BosTokenId = Opt("bos_token_id"), EosTokenId = Opt("eos_token_id"), Source = json,
            },
            "llama" => new TransformerConfig
            {
                Family = ModelFamily.Llama, VocabSize = Req("vocab_size"), HiddenSize = Req("hidden_size"),
                NumLayers = Req("num_hidden_layers"), NumHeads = Req("num_attention_heads"),
                NumKvHeads = Opt("num_key_value_heads") ?? Req("num_attention_heads"),
                HeadDim = Opt("head_dim") ?? Req("hidden_size") / Req("num_attention_heads"),
                IntermediateSize = Req("intermediate_size"),
                MaxPositions = Opt("max_position_embeddings") ?? 2048, NormEps = OptD("rms_norm_eps", 1e-6),
                RopeTheta = OptD("rope_theta", 10000.0), RopeScaling = json["rope_scaling"] as JsonObject,
                TieWordEmbeddings = OptB("tie_word_embeddings", false), Activation = OptS("hidden_act") ?? "silu",
                AttentionBias = OptB("attention_bias", false), MlpBias = OptB("mlp_bias", false),
                BosTokenId = Opt("bos_token_id"), EosTokenId = Opt("eos_token_id"), Source = json,
            },
            _ => throw new ModelFormatException($"{origin}: unknown model_type \"{modelType}\" (supported: gpt2, llama)"),
        };
        config.Validate(origin);
        return config;
    }

    public void Validate(string origin)
    {
        if (VocabSize <= 0 || HiddenSize <= 0 || NumLayers <= 0 || NumHeads <= 0 || IntermediateSize <= 0 || MaxPositions <= 0)
            throw new ModelFormatException($"{origin}: sizes must be positive");
        if (NumKvHeads <= 0 || NumHeads % NumKvHeads != 0)
            throw new ModelFormatException($"{origin}: {NumHeads} attention heads are not a multiple of {NumKvHeads} key/value heads");
        if (Family == ModelFamily.Gpt2 && HiddenSize % NumHeads != 0)
            throw new ModelFormatException($"{origin}: n_embd {HiddenSize} is not divisible by n_head {NumHeads}");
        if (Family == ModelFamily.Gpt2 && (HeadDim != HiddenSize / NumHeads || NumKvHeads != NumHeads))
            throw new ModelFormatException($"{origin}: GPT-2 has n_embd/n_head = {HiddenSize / NumHeads} dimensions per head and no key/value head grouping");
        if (!TransformerOps.Activations.Contains(Activation))
            throw new ModelFormatException($"{origin}: unknown activation \"{Activation}\" (supported: {string.Join(", ", TransformerOps.Activations)})");
        if (Family == ModelFamily.Llama)
        {
            if (HeadDim <= 0 || HeadDim % 2 != 0)
                throw new ModelFormatException($"{origin}: head_dim {HeadDim} must be positive and even for rotary embeddings");
            try { LlamaModel.RopeInverseFrequencies(this); }
            catch (ModelFormatException e) { throw new ModelFormatException($"{origin}: {e.Message}"); }
        }
    }

    /// <summary>The rope_scaling type ("rope_type", or "type" in older configs); "default" when there is no scaling.</summary>
    public static string RopeType(JsonObject? ropeScaling) =>
        (ropeScaling?["rope_type"] ?? ropeScaling?["type"]) is JsonValue v && v.TryGetValue<string>(out var type) ? type : "default";

    /// <summary>The config.json to write: the source keys, overwritten with this config's values.</summary>
    public JsonObject ToJson()
    {
        var json = JsonNode.Parse(Source.ToJsonString())!.AsObject();
        void Set(string key, JsonNode? value) => json[key] = value;
        if (Family == ModelFamily.Gpt2)
        {
            Set("model_type", "gpt2"); Set("vocab_size", VocabSize); Set("n_embd", HiddenSize); Set("n_layer", NumLayers);
            Set("n_head", NumHeads); Set("n_inner", IntermediateSize == 4 * HiddenSize ? null : IntermediateSize);
            Set("n_positions", MaxPositions); Set("n_ctx", MaxPositions); Set("layer_norm_epsilon", NormEps);
            Set("activation_function", Activation); Set("tie_word_embeddings", TieWordEmbeddings);
            json["architectures"] ??= new JsonArray("GPT2LMHeadModel");
        }
        else
        {
            Set("model_type", "llama"); Set("vocab_size", VocabSize); Set("hidden_size", HiddenSize);
            Set("num_hidden_layers", NumLayers); Set("num_attention_heads", NumHeads); Set("num_key_value_heads", NumKvHeads);
            Set("head_dim", HeadDim); Set("intermediate_size", IntermediateSize); Set("max_position_embeddings", MaxPositions);
            Set("rms_norm_eps", NormEps); Set("rope_theta", RopeTheta);
            Set("rope_scaling", RopeScaling is null ? null : JsonNode.Parse(RopeScaling.ToJsonString()));
            Set("tie_word_embeddings", TieWordEmbeddings); Set("hidden_act", Activation);
            Set("attention_bias", AttentionBias); Set("mlp_bias", MlpBias);
            json["architectures"] ??= new JsonArray("LlamaForCausalLM");
        }
        if (BosTokenId is int bos) Set("bos_token_id", bos);
        if (EosTokenId is int eos) Set("eos_token_id", eos);
        return json;
    }

    public void Save(string path) =>
        File.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
}

/// <summary>A model folder or file is not what it should be; the message names the file (and tensor).</summary>
public sealed class ModelFormatException(string message) : Exception(message);
