using System.CommandLine;
using System.Diagnostics;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Distillation;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Bench;

/// <summary>One timed stage; <see cref="Flops"/> is an estimate, 0 where not estimated.</summary>
public sealed record Stage(string Name, double Seconds, double Flops = 0)
{
    public static (T Value, Stage Stage) Timed<T>(string name, Func<T> body, double flops = 0)
    {
        var clock = Stopwatch.StartNew();
        var value = body();
        return (value, new Stage(name, clock.Elapsed.TotalSeconds, flops));
    }
}

/// <summary>
/// The teacher and distilled student a benchmark runs on (<c>bench post</c>, <c>bench feddtpt</c>): their options, and the setup
/// that pretrains the teacher on --corpus and distils the student from it when their folders do not exist yet.
/// </summary>
public sealed class BenchModels
{
    readonly Option<string> _teacher = new("--teacher") { Description = "Teacher folder; pretrained on --corpus first if it does not exist", DefaultValueFactory = _ => Path.Combine("runs", "brown-teacher") };
    readonly Option<string> _corpus = new("--corpus") { Description = "Corpus for pretraining the teacher and distilling the student", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "corpora", "brown.jsonl") };
    readonly Option<int> _teacherLayers = new("--teacher-layers") { Description = "Layers of a teacher pretrained here (when --teacher does not exist)", DefaultValueFactory = _ => 4 };
    readonly Option<int> _teacherHidden = new("--teacher-hidden") { Description = "Hidden size of a teacher pretrained here", DefaultValueFactory = _ => 128 };
    readonly Option<int> _teacherHeads = new("--teacher-heads") { Description = "Attention heads of a teacher pretrained here", DefaultValueFactory = _ => 4 };
    readonly Option<int> _teacherContext = new("--teacher-context") { Description = "Context length (positions) of a teacher pretrained here", DefaultValueFactory = _ => 128 };
    readonly Option<int> _teacherSteps = new("--teacher-steps") { Description = "Pretraining steps of a teacher made here", DefaultValueFactory = _ => 1500 };
    readonly Option<string> _student = new("--student") { Description = "Student folder; distilled from the teacher first if it does not exist", DefaultValueFactory = _ => Path.Combine("runs", "brown-student") };
    readonly Option<string> _studentLayers = new("--student-layers") { Description = "Teacher layers the distilled student keeps", DefaultValueFactory = _ => "0,-1" };
    readonly Option<int> _distillSteps = new("--distill-steps") { Description = "Distillation steps of a student made here (when --student does not exist)", DefaultValueFactory = _ => 300 };

    public IEnumerable<Option> Options => [_teacher, _corpus, _teacherLayers, _teacherHidden, _teacherHeads, _teacherContext, _teacherSteps, _student, _studentLayers, _distillSteps];

    /// <summary>The teacher and student folders, made first where missing; the stages that made them (empty when both existed).</summary>
    public (string Teacher, string Student, IReadOnlyList<Stage> Setup) Ensure(ParseResult parse, int seed)
    {
        var setup = new List<Stage>();
        string teacherDir = parse.GetValue(_teacher)!, studentDir = parse.GetValue(_student)!, corpusPath = parse.GetValue(_corpus)!;
        if (!File.Exists(Path.Combine(teacherDir, HfCheckpoint.ConfigFileName)))
        {
            var shape = new GptShape(parse.GetValue(_teacherLayers), parse.GetValue(_teacherHidden), parse.GetValue(_teacherHeads), parse.GetValue(_teacherContext));
            int steps = parse.GetValue(_teacherSteps);
            setup.Add(Stage.Timed("pretrain teacher", () => ProgressViews.Pretrain(new PretrainJobSpec
            {
                Documents = TextCorpus.Open(corpusPath), OutputDir = teacherDir, Shape = shape,
                Options = new PretrainOptions { Steps = steps, ContextLength = shape.Context, CheckpointEvery = steps, EvalEvery = Math.Max(1, steps / 10), Seed = seed },
            })).Stage);
        }
        if (!File.Exists(Path.Combine(studentDir, HfCheckpoint.ConfigFileName)))
        {
            int steps = parse.GetValue(_distillSteps);
            int context = TransformerConfig.Load(Path.Combine(teacherDir, HfCheckpoint.ConfigFileName)).MaxPositions;
            setup.Add(Stage.Timed("distill student", () => ProgressViews.Distill(new DistillJobSpec
            {
                TeacherDir = teacherDir, Documents = TextCorpus.Open(corpusPath), OutputDir = studentDir, Layers = parse.GetValue(_studentLayers)!,
                Options = new DistillOptions
                {
                    Training = new PretrainOptions { Steps = steps, ContextLength = context, CheckpointEvery = steps, EvalEvery = Math.Max(1, steps / 3), Seed = seed },
                },
            })).Stage);
        }
        return (teacherDir, studentDir, setup);
    }

    /// <summary>Loads teacher and student on the CPU; they must share one tokenizer (<paramref name="why"/> says why, for the error).</summary>
    public static LoadedModels Load(string teacherDir, string studentDir, string why)
    {
        var tokenizer = TokenizerLoader.FromFolder(teacherDir);
        if (TokenizerLoader.FromFolder(studentDir).Identity != tokenizer.Identity)
            throw new UserInputException($"{teacherDir} and {studentDir} use different tokenizers; {why}");
        return new LoadedModels(HfCheckpoint.Load(teacherDir, CPU), HfCheckpoint.Load(studentDir, CPU), tokenizer);
    }

    /// <summary>A model's shape and where it came from, for a benchmark's JSON.</summary>
    public static object Describe(string dir, CausalLM model)
    {
        string? report = new[] { PretrainJob.ReportFile, DistillJob.ReportFile }.Select(f => Path.Combine(dir, f)).FirstOrDefault(File.Exists);
        return new
        {
            folder = dir, layers = model.Config.NumLayers, hidden = model.HiddenSize, context = model.Config.MaxPositions, vocab_size = model.VocabSize,
            parameters = model.parameters().Sum(p => p.numel()), training_report = report is null ? null : Path.GetFileName(report),
        };
    }
}

/// <summary>A benchmark's teacher and student, loaded, with their common tokenizer; disposing frees both models.</summary>
public sealed record LoadedModels(CausalLM Teacher, CausalLM Student, ITextTokenizer Tokenizer) : IDisposable
{
    public void Dispose()
    {
        Teacher.Dispose();
        Student.Dispose();
    }
}
