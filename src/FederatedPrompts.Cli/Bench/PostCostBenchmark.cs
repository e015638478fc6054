using System.CommandLine;
using System.Diagnostics;
using FederatedPrompts.Core;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Distillation;
using FederatedPrompts.Post.Transfer;
using FederatedPrompts.Post.Tuning;
using ScottPlot;
using Spectre.Console;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// <c>fedprompt bench post-cost</c>: the cost of POST's stages at a GPT-2-small shape (12 × 768, 12 heads, context 128, the
/// tokenizer's vocabulary) with random weights, since cost does not depend on the weights' values: prompt tuning on the
/// distilled student, the transfer's fixed forward passes and its steps on the teacher, against full prompt tuning on the
/// teacher. Each stage runs a few steps of the library's own code (SoftPromptTuner, PromptTransfer), timed from their
/// progress reports, and is extrapolated to the stage's example counts; FLOPs come from <c>bench post</c>'s estimator.
/// </summary>
public static class PostCostBenchmark
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "Tokenizer folder; its vocabulary is the models'", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "models", "gpt2-tokenizer") };
        var task = new Option<string>("--task") { Description = "Labeled JSONL whose texts (and labels) feed the timed steps", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "tasks", "sst2", "train.jsonl") };
        var preset = new Option<string>("--preset") { Description = "Template and label words", DefaultValueFactory = _ => "sst2" };
        var layers = new Option<int>("--layers") { Description = "Layers of the GPT-2-shaped teacher (random weights)", DefaultValueFactory = _ => 12 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size of the teacher", DefaultValueFactory = _ => 768 };
        var heads = new Option<int>("--heads") { Description = "Attention heads of the teacher", DefaultValueFactory = _ => 12 };
        var context = new Option<int>("--context") { Description = "Context length (positions) of the teacher", DefaultValueFactory = _ => 128 };
        var studentLayers = new Option<string>("--student-layers") { Description = "Teacher layers the student keeps, as distill --layers", DefaultValueFactory = _ => LayerSelection.Default };
        var promptLength = new Option<int>("--prompt-length") { Description = "Soft prompt length (vectors)", DefaultValueFactory = _ => 100 };
        var batch = new Option<int>("--batch-size") { Description = "Examples per tuning step", DefaultValueFactory = _ => 8 };
        var steps = new Option<int>("--steps") { Description = "Timed steps per stage (after one untimed step)", DefaultValueFactory = _ => 4 };
        var examples = new Option<int>("--examples") { Description = "Extrapolation: private training examples of prompt tuning", DefaultValueFactory = _ => 6920 };
        var epochs = new Option<int>("--epochs") { Description = "Extrapolation: epochs of prompt tuning (student and full)", DefaultValueFactory = _ => 5 };
        var publicTexts = new Option<int>("--public") { Description = "Extrapolation: public texts of the transfer", DefaultValueFactory = _ => 200 };
        var transferSteps = new Option<int>("--transfer-steps") { Description = "Extrapolation: transfer steps of --batch-size texts", DefaultValueFactory = _ => 200 };
        var output = new Option<string>("--out") { Description = "Results folder", DefaultValueFactory = _ => Path.Combine("bench", "results") };
        var seed = CommonOptions.Seed();
        var command = new Command("post-cost", "Cost of POST's stages against full prompt tuning at GPT-2-small shape (random weights)")
        {
            tokenizer, task, preset, layers, hidden, heads, context, studentLayers, promptLength, batch, steps, examples, epochs, publicTexts, transferSteps, output, seed,
        };
        command.SetAction(parse =>
        {
            int Positive(Option<int> option) => parse.GetValue(option) is > 0 and var v ? v : throw new UserInputException($"{option.Name} must be positive");
            var shape = new GptShape(Positive(layers), Positive(hidden), Positive(heads), Positive(context));
            if (shape.Hidden % shape.Heads != 0) throw new UserInputException($"--hidden {shape.Hidden} is not divisible by --heads {shape.Heads}");
            var settings = new Settings(shape, parse.GetValue(studentLayers)!, Positive(promptLength), Positive(batch), Positive(steps),
                new Counts(Positive(examples), Positive(epochs), Positive(publicTexts), Positive(transferSteps)), parse.GetValue(seed));
            if (settings.PromptLength + 2 > shape.Context)
                throw new UserInputException($"--prompt-length {settings.PromptLength} leaves no room for text in --context {shape.Context}");
            var result = Run(TokenizerLoader.FromFolder(parse.GetValue(tokenizer)!), parse.GetValue(task)!, TaskPreset.Get(parse.GetValue(preset)!), settings);
            var files = Report(result, settings).Write(parse.GetValue(output)!, result, plot => Plot(plot, result));
            AnsiConsole.MarkupLine($"POST / full PT: [bold]{result.RatioFlops:F3}[/] in FLOPs, [bold]{result.RatioSeconds:F3}[/] in wall-clock " +
                                   $"(target ≤ 1/6 = {Target:F3}; floor from the student alone {result.StudentFloor:F3})");
            foreach (var file in files) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(file)}[/]");
            return 0;
        });
        return command;
    }

    /// <summary>The paper's GPT2-XL cost (POST 409 min against full prompt tuning's 2,660) is under 1/6.</summary>
    const double Target = 1.0 / 6;

    /// <summary>What the totals are extrapolated to: epochs × examples of tuning, public texts and steps of the transfer.</summary>
    public sealed record Counts(int Examples, int Epochs, int PublicTexts, int TransferSteps);

    sealed record Settings(GptShape Shape, string StudentLayers, int PromptLength, int BatchSize, int Steps, Counts Counts, int Seed);

    /// <summary>One stage: measured per unit (an example, or a public text for the fixed passes), and extrapolated to <see cref="Units"/>.</summary>
    public sealed record StageCost(string Stage, bool Post, double FlopsPerUnit, double SecondsPerUnit, IReadOnlyList<double> StepSeconds, long Units)
    {
        public double TotalFlops => FlopsPerUnit * Units;
        public double TotalSeconds => SecondsPerUnit * Units;
    }

    public sealed record Result(object Teacher, object Student, int PromptLength, int BatchSize, int TimedSteps, double MeanPositions, Counts Counts,
        IReadOnlyList<StageCost> Stages, double RatioFlops, double RatioSeconds, double StudentFloor, double Target, bool TargetMetFlops, bool TargetMetSeconds,
        int Threads, int ProcessorCount);

    static Result Run(ITextTokenizer tokenizer, string taskPath, TaskPreset preset, Settings s)
    {
        var config = s.Shape.ToConfig(tokenizer.VocabSize, tokenizer);
        AnsiConsole.MarkupLine($"[bold]post-cost[/]: teacher {config.NumLayers} × {config.HiddenSize}, vocabulary {config.VocabSize}, context {config.MaxPositions}, random weights");
        using var teacher = HfCheckpoint.Create(config, s.Seed);
        using var student = StudentBuilder.Build(teacher, LayerSelection.Parse(s.StudentLayers, config.NumLayers));
        var (teacherFlops, studentFlops) = (PostBenchmark.FlopModel.Of(teacher), PostBenchmark.FlopModel.Of(student));

        // One untimed step then the timed ones, each of a full batch.
        int needed = (s.Steps + 1) * s.BatchSize;
        var data = TaskFile.Load(taskPath).RequireAtLeastTwoClasses();
        if (data.Count < needed) throw new UserInputException($"{taskPath}: {data.Count} examples, fewer than the {needed} of {s.Steps + 1} steps of {s.BatchSize}");
        data = data.Sample(needed, s.Seed);
        preset.Verbalizer.RequireCovers(data.Labels);
        var labels = data.Labels;
        PromptedClassifier Classifier(CausalLM model) => new(model, tokenizer, labels, labels.Select(preset.Verbalizer.WordsFor).ToList(), preset.Template.Render);
        var (teacherClassifier, studentClassifier) = (Classifier(teacher), Classifier(student));
        var examples = data.Examples.Select(e => (e.Text, labels.ToList().IndexOf(e.Label))).ToList();
        var texts = data.Examples.Select(e => e.Text).ToList();

        // FLOPs per example from bench post's estimator, on the positions these texts actually fill.
        var prompted = PostBenchmark.InputWorkload(tokenizer, config.MaxPositions, preset.Template, texts, s.PromptLength);
        var plain = PostBenchmark.InputWorkload(tokenizer, config.MaxPositions, preset.Template, texts, 0);
        double perText = texts.Count;
        var c = s.Counts;
        long tuned = (long)c.Examples * c.Epochs;
        var tuning = new TuneOptions { PromptLength = s.PromptLength, Epochs = 1, BatchSize = s.BatchSize, LearningRate = 1e-3, Seed = s.Seed };

        var studentTuning = TimeTuning("student prompt tuning", student, studentClassifier, tokenizer, tuning, examples, s.BatchSize, out var studentPrompt);
        var stages = new List<StageCost>
        {
            new(studentTuning.Name, true, studentFlops.Train(prompted) / perText, studentTuning.SecondsPerExample, studentTuning.StepSeconds, tuned),
        };
        var transfer = TimeTransfer(teacherClassifier, studentClassifier, teacher, tokenizer, studentPrompt, texts, s);
        stages.Add(new("transfer: fixed passes (student with and without p_s, teacher without)", true,
            (studentFlops.Forward(prompted) + studentFlops.Forward(plain) + teacherFlops.Forward(plain)) / perText,
            transfer.FixedSecondsPerText, [transfer.FixedSeconds], c.PublicTexts));
        stages.Add(new("transfer: steps on the teacher", true, teacherFlops.Train(prompted) / perText, transfer.SecondsPerExample, transfer.StepSeconds,
            (long)c.TransferSteps * s.BatchSize));
        var teacherTuning = TimeTuning("teacher full prompt tuning", teacher, teacherClassifier, tokenizer, tuning, examples, s.BatchSize, out _);
        stages.Add(new(teacherTuning.Name, false, teacherFlops.Train(prompted) / perText, teacherTuning.SecondsPerExample, teacherTuning.StepSeconds, tuned));

        var full = stages.Single(st => !st.Post);
        double ratioFlops = stages.Where(st => st.Post).Sum(st => st.TotalFlops) / full.TotalFlops;
        double ratioSeconds = stages.Where(st => st.Post).Sum(st => st.TotalSeconds) / full.TotalSeconds;
        double floor = stages[0].FlopsPerUnit / full.FlopsPerUnit;
        return new Result(Describe(teacher, teacherFlops), Describe(student, studentFlops), s.PromptLength, s.BatchSize, s.Steps, (double)prompted.Tokens / prompted.Inputs,
            c, stages, ratioFlops, ratioSeconds, floor, Target, ratioFlops <= Target, ratioSeconds <= Target, get_num_threads(), Environment.ProcessorCount);
    }

    static object Describe(CausalLM model, PostBenchmark.FlopModel flops) => new
    {
        layers = model.Config.NumLayers, hidden = model.HiddenSize, heads = model.Config.NumHeads, vocab_size = model.VocabSize, context = model.Config.MaxPositions,
        parameters = model.parameters().Sum(p => p.numel()), body_parameters = flops.BodyParameters, head_parameters = flops.HeadParameters,
    };

    sealed record Timing(string Name, double SecondsPerExample, IReadOnlyList<double> StepSeconds);

    /// <summary>Runs the tuner for one untimed and the timed steps (one epoch over exactly that many batches); seconds per example of the timed steps.</summary>
    static Timing TimeTuning(string name, CausalLM model, PromptedClassifier classifier, ITextTokenizer tokenizer, TuneOptions options,
        IReadOnlyList<(string Text, int Label)> examples, int batchSize, out Tensor prompt)
    {
        AnsiConsole.MarkupLine($"  {name}: {examples.Count / batchSize} steps of {batchSize}");
        var laps = Laps(out var report);
        var result = new SoftPromptTuner(model, tokenizer, classifier, options).Tune(examples, new SyncProgress<TuneProgress>(_ => report()));
        prompt = result.Prompt;
        var timed = laps.Skip(1).ToList();
        return new Timing(name, timed.Average() / batchSize, timed);
    }

    sealed record TransferTiming(double FixedSeconds, double FixedSecondsPerText, double SecondsPerExample, IReadOnlyList<double> StepSeconds);

    /// <summary>
    /// Runs the transfer on the timing texts for one untimed and the timed steps. Its fixed forward passes run before its first
    /// step, so they are the time to the first report less one mean timed step.
    /// </summary>
    static TransferTiming TimeTransfer(PromptedClassifier teacher, PromptedClassifier student, CausalLM teacherModel, ITextTokenizer tokenizer,
        Tensor studentPrompt, IReadOnlyList<string> texts, Settings s)
    {
        AnsiConsole.MarkupLine($"  transfer: fixed passes over {texts.Count} texts, {s.Steps + 1} steps of {s.BatchSize}");
        var options = new TransferOptions { Steps = s.Steps + 1, BatchSize = s.BatchSize, Alpha = 0.5, Seed = s.Seed };
        string file = Path.Combine(Directory.CreateTempSubdirectory("fedprompt-post-cost").FullName, "public.jsonl");
        try
        {
            File.WriteAllLines(file, texts.Select(text => System.Text.Json.JsonSerializer.Serialize(new { text })));
            var laps = Laps(out var report);
            new PromptTransfer(teacher, student, options).Run(PublicTexts.Load(file), studentPrompt,
                SoftPromptInit.Embed(teacherModel, tokenizer, s.PromptLength, null, s.Seed), progress: new SyncProgress<TransferProgress>(_ => report()));
            var timed = laps.Skip(1).ToList();
            double fixedSeconds = Math.Max(0, laps[0] - timed.Average());
            return new TransferTiming(fixedSeconds, fixedSeconds / texts.Count, timed.Average() / s.BatchSize, timed);
        }
        finally { Directory.Delete(Path.GetDirectoryName(file)!, recursive: true); }
    }

    /// <summary>Seconds between successive progress reports, the first counted from now.</summary>
    static List<double> Laps(out Action report)
    {
        var laps = new List<double>();
        var clock = Stopwatch.StartNew();
        report = () => { laps.Add(clock.Elapsed.TotalSeconds); clock.Restart(); };
        return laps;
    }

    static BenchReport Report(Result r, Settings s)
    {
        string Seconds(double x) => x >= 3600 ? $"{x / 3600:F1} h" : x >= 60 ? $"{x / 60:F1} min" : $"{x:F1} s";
        var c = r.Counts;
        return new BenchReport("post-cost", "POST cost at GPT-2-small shape")
            .Paragraph($"Teacher {s.Shape.Layers} layers × {s.Shape.Hidden} hidden, {s.Shape.Heads} heads, context {s.Shape.Context}, random weights " +
                       $"(cost does not depend on their values); student = teacher layers {s.StudentLayers} with the teacher's embeddings and head, as POST's " +
                       $"distilled student. Soft prompt of {r.PromptLength} vectors; rows fill {r.MeanPositions:F1} positions on average (BOS, prompt, templated text). " +
                       $"Each stage ran 1 untimed + {r.TimedSteps} timed steps of batch {r.BatchSize} through the library (SoftPromptTuner, PromptTransfer); " +
                       $"seconds per example are the timed steps' mean, extrapolated to {c.Epochs} epochs × {c.Examples:N0} private examples of tuning " +
                       $"and {c.PublicTexts} public texts + {c.TransferSteps} steps × {r.BatchSize} of transfer (the α heuristic's passes are not counted). " +
                       $"FLOPs: `bench post`'s estimator (forward = 2 · body parameters · positions + 2 · vocabulary · hidden per input; backward = 2 · forward). " +
                       BenchReport.RunConditions(s.Seed, []))
            .Table(["stage", "part of", "GFLOP per unit", "s per unit (measured)", "units", "total PFLOP", "total time (extrapolated)"],
                r.Stages.Select(st => (IReadOnlyList<string>)[st.Stage, st.Post ? "POST" : "full PT", $"{st.FlopsPerUnit / 1e9:F1}", $"{st.SecondsPerUnit:F3}",
                    $"{st.Units:N0}", $"{st.TotalFlops / 1e15:F3}", Seconds(st.TotalSeconds)]))
            .Table(["target", "value"],
            [
                ["POST / full PT, FLOPs", $"{r.RatioFlops:F3} ({(r.TargetMetFlops ? "met" : "missed")}: target ≤ 1/6 = {Target:F3})"],
                ["POST / full PT, wall-clock", $"{r.RatioSeconds:F3} ({(r.TargetMetSeconds ? "met" : "missed")})"],
                ["floor: student tuning alone / full PT, FLOPs", $"{r.StudentFloor:F3}"],
            ]);
    }

    /// <summary>Stacked totals: POST's stages against full prompt tuning, in extrapolated seconds.</summary>
    static void Plot(Plot plot, Result r)
    {
        var colors = new[] { Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen };
        double bottom = 0;
        var post = r.Stages.Where(st => st.Post).ToList();
        for (int i = 0; i < post.Count; i++)
        {
            plot.Add.Bar(new Bar { Position = 0, ValueBase = bottom, Value = bottom + post[i].TotalSeconds / 60, FillColor = colors[i % colors.Length] });
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = post[i].Stage, FillColor = colors[i % colors.Length] });
            bottom += post[i].TotalSeconds / 60;
        }
        plot.Add.Bar(new Bar { Position = 1, Value = r.Stages.Single(st => !st.Post).TotalSeconds / 60, FillColor = Colors.Gray });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "full prompt tuning on the teacher", FillColor = Colors.Gray });
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([new Tick(0, "POST", true), new Tick(1, "full PT", true)]);
        plot.Axes.Margins(bottom: 0);
        plot.YLabel("extrapolated minutes");
        plot.ShowLegend();
    }
}
