using System.Text.RegularExpressions;
using FederatedPrompts.Modeling.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedPrompts.Post.Distillation;

/// <summary>
/// Builds a student from a teacher by layer selection (as DistilBERT initialises its student): the teacher's embeddings
/// (token, and position for GPT-2), final norm and LM head, plus the chosen decoder layers, with the same hidden size so
/// soft prompts tuned on the student keep their dimension. Works for every family through Hugging Face parameter names:
/// student layer i is teacher layer <c>layers[i]</c> (<c>transformer.h.{i}.</c> / <c>model.layers.{i}.</c>).
/// </summary>
public static partial class StudentBuilder
{
    /// <summary>A new student on the teacher's device, in eval mode; <paramref name="layers"/> are resolved teacher indices.</summary>
    public static CausalLM Build(CausalLM teacher, IReadOnlyList<int> layers)
    {
        if (layers.Count == 0) throw new ArgumentException("a student needs at least one layer");
        var config = teacher.Config with { NumLayers = layers.Count };
        var student = HfCheckpoint.Create(config, seed: 0);   // every parameter is overwritten from the teacher below
        var teacherParameters = teacher.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            var device = teacherParameters.Values.First().device;
            student.to(device);
            foreach (var (name, parameter) in student.named_parameters())
                parameter.copy_(teacherParameters[TeacherParameterName(name, layers)]);
        }
        student.eval();
        return student;
    }

    /// <summary>The teacher parameter a student parameter is copied from: the layer index renamed, everything else equal.</summary>
    public static string TeacherParameterName(string studentName, IReadOnlyList<int> layers) =>
        LayerIndex().Replace(studentName, m => $"{m.Groups["stack"].Value}.{layers[int.Parse(m.Groups["index"].Value)]}.", 1);

    /// <summary>
    /// The parameter the LM head computes with: <c>lm_head.weight</c>, or with tied embeddings the token embedding itself
    /// (so freezing a tied head also freezes the input embeddings).
    /// </summary>
    public static string HeadParameterName(TransformerConfig config) => (config.TieWordEmbeddings, config.Family) switch
    {
        (false, _) => "lm_head.weight",
        (true, ModelFamily.Gpt2) => "transformer.wte.weight",
        (true, ModelFamily.Llama) => "model.embed_tokens.weight",
        _ => throw new ArgumentException($"unknown model family {config.Family}"),
    };

    [GeneratedRegex(@"^(?<stack>transformer\.h|model\.layers)\.(?<index>\d+)\.")]
    private static partial Regex LayerIndex();
}
