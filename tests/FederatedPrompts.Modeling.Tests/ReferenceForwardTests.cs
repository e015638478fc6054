using System.Text.Json.Nodes;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.TestSupport;
using Xunit.Abstractions;
using static FederatedPrompts.Modeling.Tests.ModelTestSupport;

namespace FederatedPrompts.Modeling.Tests;

/// <summary>The TorchSharp models against the independent plain-C# reference forward pass, logits within 1e-4.</summary>
public class ReferenceForwardTests(ITestOutputHelper output)
{
    [SharedDataFact]
    public void Tiny_random_gpt2_matches_reference()
    {
        double difference = AssertMatchesReference(SharedData.Under("models", "tiny-random-gpt2"), RandomIds(12, 1000, seed: 1));
        output.WriteLine($"max difference {difference:E3}");
    }

    [SharedDataFact]
    public void Stories260k_llama_matches_reference()
    {
        double difference = AssertMatchesReference(SharedData.Under("models", "stories260k-llama"), RandomIds(16, 512, seed: 2));
        output.WriteLine($"max difference {difference:E3}");
    }

    public static TransformerConfig Llama(int heads, int kvHeads, int headDim = 8, double theta = 10000, bool tied = false,
                                          JsonObject? ropeScaling = null, bool biases = false) => new()
    {
        Family = ModelFamily.Llama, VocabSize = 64, HiddenSize = 32, NumLayers = 2, NumHeads = heads, NumKvHeads = kvHeads,
        HeadDim = headDim, IntermediateSize = 48, MaxPositions = 128, NormEps = 1e-5, RopeTheta = theta, RopeScaling = ropeScaling,
        TieWordEmbeddings = tied, Activation = "silu", AttentionBias = biases, MlpBias = biases,
    };

    public static TransformerConfig Gpt2(string activation = "gelu_new", bool tied = true, int? inner = null) => new()
    {
        Family = ModelFamily.Gpt2, VocabSize = 64, HiddenSize = 32, NumLayers = 2, NumHeads = 4, NumKvHeads = 4, HeadDim = 8,
        IntermediateSize = inner ?? 128, MaxPositions = 64, NormEps = 1e-5, TieWordEmbeddings = tied, Activation = activation,
        AttentionBias = true, MlpBias = true,
    };

    static JsonObject Llama3Scaling() => new()
    {
        ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0,
        ["original_max_position_embeddings"] = 64,
    };

    /// <summary>Random configurations, each saved as a Hugging Face folder by the library's writer and loaded back.</summary>
    public static TheoryData<string, TransformerConfig, string, long?> Cases => new()
    {
        { "llama MHA (kv ratio 1), untied, theta 1e4", Llama(heads: 4, kvHeads: 4), "F32", null },
        { "llama GQA ratio 2, tied, theta 5e5", Llama(heads: 4, kvHeads: 2, theta: 500000, tied: true), "F32", null },
        { "llama GQA ratio 4, head_dim 12 != 32/8, llama3 rope, BF16", Llama(heads: 8, kvHeads: 2, headDim: 12, ropeScaling: Llama3Scaling()), "BF16", null },
        { "llama one kv head, linear rope, biases, F16, sharded",
          Llama(heads: 4, kvHeads: 1, ropeScaling: new JsonObject { ["type"] = "linear", ["factor"] = 2.0 }, biases: true), "F16", 4096 },
        { "gpt2 gelu_new, tied", Gpt2(), "F32", null },
        { "gpt2 gelu, untied, BF16, sharded", Gpt2("gelu", tied: false), "BF16", 8192 },
        { "gpt2 relu, n_inner 40", Gpt2("relu", inner: 40), "F32", null },
        { "gpt2 silu, F16", Gpt2("silu"), "F16", null },
        { "gpt2 gelu_pytorch_tanh, untied", Gpt2("gelu_pytorch_tanh", tied: false), "F32", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Saved_random_model_matches_reference(string description, TransformerConfig config, string dtype, long? maxShardBytes)
    {
        using var folder = new TempFolder();
        var model = HfCheckpoint.Create(config, seed: 7);
        Randomize(model, seed: 11);
        HfCheckpoint.Save(model, folder.Path, dtype, maxShardBytes);
        if (maxShardBytes is not null) Assert.True(File.Exists(folder.Combine("model.safetensors.index.json")), "expected a sharded checkpoint");

        double difference = AssertMatchesReference(folder.Path, RandomIds(14, config.VocabSize, seed: 3));
        output.WriteLine($"{description}: max difference {difference:E3}");
    }
}
