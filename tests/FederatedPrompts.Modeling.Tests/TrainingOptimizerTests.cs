using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedPrompts.Modeling.Tests;

public class TrainingOptimizerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("optimizer").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly TransformerConfig Gpt2 = new()
    {
        Family = ModelFamily.Gpt2, VocabSize = 64, HiddenSize = 16, NumLayers = 1, NumHeads = 2, NumKvHeads = 2, HeadDim = 8,
        IntermediateSize = 32, MaxPositions = 16, TieWordEmbeddings = true, Activation = "gelu_new", AttentionBias = true, MlpBias = true,
    };

    // Untied, and with biases, so that the LM head and Llama's optional biases are covered too.
    static readonly TransformerConfig Llama = new()
    {
        Family = ModelFamily.Llama, VocabSize = 64, HiddenSize = 16, NumLayers = 1, NumHeads = 4, NumKvHeads = 2, HeadDim = 4,
        IntermediateSize = 32, MaxPositions = 16, TieWordEmbeddings = false, Activation = "silu", AttentionBias = true, MlpBias = true,
    };

    static TransformerConfig Config(string family) => family == "gpt2" ? Gpt2 : Llama;

    static readonly PretrainOptions Options = new() { LearningRate = 0.1, WeightDecay = 0.5 };

    /// <summary>The optimizer's groups as (weight decay, names of their parameters), in order.</summary>
    static List<(double WeightDecay, string[] Names)> Groups(CausalLM model, AdamW optimizer)
    {
        var names = model.named_parameters().ToDictionary(p => p.parameter.Handle, p => p.name);
        return optimizer.ParamGroups.Cast<AdamW.ParamGroup>()
            .Select(g => (g.Options.weight_decay!.Value, g.Parameters.Select(p => names[p.Handle]).Order().ToArray())).ToList();
    }

    static void AssertGroups(string[] decayed, string[] notDecayed, List<(double WeightDecay, string[] Names)> groups)
    {
        Assert.Equal([Options.WeightDecay, 0.0], groups.Select(g => g.WeightDecay));
        Assert.Equal(decayed, groups[0].Names);
        Assert.Equal(notDecayed, groups[1].Names);
    }

    [Fact]
    public void Gpt2_matrices_and_embeddings_are_decayed_its_biases_and_layer_norm_weights_are_not()
    {
        using var model = HfCheckpoint.Create(Gpt2, seed: 1);
        using var optimizer = TrainingOptimizer.Create(model.parameters().ToArray(), Options);
        string[] decayed =
        [
            "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_proj.weight", "transformer.h.0.mlp.c_fc.weight",
            "transformer.h.0.mlp.c_proj.weight", "transformer.wpe.weight", "transformer.wte.weight",
        ];
        string[] notDecayed =
        [
            "transformer.h.0.attn.c_attn.bias", "transformer.h.0.attn.c_proj.bias", "transformer.h.0.ln_1.bias", "transformer.h.0.ln_1.weight",
            "transformer.h.0.ln_2.bias", "transformer.h.0.ln_2.weight", "transformer.h.0.mlp.c_fc.bias", "transformer.h.0.mlp.c_proj.bias",
            "transformer.ln_f.bias", "transformer.ln_f.weight",
        ];
        AssertGroups(decayed, notDecayed, Groups(model, optimizer));
    }

    [Fact]
    public void Llama_matrices_and_embeddings_are_decayed_its_biases_and_rms_norm_weights_are_not()
    {
        using var model = HfCheckpoint.Create(Llama, seed: 1);
        using var optimizer = TrainingOptimizer.Create(model.parameters().ToArray(), Options);
        string[] decayed =
        [
            "lm_head.weight", "model.embed_tokens.weight", "model.layers.0.mlp.down_proj.weight", "model.layers.0.mlp.gate_proj.weight",
            "model.layers.0.mlp.up_proj.weight", "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.o_proj.weight",
            "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.v_proj.weight",
        ];
        string[] notDecayed =
        [
            "model.layers.0.input_layernorm.weight", "model.layers.0.mlp.down_proj.bias", "model.layers.0.mlp.gate_proj.bias",
            "model.layers.0.mlp.up_proj.bias", "model.layers.0.post_attention_layernorm.weight", "model.layers.0.self_attn.k_proj.bias",
            "model.layers.0.self_attn.o_proj.bias", "model.layers.0.self_attn.q_proj.bias", "model.layers.0.self_attn.v_proj.bias",
            "model.norm.weight",
        ];
        AssertGroups(decayed, notDecayed, Groups(model, optimizer));
    }

    [Theory, InlineData("gpt2"), InlineData("llama")]
    public void A_step_on_zero_gradients_shrinks_every_matrix_and_leaves_biases_and_norm_weights_as_they_were(string family)
    {
        using var model = HfCheckpoint.Create(Config(family), seed: 1);
        ModelTestSupport.Randomize(model, seed: 2);   // biases away from 0 and norm weights away from 1, where decay could hide
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using var optimizer = TrainingOptimizer.Create(model.parameters().ToArray(), Options);

        // Every parameter gets a gradient, all zero: Adam's own update is 0, so only the decay can move a parameter.
        using (var ids = tensor(new long[] { 3, 1, 4, 1, 5 }).unsqueeze(0))
            (model.Logits(ids).sum() * 0).backward();
        optimizer.step();

        const double shrink = 1 - 0.1 * 0.5;   // AdamW's decoupled decay: θ ← θ·(1 − lr·λ)
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (parameter.dim() >= 2)
                Assert.True(parameter.allclose(before[name] * shrink, rtol: 1e-6, atol: 0), $"{name} was not shrunk by {shrink}");
            else
                Assert.True(parameter.eq(before[name]).all().item<bool>(), $"{name} changed");
        }
    }

    [Fact]
    public void A_checkpoint_of_the_single_group_optimizer_is_refused_on_resume_with_the_file_named()
    {
        using var model = HfCheckpoint.Create(Gpt2, seed: 1);
        using (var singleGroup = optim.AdamW(model.parameters(), Options.LearningRate, weight_decay: Options.WeightDecay))
            TrainingCheckpoint.Save(_dir, new PretrainState { Step = 10 }, singleGroup, _ => { });
        using var optimizer = TrainingOptimizer.Create(model.parameters().ToArray(), Options);
        var error = Assert.Throws<ArgumentException>(() => TrainingCheckpoint.RestoreOptimizer(_dir, 10, optimizer));
        Assert.Contains(Path.Combine(TrainingCheckpoint.FolderOf(_dir), "optimizer.bin"), error.Message);
        Assert.Contains("older training recipe", error.Message);
    }
}
