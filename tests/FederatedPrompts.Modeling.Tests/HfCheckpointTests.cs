using System.Text.Json.Nodes;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.TestSupport;
using static FederatedPrompts.Modeling.Tests.ModelTestSupport;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

public class HfCheckpointTests
{
    static Dictionary<string, float[]> Weights(CausalLM model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());

    [Fact]
    public void Create_is_deterministic_under_the_seed_with_hugging_face_init()
    {
        var config = ReferenceForwardTests.Llama(heads: 4, kvHeads: 2, biases: true);
        var first = Weights(HfCheckpoint.Create(config, seed: 3));
        var again = Weights(HfCheckpoint.Create(config, seed: 3));
        var other = Weights(HfCheckpoint.Create(config, seed: 4));
        Assert.Equal(first.Keys, again.Keys);
        foreach (var name in first.Keys) Assert.Equal(first[name], again[name]);
        Assert.NotEqual(first["model.layers.0.self_attn.q_proj.weight"], other["model.layers.0.self_attn.q_proj.weight"]);

        Assert.All(first["model.norm.weight"], w => Assert.Equal(1f, w));
        Assert.All(first["model.layers.1.self_attn.q_proj.bias"], b => Assert.Equal(0f, b));
        var embedding = first["model.embed_tokens.weight"];
        double std = Math.Sqrt(embedding.Select(w => (double)w * w).Average());
        Assert.InRange(std, 0.018, 0.022);
    }

    [Fact]
    public void Save_then_load_restores_every_parameter_and_omits_a_tied_head()
    {
        using var folder = new TempFolder();
        var model = HfCheckpoint.Create(ReferenceForwardTests.Gpt2(), seed: 1);
        HfCheckpoint.Save(model, folder.Path);

        var header = SafeTensors.ReadHeader(folder.Combine("model.safetensors"));
        Assert.DoesNotContain(header.Entries, e => e.Name == "lm_head.weight");
        Assert.Contains(header.Entries, e => e.Name == "transformer.h.1.attn.c_attn.weight" && e.Shape.SequenceEqual(new long[] { 32, 96 }));
        Assert.Equal("pt", header.Metadata["format"]);
        var config = JsonNode.Parse(File.ReadAllText(folder.Combine("config.json")))!;
        Assert.Equal("gpt2", config["model_type"]!.GetValue<string>());

        var loaded = Weights(HfCheckpoint.Load(folder.Path, CPU));
        foreach (var (name, values) in Weights(model)) Assert.Equal(values, loaded[name]);
    }

    [SharedDataFact]
    public void Gpt2_config_defaults_use_four_times_n_embd_when_n_inner_is_null()
    {
        var config = TransformerConfig.Load(SharedData.Under("models", "tiny-random-gpt2", "config.json"));
        Assert.Equal(4 * 32, config.IntermediateSize); // intermediate_size 37 is ignored
        Assert.True(config.TieWordEmbeddings);
        var model = HfCheckpoint.Load(SharedData.Under("models", "tiny-random-gpt2"));
        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(new long[] { 32, 128 }, shapes["transformer.h.0.mlp.c_fc.weight"]);
        Assert.DoesNotContain("lm_head.weight", shapes.Keys);

        var minimal = TransformerConfig.Parse(new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = 10, ["n_embd"] = 8, ["n_layer"] = 1, ["n_head"] = 2, ["n_positions"] = 16,
        }, "inline");
        Assert.Equal((32, "gelu_new", true, 1e-5), (minimal.IntermediateSize, minimal.Activation, minimal.TieWordEmbeddings, minimal.NormEps));
    }

    /// <summary>Writes a GPT-2 folder whose tensors are transformed by <paramref name="edit"/> before saving.</summary>
    static string EditedGpt2Folder(TempFolder folder, Action<Dictionary<string, Tensor>> edit)
    {
        var model = HfCheckpoint.Create(ReferenceForwardTests.Gpt2(), seed: 2);
        HfCheckpoint.Save(model, folder.Path);
        var tensors = SafeTensors.Read(folder.Combine("model.safetensors"));
        edit(tensors);
        SafeTensors.Write(folder.Combine("model.safetensors"), tensors);
        return folder.Combine("model.safetensors");
    }

    [Fact]
    public void Openai_style_names_without_prefix_and_mask_buffers_load_to_the_same_logits()
    {
        using var original = new TempFolder();
        var model = HfCheckpoint.Create(ReferenceForwardTests.Gpt2(), seed: 2);
        Randomize(model, seed: 9);
        HfCheckpoint.Save(model, original.Path);

        using var renamed = new TempFolder();
        File.Copy(original.Combine("config.json"), renamed.Combine("config.json"));
        var tensors = SafeTensors.Read(original.Combine("model.safetensors"))
            .ToDictionary(kv => kv.Key["transformer.".Length..], kv => kv.Value);
        tensors["h.0.attn.bias"] = ones(1, 1, 64, 64).tril();
        tensors["h.0.attn.masked_bias"] = tensor(-1e4f);
        SafeTensors.Write(renamed.Combine("model.safetensors"), tensors);

        var ids = RandomIds(8, 64, seed: 5);
        Assert.Equal(0, MaxAbsDifference(Logits(model, ids), Logits(HfCheckpoint.Load(renamed.Path), ids)));
    }

    [Fact]
    public void Wrong_shape_names_file_tensor_and_both_shapes()
    {
        using var folder = new TempFolder();
        string file = EditedGpt2Folder(folder, t => t["transformer.h.1.mlp.c_fc.weight"] = zeros(128, 32));
        var error = Assert.Throws<ModelFormatException>(() => HfCheckpoint.Load(folder.Path));
        Assert.Contains(file, error.Message);
        Assert.Contains("\"transformer.h.1.mlp.c_fc.weight\"", error.Message);
        Assert.Contains("[128, 32]", error.Message);
        Assert.Contains("expected [32, 128]", error.Message);
    }

    [Fact]
    public void Missing_and_unexpected_tensors_are_errors()
    {
        using (var folder = new TempFolder())
        {
            EditedGpt2Folder(folder, t => t.Remove("transformer.ln_f.bias"));
            var error = Assert.Throws<ModelFormatException>(() => HfCheckpoint.Load(folder.Path));
            Assert.Contains("model.safetensors", error.Message);
            Assert.Contains("missing tensor \"transformer.ln_f.bias\"", error.Message);
        }
        using (var folder = new TempFolder())
        {
            string file = EditedGpt2Folder(folder, t => t["transformer.h.7.ln_1.weight"] = ones(32));
            var error = Assert.Throws<ModelFormatException>(() => HfCheckpoint.Load(folder.Path));
            Assert.Contains(file, error.Message);
            Assert.Contains("unexpected tensor \"transformer.h.7.ln_1.weight\"", error.Message);
        }
    }

    [Fact]
    public void Missing_files_unknown_model_type_and_truncated_header_are_model_format_errors()
    {
        using var folder = new TempFolder();
        var missingConfig = Assert.Throws<ModelFormatException>(() => HfCheckpoint.Load(folder.Path));
        Assert.Contains(folder.Combine("config.json"), missingConfig.Message);

        HfCheckpoint.Save(HfCheckpoint.Create(ReferenceForwardTests.Gpt2(), seed: 1), folder.Path);
        string weights = folder.Combine("model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..40]); // cut inside the JSON header
        var truncated = Assert.Throws<ModelFormatException>(() => HfCheckpoint.Load(folder.Path));
        Assert.Contains(weights, truncated.Message);
        File.Delete(weights);
        Assert.Contains(weights, Assert.Throws<ModelFormatException>(() => HfCheckpoint.Load(folder.Path)).Message);

        string configPath = folder.Combine("config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["model_type"] = "bert";
        File.WriteAllText(configPath, config.ToJsonString());
        var unknown = Assert.Throws<ModelFormatException>(() => HfCheckpoint.Load(folder.Path));
        Assert.Contains(configPath, unknown.Message);
        Assert.Contains("unknown model_type \"bert\"", unknown.Message);
    }

    [Fact]
    public void Unsupported_or_malformed_config_values_are_rejected_at_config_load()
    {
        var llama = ReferenceForwardTests.Llama(heads: 4, kvHeads: 2).ToJson();
        llama["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 };
        Assert.Contains("yarn", Assert.Throws<ModelFormatException>(() => TransformerConfig.Parse(llama, "llama.json")).Message);

        var gpt2 = ReferenceForwardTests.Gpt2().ToJson();
        gpt2["activation_function"] = "mish";
        Assert.Contains("mish", Assert.Throws<ModelFormatException>(() => TransformerConfig.Parse(gpt2, "gpt2.json")).Message);

        var scaledByLayer = ReferenceForwardTests.Gpt2().ToJson();
        scaledByLayer["scale_attn_by_inverse_layer_idx"] = true;
        Assert.Contains("scale_attn_by_inverse_layer_idx", Assert.Throws<ModelFormatException>(() => TransformerConfig.Parse(scaledByLayer, "gpt2.json")).Message);

        var textSize = ReferenceForwardTests.Gpt2().ToJson();
        textSize["n_embd"] = "32";
        Assert.Contains("\"n_embd\"", Assert.Throws<ModelFormatException>(() => TransformerConfig.Parse(textSize, "gpt2.json")).Message);
    }
}
