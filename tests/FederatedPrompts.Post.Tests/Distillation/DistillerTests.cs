using System.Text.Json.Nodes;
using FederatedPrompts.Core;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Distillation;
using static TorchSharp.torch;

namespace FederatedPrompts.Post.Tests.Distillation;

/// <summary>A 3-layer GPT-2 teacher pretrained briefly on a patterned corpus, so its predictions are far from uniform.</summary>
public sealed class TinyTeacher : IDisposable
{
    readonly TempFolder _folder = new();

    public static readonly string[] Documents = Enumerable.Range(0, 40)
        .Select(i => string.Join(" ", Enumerable.Range(0, 30).Select(j => new[] { "one", "two", "three", "four", "five" }[(i * 3 + j * j) % 5])))
        .ToArray();

    public string Dir { get; }

    public TinyTeacher()
    {
        Dir = _folder.Combine("teacher");
        PretrainJob.Run(new PretrainJobSpec
        {
            Documents = DocumentSource.Of(Documents), OutputDir = Dir, Shape = new GptShape(Layers: 3, Hidden: 32, Heads: 2, Context: 16), VocabSize = 300,
            HeldOutFraction = 0.1,
            Options = new PretrainOptions { Steps = 40, BatchSize = 8, ContextLength = 16, LearningRate = 3e-3, WarmupSteps = 5, EvalEvery = 40, CheckpointEvery = 40, EvalTokens = 256, Seed = 2 },
        });
    }

    public void Dispose() => _folder.Dispose();
}

public class DistillerTests(TinyTeacher teacher) : IClassFixture<TinyTeacher>, IDisposable
{
    readonly TempFolder _folder = new();
    public void Dispose() => _folder.Dispose();

    DistillJobSpec Spec(string outputDir, int steps, bool resume = false, bool freezeHead = false) => new()
    {
        TeacherDir = teacher.Dir, Documents = DocumentSource.Of(TinyTeacher.Documents), OutputDir = outputDir, Layers = "0,-1", HeldOutFraction = 0.1, Resume = resume,
        Options = new DistillOptions
        {
            FreezeHead = freezeHead,
            Training = new PretrainOptions { Steps = steps, BatchSize = 8, ContextLength = 16, LearningRate = 3e-3, WarmupSteps = 5, EvalEvery = 10, CheckpointEvery = 10, EvalTokens = 256, Seed = 4 },
        },
    };

    [Fact]
    public void Distillation_lowers_held_out_kd_loss_of_a_student_far_from_the_teacher()
    {
        // A layer-selected student starts close to this small teacher, so distil into a random student to see learning.
        using var t = HfCheckpoint.Load(teacher.Dir);
        using var student = HfCheckpoint.Create(t.Config with { NumLayers = 2 }, seed: 9);
        var tokenizer = TokenizerLoader.FromFolder(teacher.Dir);
        using var tokens = TokenizedCorpus.Write(DocumentSplit.Of(DocumentSource.Of(TinyTeacher.Documents), 0.1, seed: 4), tokenizer, _folder.Combine("tokens"));
        var options = Spec(_folder.Path, 40).Options;
        var state = new Distiller(t, student, options).Train(tokens.Train, tokens.HeldOut,
            new DistillState(), _folder.Combine("random-student"), _ => { });

        var curve = state.HeldOutCurve;
        Assert.Equal([0, 10, 20, 30, 40], curve.Select(p => p.Step));
        Assert.True(curve[^1].KdLoss < curve[0].KdLoss / 2, $"held-out KD loss {curve[0].KdLoss:F4} → {curve[^1].KdLoss:F4}");
        Assert.True(curve[^1].StudentPerplexity < curve[0].StudentPerplexity / 2, $"student perplexity {curve[0].StudentPerplexity:F1} → {curve[^1].StudentPerplexity:F1}");
    }

    [Fact]
    public void Job_writes_a_student_folder_with_the_teacher_tokenizer_and_a_report()
    {
        string dir = _folder.Combine("student");
        var result = DistillJob.Run(Spec(dir, 10));
        Assert.Equal([0, 10], result.State.HeldOutCurve.Select(p => p.Step));
        Assert.True(result.StudentParameters < result.TeacherParameters);
        Assert.Equal([0, 2], result.TeacherLayers);

        using var student = HfCheckpoint.Load(dir);
        Assert.Equal(2, student.Config.NumLayers);
        Assert.Equal(2, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!["n_layer"]!);
        foreach (var name in Directory.GetFiles(teacher.Dir).Select(Path.GetFileName).Where(n => n!.Contains("tokenizer")))
            Assert.Equal(File.ReadAllBytes(Path.Combine(teacher.Dir, name!)), File.ReadAllBytes(Path.Combine(dir, name!)));
        var ids = TokenizerLoader.FromFolder(dir).Encode("one two three four five");
        Assert.Equal(TokenizerLoader.FromFolder(teacher.Dir).Encode("one two three four five"), ids);
        // The folder holds the trained student, not the initial layer copy.
        using var t = HfCheckpoint.Load(teacher.Dir);
        Assert.False(t.named_parameters().First(p => p.name == "transformer.h.2.mlp.c_fc.weight").parameter
            .eq(student.named_parameters().First(p => p.name == "transformer.h.1.mlp.c_fc.weight").parameter).all().item<bool>());
        Assert.True(File.Exists(Path.Combine(dir, DistillJob.ReportFile)));
    }

    [Fact]
    public void Resumed_distillation_ends_with_the_weights_of_an_uninterrupted_run()
    {
        string straight = _folder.Combine("straight"), resumed = _folder.Combine("resumed");
        DistillJob.Run(Spec(straight, 30));

        // Interrupt the same 30-step run after step 25; the checkpoint of step 20 is what survives.
        using var interrupt = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            DistillJob.Run(Spec(resumed, 30), new SyncProgress<DistillProgress>(p => { if (p.Step == 25) interrupt.Cancel(); }), interrupt.Token));
        Assert.Equal(20, Distiller.TryLoadCheckpoint(resumed)!.Step);
        var second = DistillJob.Run(Spec(resumed, 30, resume: true));
        Assert.Equal(30, second.State.Step);
        Assert.Equal(30, second.State.TrainLosses.Count);

        using var a = HfCheckpoint.Load(straight);
        using var b = HfCheckpoint.Load(resumed);
        ModelAssert.SameParameters(a, b, "after resume");
    }

    [Fact]
    public void Frozen_head_keeps_the_teacher_head_while_the_layers_train()
    {
        string dir = _folder.Combine("frozen");
        DistillJob.Run(Spec(dir, 5, freezeHead: true));
        using var t = HfCheckpoint.Load(teacher.Dir);
        using var s = HfCheckpoint.Load(dir);
        var teacherParameters = t.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var studentParameters = s.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        string head = StudentBuilder.HeadParameterName(s.Config);   // tied: the token embedding
        Assert.True(teacherParameters[head].eq(studentParameters[head]).all().item<bool>());
        Assert.False(teacherParameters["transformer.h.0.attn.c_attn.weight"].eq(studentParameters["transformer.h.0.attn.c_attn.weight"]).all().item<bool>());
    }
}
