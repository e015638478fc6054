using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Post.Distillation;
using static TorchSharp.torch;

namespace FederatedPrompts.Post.Tests.Distillation;

public class StudentBuilderTests
{
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static TransformerConfig Gpt2(int layers, bool tied) => new()
    {
        Family = ModelFamily.Gpt2, VocabSize = 50, HiddenSize = 16, NumLayers = layers, NumHeads = 2, NumKvHeads = 2, HeadDim = 8,
        IntermediateSize = 64, MaxPositions = 16, TieWordEmbeddings = tied, Activation = "gelu_new", AttentionBias = true, MlpBias = true,
    };

    static TransformerConfig Llama(int layers, bool tied) => new()
    {
        Family = ModelFamily.Llama, VocabSize = 50, HiddenSize = 16, NumLayers = layers, NumHeads = 4, NumKvHeads = 2, HeadDim = 4,
        IntermediateSize = 32, MaxPositions = 32, TieWordEmbeddings = tied, Activation = "silu",
    };

    public static TheoryData<string, bool> Families => new() { { "gpt2", true }, { "gpt2", false }, { "llama", true }, { "llama", false } };

    static TransformerConfig Config(string family, int layers, bool tied) => family == "gpt2" ? Gpt2(layers, tied) : Llama(layers, tied);

    [Theory, MemberData(nameof(Families))]
    public void Student_holds_exactly_the_chosen_teacher_layers_and_the_shared_parts(string family, bool tied)
    {
        using var teacher = HfCheckpoint.Create(Config(family, 4, tied), seed: 7);
        int[] layers = LayerSelection.Parse("0,-2,-1", teacher.Config.NumLayers);
        Assert.Equal([0, 2, 3], layers);
        using var student = StudentBuilder.Build(teacher, layers);

        Assert.Equal(3, student.Config.NumLayers);
        Assert.Equal(teacher.HiddenSize, student.HiddenSize);
        var teacherParameters = teacher.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var studentParameters = student.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        string stack = family == "gpt2" ? "transformer.h" : "model.layers";
        // Every teacher tensor of a kept layer appears under the student's index; tensors outside the layers appear unchanged.
        int copied = 0;
        foreach (var (name, teacherParameter) in teacherParameters)
        {
            string? studentName = name;
            if (name.StartsWith(stack + "."))
            {
                int teacherLayer = int.Parse(name.Split('.')[2]);
                int studentLayer = Array.IndexOf(layers, teacherLayer);
                studentName = studentLayer < 0 ? null : name.Replace($"{stack}.{teacherLayer}.", $"{stack}.{studentLayer}.");
            }
            if (studentName is null) continue;
            Assert.True(Same(teacherParameter, studentParameters[studentName]), $"{studentName} is not the teacher's {name}");
            copied++;
        }
        Assert.Equal(studentParameters.Count, copied);
        // Layers differ from one another (random init), so a wrong index could not pass by accident.
        string attention = family == "gpt2" ? "attn.c_attn.weight" : "self_attn.q_proj.weight";
        Assert.False(Same(teacherParameters[$"{stack}.1.{attention}"], studentParameters[$"{stack}.1.{attention}"]));
    }

    [Theory, MemberData(nameof(Families))]
    public void Student_with_all_layers_reproduces_the_teacher_logits_exactly(string family, bool tied)
    {
        using var teacher = HfCheckpoint.Create(Config(family, 3, tied), seed: 3);
        using var student = StudentBuilder.Build(teacher, [0, 1, 2]);
        var ids = tensor(new long[] { 1, 5, 9, 2, 40, 7, 3, 3 }).reshape(2, 4);
        using var noGrad = no_grad();
        Assert.True(Same(teacher.Logits(ids), student.Logits(ids)));
    }

    [Theory]
    [InlineData("0,-1", 3, new[] { 0, 2 })]
    [InlineData("0,1,-2,-1", 4, new[] { 0, 1, 2, 3 })]
    [InlineData(" 1 , 2 ", 3, new[] { 1, 2 })]
    [InlineData("-1", 1, new[] { 0 })]
    public void Layer_specs_resolve_negative_indices_from_the_end(string spec, int teacherLayers, int[] expected) =>
        Assert.Equal(expected, LayerSelection.Parse(spec, teacherLayers));

    [Theory]
    [InlineData("0,1,-2,-1", 3, "chosen twice")]
    [InlineData("0,0", 3, "chosen twice")]
    [InlineData("3", 3, "out of range")]
    [InlineData("-4", 3, "out of range")]
    [InlineData("2,0", 3, "teacher's order")]
    [InlineData("0,x", 3, "not a layer index")]
    [InlineData("0,,1", 3, "not a layer index")]
    [InlineData("", 3, "names no layer")]
    public void Bad_layer_specs_are_rejected_with_the_reason(string spec, int teacherLayers, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => LayerSelection.Parse(spec, teacherLayers));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Head_parameter_is_the_token_embedding_when_tied()
    {
        Assert.Equal("transformer.wte.weight", StudentBuilder.HeadParameterName(Gpt2(1, tied: true)));
        Assert.Equal("lm_head.weight", StudentBuilder.HeadParameterName(Gpt2(1, tied: false)));
        Assert.Equal("model.embed_tokens.weight", StudentBuilder.HeadParameterName(Llama(1, tied: true)));
        Assert.Equal("lm_head.weight", StudentBuilder.HeadParameterName(Llama(1, tied: false)));
    }
}
