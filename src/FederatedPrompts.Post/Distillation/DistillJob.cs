using System.Text.Json;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using static TorchSharp.torch;

namespace FederatedPrompts.Post.Distillation;

public sealed record DistillJobSpec
{
    /// <summary>The teacher's Hugging Face folder (model and tokenizer files).</summary>
    public required string TeacherDir { get; init; }
    /// <summary>The public corpus; a file source (<see cref="TextCorpus.Open"/>) is streamed, never held.</summary>
    public required DocumentSource Documents { get; init; }
    public required string OutputDir { get; init; }
    /// <summary>Teacher layers the student keeps (see <see cref="LayerSelection"/>).</summary>
    public string Layers { get; init; } = LayerSelection.Default;
    public double HeldOutFraction { get; init; } = 0.05;
    public DistillOptions Options { get; init; } = new();
    public bool Resume { get; init; }
    public Device Device { get; init; } = CPU;
    /// <summary>Storage dtype of the final student folder (F32, F16 or BF16); checkpoints stay F32 so a resumed run is exact.</summary>
    public string OutputDType { get; init; } = "F32";
}

public sealed record DistillJobResult(string StudentDir, int[] TeacherLayers, long TeacherParameters, long StudentParameters,
    long TrainStreamTokens, long HeldOutTokens, DistillState State)
{
    public DistillEvalPoint Final => State.HeldOutCurve[^1];
}

/// <summary>
/// POST step 1: distils a teacher folder into a student made of some of its layers, on public text, and writes the student
/// as an ordinary Hugging Face folder (config.json, model.safetensors, the teacher's tokenizer files) plus
/// <c>distill_report.json</c>.
/// </summary>
public static class DistillJob
{
    public const string ReportFile = "distill_report.json";

    public static DistillJobResult Run(DistillJobSpec spec, IProgress<DistillProgress>? progress = null, CancellationToken cancel = default)
    {
        var split = DocumentSplit.Of(spec.Documents, spec.HeldOutFraction, spec.Options.Training.Seed);
        using var teacher = HfCheckpoint.Load(spec.TeacherDir, spec.Device);
        var tokenizer = TokenizerLoader.FromFolder(spec.TeacherDir);
        int[] layers = LayerSelection.Parse(spec.Layers, teacher.Config.NumLayers);
        Directory.CreateDirectory(spec.OutputDir);

        var resumed = spec.Resume ? Distiller.TryLoadCheckpoint(spec.OutputDir) : null;
        using var student = resumed is not null
            ? HfCheckpoint.Load(TrainingCheckpoint.FolderOf(spec.OutputDir), spec.Device)
            : StudentBuilder.Build(teacher, layers);
        if (student.Config.NumLayers != layers.Length)
            throw new ArgumentException($"{TrainingCheckpoint.FolderOf(spec.OutputDir)}: the checkpoint's student has {student.Config.NumLayers} layers, " +
                                        $"not the {layers.Length} of --layers {spec.Layers}");

        void SaveFolder(string dir, string dtype)
        {
            HfCheckpoint.Save(student, dir, dtype);
            TokenizerFiles.CopyAll(spec.TeacherDir, dir);
        }

        using var tokens = TokenizedCorpus.Write(split, tokenizer, Path.Combine(spec.OutputDir, TokenizedCorpus.Folder));
        var state = new Distiller(teacher, student, spec.Options)
            .Train(tokens.Train, tokens.HeldOut, resumed ?? new DistillState(), spec.OutputDir, dir => SaveFolder(dir, "F32"), progress, cancel);
        SaveFolder(spec.OutputDir, spec.OutputDType);
        var result = new DistillJobResult(spec.OutputDir, layers, teacher.parameters().Sum(p => p.numel()), student.parameters().Sum(p => p.numel()),
            tokens.Train.Length, tokens.HeldOut.Length, state);
        File.WriteAllText(Path.Combine(spec.OutputDir, ReportFile), JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        return result;
    }
}
