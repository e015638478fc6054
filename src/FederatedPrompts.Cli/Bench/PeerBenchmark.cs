using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Tuning;
using ScottPlot;
using Spectre.Console;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// <c>fedprompt bench peer</c>: the project side by side with PyTorch on the same work. For each model shape it writes
/// random weights (seeded, Hugging Face layout) and one inputs file — the texts, and for the peer the token ids the
/// project's classifier makes of them, the label words' ids, the starting prompt — then runs the project's worker
/// (<see cref="PeerWorkloads"/>) and bench/peers/torch_peer.py (Debian's PyTorch) as separate processes, alternately
/// for each repeat, each with the same threads, so each side's peak memory is its own process's. Three workloads:
/// forward-only prompted classification, a soft-prompt tuning step (Adam) and a DP-SGD step with per-example clipping.
/// Before comparing times it checks that both computed the same thing: class scores and the tuned prompt agree.
/// </summary>
public static class PeerBenchmark
{
    /// <summary>Targets of issue #15: the project at most 1.1× PyTorch's time and 1.25× its peak memory.</summary>
    const double TimeTarget = 1.1, MemoryTarget = 1.25;

    /// <summary>Agreement required of the two sides' class scores and tuned prompts (float32 sums in different orders).</summary>
    const double ScoreTolerance = 1e-3, PromptTolerance = 1e-4;

    /// <summary>
    /// A model shape the benchmark knows: GPT-2 small, and SmolLM-135M's Llama shape. <paramref name="Tokenizer"/> gives its
    /// tokenizer from the GPT-2 tokenizer's folder and the templated texts, with the folder its files are copied from (null:
    /// the tokenizer saves itself).
    /// </summary>
    public sealed record Shape(string Name, string Description, Func<string, IEnumerable<string>, (ITextTokenizer Tokenizer, string? Source)> Tokenizer,
        Func<ITextTokenizer, TransformerConfig> Config);

    public static readonly IReadOnlyList<Shape> Shapes =
    [
        new("gpt2-small", "GPT-2 small: 12 layers × 768, 12 heads, vocabulary 50,257 (the GPT-2 tokenizer), context 128",
            (gptTokenizer, _) => (TokenizerLoader.FromFolder(gptTokenizer), gptTokenizer),
            tokenizer => GptShape.Gpt2SmallContext128.ToConfig(tokenizer.VocabSize, tokenizer)),
        new("llama-135m", "Llama shape of SmolLM-135M: 30 layers × 576, GQA 9/3 heads of 64, MLP 1,536, vocabulary 49,152, context 128",
            (_, texts) => (Cl100kSubsetTokenizer.Train(texts, LlamaVocabulary), null),
            tokenizer => new TransformerConfig
            {
                Family = ModelFamily.Llama, VocabSize = LlamaVocabulary, HiddenSize = 576, NumLayers = 30, NumHeads = 9, NumKvHeads = 3, HeadDim = 64,
                IntermediateSize = 1536, MaxPositions = 128, NormEps = 1e-5, RopeTheta = 10000, TieWordEmbeddings = true, Activation = "silu",
                BosTokenId = tokenizer.BosId, EosTokenId = tokenizer.EosId,
            }),
    ];

    /// <summary>SmolLM's vocabulary; the Llama shape's tokenizer is the project's corpus tokenizer (cl100k restricted to the texts) of at most this size.</summary>
    const int LlamaVocabulary = 49_152;

    public static Command Create()
    {
        var models = new Option<string>("--models") { Description = $"Shapes to measure, comma-separated ({string.Join(", ", Shapes.Select(s => s.Name))})", DefaultValueFactory = _ => string.Join(",", Shapes.Select(s => s.Name)) };
        var tokenizer = new Option<string>("--tokenizer") { Description = "GPT-2 tokenizer folder (gpt2-small's vocabulary)", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "models", "gpt2-tokenizer") };
        var task = new Option<string>("--task") { Description = "Labeled JSONL whose texts are classified and tuned on", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "tasks", "imdb", "train.jsonl") };
        var preset = new Option<string>("--preset") { Description = "Template and label words", DefaultValueFactory = _ => "imdb" };
        var promptLength = new Option<int>("--prompt-length") { Description = "Soft prompt vectors", DefaultValueFactory = _ => 20 };
        var forwardBatches = new Option<int>("--forward-batches") { Description = "Timed forward batches (after one untimed)", DefaultValueFactory = _ => 3 };
        var forwardBatch = new Option<int>("--forward-batch-size") { Description = "Texts per forward batch", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "Timed tuning and DP-SGD steps (after one untimed each)", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch-size") { Description = "Examples per tuning and DP-SGD step", DefaultValueFactory = _ => 16 };
        var repeats = new Option<int>("--repeats") { Description = "Times each side runs, alternating project and PyTorch", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads of both sides", DefaultValueFactory = _ => Environment.ProcessorCount };
        var python = new Option<string>("--python") { Description = "Python with PyTorch (Debian: apt-get install python3-torch)", DefaultValueFactory = _ => "/usr/bin/python3" };
        var script = new Option<string>("--peer-script") { Description = "The PyTorch side", DefaultValueFactory = _ => Path.Combine("bench", "peers", "torch_peer.py") };
        var output = new Option<string>("--out") { Description = "Results folder", DefaultValueFactory = _ => Path.Combine("bench", "results") };
        var keep = new Option<string?>("--work") { Description = "Keep each shape's model folder, inputs and both sides' results and logs here (default: a temporary folder, deleted)" };
        var seed = CommonOptions.Seed();
        var command = new Command("peer", "The project against PyTorch on the same work: forward, a prompt-tuning step and a DP-SGD step at GPT-2-small and Llama-135M shapes")
            { models, tokenizer, task, preset, promptLength, forwardBatches, forwardBatch, steps, batch, repeats, threads, python, script, output, keep, seed };
        command.SetAction((parse, cancel) =>
        {
            int Positive(Option<int> option) => parse.GetValue(option) is > 0 and var v ? v : throw new UserInputException($"{option.Name} must be at least 1");
            var chosen = parse.GetValue(models)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(name => Shapes.FirstOrDefault(s => s.Name == name) ?? throw new UserInputException(
                    $"--models: unknown shape \"{name}\" (known: {string.Join(", ", Shapes.Select(s => s.Name))})")).ToList();
            if (chosen.Count == 0) throw new UserInputException("--models: no shape given");
            var settings = new Settings(chosen, parse.GetValue(tokenizer)!, parse.GetValue(task)!, TaskPreset.Get(parse.GetValue(preset)!), Positive(promptLength),
                Positive(forwardBatches), Positive(forwardBatch), Positive(steps), Positive(batch), Positive(repeats), Positive(threads),
                parse.GetValue(python)!, parse.GetValue(script)!, parse.GetValue(seed));
            RequirePeer(settings);
            return Run(settings, parse.GetValue(output)!, parse.GetValue(keep), cancel);
        });
        return command;
    }

    sealed record Settings(IReadOnlyList<Shape> Shapes, string GptTokenizer, string Task, TaskPreset Preset, int PromptLength, int ForwardBatches,
        int ForwardBatchSize, int Steps, int BatchSize, int Repeats, int Threads, string Python, string Script, int Seed);

    /// <summary>One workload of one shape: both sides' mean seconds (per timed batch or step) and peak resident memory.</summary>
    public sealed record Comparison(string Model, string Workload, string Unit, double ProjectSeconds, double PytorchSeconds, double ProjectPeakMib, double PytorchPeakMib,
        double ProjectAboveLoadMib, double PytorchAboveLoadMib, double ProjectExamplesPerSecond, double PytorchExamplesPerSecond)
    {
        public double TimeRatio => ProjectSeconds / PytorchSeconds;
        public double MemoryRatio => ProjectPeakMib / PytorchPeakMib;
        public bool TimeMet => TimeRatio <= TimeTarget;
        public bool MemoryMet => MemoryRatio <= MemoryTarget;
    }

    /// <summary>That both sides computed the same: the largest differences of their first batch's class scores and of the prompt after the Adam steps.</summary>
    public sealed record Agreement(string Model, double MaxScoreDifference, double MaxPromptDifference, double FirstTuningLossProject, double FirstTuningLossPytorch,
        double FirstDpLossProject, double FirstDpLossPytorch, int PredictionsDiffering);

    public sealed record ModelRun(string Model, string Description, long Parameters, double WeightsMib, double MeanPositions,
        IReadOnlyList<PeerSideResult> Project, IReadOnlyList<PeerSideResult> Pytorch);

    static void RequirePeer(Settings s)
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo(s.Python, ["-c", "import torch"]) { RedirectStandardError = true, UseShellExecute = false })!;
            string error = probe.StandardError.ReadToEnd();
            probe.WaitForExit();
            if (probe.ExitCode != 0)
                throw new UserInputException($"--python {s.Python} cannot import torch ({error.Trim().Split('\n')[^1]}); on Debian: apt-get install python3-torch, then --python /usr/bin/python3");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new UserInputException($"--python {s.Python} cannot be run ({e.Message}); on Debian: apt-get install python3-torch");
        }
        if (!File.Exists(s.Script)) throw new UserInputException($"--peer-script: {s.Script} not found (run from the repository root)");
        if (!File.Exists(s.Task)) throw new UserInputException($"--task: {s.Task} not found");
    }

    static async Task<int> Run(Settings s, string outputDir, string? keep, CancellationToken cancel)
    {
        var work = keep is null ? Directory.CreateTempSubdirectory("fedprompt-bench-peer-") : Directory.CreateDirectory(keep);
        try
        {
            var data = TaskFile.Load(s.Task).RequireAtLeastTwoClasses();
            int needed = (s.ForwardBatches + 1) * s.ForwardBatchSize + s.BatchSize;
            if (data.Count < needed) throw new UserInputException($"{s.Task}: {data.Count} examples, fewer than the {needed} the workloads need");
            data = data.Sample(needed, s.Seed);
            s.Preset.Verbalizer.RequireCovers(data.Labels);

            var runs = new List<ModelRun>();
            foreach (var shape in s.Shapes)
            {
                string dir = Path.Combine(work.FullName, shape.Name);
                var (inputsFile, parameters, meanPositions) = Prepare(shape, s, data, dir);
                double weightsMib = new DirectoryInfo(dir).GetFiles("*.safetensors").Sum(f => f.Length) / (1024.0 * 1024);
                AnsiConsole.MarkupLine($"[bold]{shape.Name}[/]: {parameters:N0} parameters, {weightsMib:F0} MiB of weights, rows of {meanPositions:F1} positions");
                var project = new List<PeerSideResult>();
                var pytorch = new List<PeerSideResult>();
                for (int r = 0; r < s.Repeats; r++)
                {
                    project.Add(await Side("project", dir, inputsFile, s, r, cancel));
                    pytorch.Add(await Side("pytorch", dir, inputsFile, s, r, cancel));
                }
                runs.Add(new ModelRun(shape.Name, shape.Description, parameters, weightsMib, meanPositions, project, pytorch));
                if (keep is null) Directory.Delete(dir, recursive: true);
            }

            var agreements = runs.Select(Agree).ToList();
            foreach (var a in agreements)
                if (!(a.MaxScoreDifference <= ScoreTolerance && a.MaxPromptDifference <= PromptTolerance))
                    throw new InvalidOperationException($"{a.Model}: the two sides disagree (class scores by {a.MaxScoreDifference:G3}, tuned prompts by {a.MaxPromptDifference:G3}); their times would not compare the same work");
            var comparisons = runs.SelectMany(r => Compare(r, s)).ToList();
            foreach (var c in comparisons)
                AnsiConsole.MarkupLine($"{c.Model} {c.Workload}: project {c.ProjectSeconds:F2} s, PyTorch {c.PytorchSeconds:F2} s per {c.Unit} ([bold]{c.TimeRatio:F2}×[/]); " +
                                       $"peak {c.ProjectPeakMib:F0} / {c.PytorchPeakMib:F0} MiB ([bold]{c.MemoryRatio:F2}×[/])");
            var files = Report(runs, comparisons, agreements, s).Write(outputDir,
                new
                {
                    settings = new { models = s.Shapes.Select(m => m.Name), task = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(s.Task))), preset = s.Preset.Name,
                                     s.PromptLength, s.ForwardBatches, s.ForwardBatchSize, s.Steps, s.BatchSize, s.Repeats, s.Threads, s.Seed },
                    targets = new { time_ratio = TimeTarget, memory_ratio = MemoryTarget },
                    comparisons = comparisons.Select(c => new { c.Model, c.Workload, c.Unit, c.ProjectSeconds, c.PytorchSeconds, c.TimeRatio, c.TimeMet,
                        c.ProjectExamplesPerSecond, c.PytorchExamplesPerSecond, c.ProjectPeakMib, c.PytorchPeakMib, c.MemoryRatio, c.MemoryMet,
                        c.ProjectAboveLoadMib, c.PytorchAboveLoadMib }),
                    agreements,
                    // Each side's timings and peaks; the scores, predictions and prompts behind the agreements stay in --work.
                    runs = runs.Select(r => new { r.Model, r.Description, r.Parameters, r.WeightsMib, r.MeanPositions,
                        project = r.Project.Select(Timings), pytorch = r.Pytorch.Select(Timings) }),
                },
                plot => Plot(plot, comparisons));
            foreach (var file in files) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(file)}[/]");
            return 0;
        }
        finally
        {
            if (keep is null) work.Delete(recursive: true);
        }
    }

    static object Timings(PeerSideResult r) => new
    {
        r.Side, r.Version, r.Threads, r.LoadSeconds, r.LoadPeakRssMib, r.RssAfterLoadMib,
        forward = new { r.Forward.BatchSeconds, r.Forward.PeakRssMib },
        tuning = new { r.Tuning.StepSeconds, r.Tuning.Losses, r.Tuning.PeakRssMib },
        dp = new { r.Dp.StepSeconds, r.Dp.Losses, r.Dp.PeakRssMib },
    };

    /// <summary>Writes the shape's random model (weights, config, tokenizer) and the inputs file both sides read.</summary>
    static (string InputsFile, long Parameters, double MeanPositions) Prepare(Shape shape, Settings s, TaskDataset data, string dir)
    {
        var texts = data.Examples.Select(e => e.Text).ToList();
        // The label words go into the texts a tokenizer is trained on: a class is scored by its words' tokens, which a few
        // texts need not contain.
        var (tokenizer, tokenizerSource) = shape.Tokenizer(s.GptTokenizer,
            texts.Select(s.Preset.Template.Render).Concat(data.Labels.SelectMany(s.Preset.Verbalizer.WordsFor)));
        using var model = HfCheckpoint.Create(shape.Config(tokenizer), s.Seed);
        HfCheckpoint.Save(model, dir);
        TokenizerFiles.Save(tokenizer, tokenizerSource, dir);

        var classes = data.Labels.ToList();
        var classifier = new PromptedClassifier(model, tokenizer, classes, classes.Select(s.Preset.Verbalizer.WordsFor).ToList(), s.Preset.Template.Render);
        using var prompt = SoftPromptInit.Embed(model, tokenizer, s.PromptLength, null, s.Seed);
        var input = new PromptInput(prompt);
        int forwardCount = (s.ForwardBatches + 1) * s.ForwardBatchSize;
        var forwardTexts = texts.Take(forwardCount).ToList();
        var training = data.Examples.Skip(forwardCount).ToList();
        var rows = classifier.TokenRows(forwardTexts, input);
        var trainingRows = classifier.TokenRows(training.Select(e => e.Text).ToList(), input);
        var flat = prompt.data<float>().ToArray();
        int hidden = model.HiddenSize;
        var inputs = new PeerInputs(s.Seed, s.Preset.Name, classes, tokenizer.BosId, classifier.LabelTokenIds,
            Enumerable.Range(0, s.PromptLength).Select(i => flat[(i * hidden)..((i + 1) * hidden)]).ToArray(),
            new PeerInputs.ForwardWork(s.ForwardBatchSize, forwardTexts, rows),
            new PeerInputs.TrainingWork(training.Select(e => e.Text).ToList(), training.Select(e => classes.IndexOf(e.Label)).ToList(), trainingRows,
                s.Steps + 1, AdamLr: 1e-3, SgdLr: TuneOptions.DefaultLearningRate(PromptOptimizer.Sgd), ClipNorm: 1.0, NoiseMultiplier: 1.0, ExpectedBatchSize: s.BatchSize));
        string file = Path.Combine(dir, "inputs.json");
        File.WriteAllText(file, JsonSerializer.Serialize(inputs, CommonOptions.JsonLine));
        double positions = (tokenizer.BosId is null ? 0 : 1) + s.PromptLength + rows.Concat(trainingRows).Average(r => r.Length);
        return (file, model.parameters().Sum(p => p.numel()), positions);
    }

    /// <summary>Runs one side in its own process with the same thread settings; its results JSON.</summary>
    static async Task<PeerSideResult> Side(string side, string dir, string inputsFile, Settings s, int repeat, CancellationToken cancel)
    {
        string result = Path.Combine(dir, $"{side}-{repeat}.json"), log = Path.Combine(dir, $"{side}-{repeat}.log");
        var start = side == "project"
            ? Simulation.FedpromptProcess.StartInfo(["bench", "peer-worker", "--model", dir, "--inputs", inputsFile, "--threads", s.Threads.ToString(), "--out", result])
            : new ProcessStartInfo(s.Python) { ArgumentList = { s.Script, "--model", dir, "--inputs", inputsFile, "--threads", s.Threads.ToString(), "--out", result } };
        // Both libraries' thread pools (OpenMP, MKL, OpenBLAS) get the same count, not only torch's intra-op setting.
        foreach (var variable in new[] { "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS" }) start.Environment[variable] = s.Threads.ToString();
        AnsiConsole.MarkupLine($"  {side} (run {repeat + 1} of {s.Repeats})");
        await ChildProcess.RunAsync(start, log, $"the {side} side", cancel);
        return JsonSerializer.Deserialize<PeerSideResult>(await File.ReadAllTextAsync(result, cancel), CommonOptions.JsonLine)
               ?? throw new InvalidOperationException($"the {side} side wrote no results");
    }

    static Agreement Agree(ModelRun run)
    {
        var (p, t) = (run.Project[0], run.Pytorch[0]);
        double scores = p.Forward.FirstBatchScores.Zip(t.Forward.FirstBatchScores).SelectMany(rows => rows.First.Zip(rows.Second, (a, b) => Math.Abs(a - b))).Max();
        double prompt = p.Tuning.FinalPrompt!.Zip(t.Tuning.FinalPrompt!, (a, b) => (double)Math.Abs(a - b)).Max();
        int differing = p.Forward.Predictions.Zip(t.Forward.Predictions).Count(pair => pair.First != pair.Second);
        return new Agreement(run.Model, scores, prompt, p.Tuning.Losses[0], t.Tuning.Losses[0], p.Dp.Losses[0], t.Dp.Losses[0], differing);
    }

    /// <summary>Each workload's mean over the timed batches or steps (every one but the first) of every repeat, and the highest peak.</summary>
    static IEnumerable<Comparison> Compare(ModelRun run, Settings s)
    {
        static double Mean(IEnumerable<IReadOnlyList<double>> perRepeat) => perRepeat.SelectMany(seconds => seconds.Skip(1)).Average();
        Comparison Make(string workload, string unit, int examples, Func<PeerSideResult, IReadOnlyList<double>> seconds, Func<PeerSideResult, double> peak)
        {
            double project = Mean(run.Project.Select(seconds)), pytorch = Mean(run.Pytorch.Select(seconds));
            double projectPeak = run.Project.Max(peak), pytorchPeak = run.Pytorch.Max(peak);
            return new Comparison(run.Model, workload, unit, project, pytorch, projectPeak, pytorchPeak,
                run.Project.Max(r => peak(r) - r.RssAfterLoadMib), run.Pytorch.Max(r => peak(r) - r.RssAfterLoadMib), examples / project, examples / pytorch);
        }
        yield return Make("forward (classification)", $"batch of {s.ForwardBatchSize}", s.ForwardBatchSize, r => r.Forward.BatchSeconds, r => r.Forward.PeakRssMib);
        yield return Make("soft-prompt tuning step (Adam)", $"step of {s.BatchSize}", s.BatchSize, r => r.Tuning.StepSeconds, r => r.Tuning.PeakRssMib);
        yield return Make("DP-SGD step (per-example clipping)", $"step of {s.BatchSize}", s.BatchSize, r => r.Dp.StepSeconds, r => r.Dp.PeakRssMib);
    }

    static BenchReport Report(IReadOnlyList<ModelRun> runs, IReadOnlyList<Comparison> comparisons, IReadOnlyList<Agreement> agreements, Settings s)
    {
        string Met(bool met) => met ? "met" : "missed";
        var report = new BenchReport("peer", "The project against PyTorch on the same work")
            .Paragraph($"Each shape gets random weights (seed {s.Seed}, Hugging Face layout), written once and loaded by both sides, each in its own process " +
                       $"with {s.Threads} threads (intra-op, OpenMP, MKL and OpenBLAS), run alternately {s.Repeats} time(s): the project (`fedprompt bench peer-worker`: " +
                       $"`PromptedClassifier.Predict` and `SoftPromptTuner` with Adam and with DP-SGD, {runs[0].Project[0].Version}) and " +
                       $"PyTorch {runs[0].Pytorch[0].Version} (`bench/peers/torch_peer.py`, Debian's build) on the same texts ({s.Preset.Name} training reviews), " +
                       $"token ids (the project's classifier made them; its time includes tokenizing, the peer's does not), starting prompt of {s.PromptLength} vectors and labels. " +
                       $"Forward: {s.ForwardBatches} timed batches of {s.ForwardBatchSize} after one untimed; tuning and DP-SGD: {s.Steps} timed steps of " +
                       $"{s.BatchSize} after one untimed, every step the same batch (DP: clip 1, σ 1, plain SGD; per-example gradients from per-example prompt copies on both sides). " +
                       $"Time: mean per batch or step; memory: the process's peak resident set during the workload (VmHWM, reset before each), weights and runtime included. " +
                       BenchReport.RunConditions(s.Seed, []))
            .Table(["model", "parameters", "weights (MiB)", "positions per row", "load: project / PyTorch (s)", "load peak: project / PyTorch (MiB)"],
                runs.Select(r => (IReadOnlyList<string>)[r.Model, $"{r.Parameters:N0}", $"{r.WeightsMib:F0}", $"{r.MeanPositions:F1}",
                    $"{r.Project.Average(p => p.LoadSeconds):F1} / {r.Pytorch.Average(p => p.LoadSeconds):F1}",
                    $"{r.Project.Max(p => p.LoadPeakRssMib):F0} / {r.Pytorch.Max(p => p.LoadPeakRssMib):F0}"]))
            .Table(["model", "workload", "project (s)", "PyTorch (s)", "time ratio", $"≤ {TimeTarget}×", "project peak (MiB)", "PyTorch peak (MiB)", "memory ratio",
                    $"≤ {MemoryTarget}×", "above load: project / PyTorch (MiB)"],
                comparisons.Select(c => (IReadOnlyList<string>)[c.Model, $"{c.Workload}, per {c.Unit}", $"{c.ProjectSeconds:F2}", $"{c.PytorchSeconds:F2}",
                    $"{c.TimeRatio:F2}×", Met(c.TimeMet), $"{c.ProjectPeakMib:F0}", $"{c.PytorchPeakMib:F0}", $"{c.MemoryRatio:F2}×", Met(c.MemoryMet),
                    $"{c.ProjectAboveLoadMib:F0} / {c.PytorchAboveLoadMib:F0}"]))
            .Paragraph("Same work, checked before timing: the largest difference of the first batch's class scores, of the prompt after the Adam steps, " +
                       "the first steps' losses (DP-SGD's noise differs between the two generators, so its later steps are not compared), and forward predictions that differ.")
            .Table(["model", "class scores", "tuned prompt", "first tuning loss: project / PyTorch", "first DP loss: project / PyTorch", "predictions differing"],
                agreements.Select(a => (IReadOnlyList<string>)[a.Model, $"{a.MaxScoreDifference:G2}", $"{a.MaxPromptDifference:G2}",
                    $"{a.FirstTuningLossProject:F5} / {a.FirstTuningLossPytorch:F5}", $"{a.FirstDpLossProject:F5} / {a.FirstDpLossPytorch:F5}",
                    $"{a.PredictionsDiffering} of {s.ForwardBatches * s.ForwardBatchSize + s.ForwardBatchSize}"]));
        return report;
    }

    /// <summary>Time and memory ratios per model and workload, with the two targets as lines; 1 = PyTorch.</summary>
    static void Plot(Plot plot, IReadOnlyList<Comparison> comparisons)
    {
        var ticks = new List<Tick>();
        for (int i = 0; i < comparisons.Count; i++)
        {
            var c = comparisons[i];
            plot.Add.Bar(new Bar { Position = 3 * i, Value = c.TimeRatio, FillColor = Colors.SteelBlue });
            plot.Add.Bar(new Bar { Position = 3 * i + 1, Value = c.MemoryRatio, FillColor = Colors.DarkOrange });
            ticks.Add(new Tick(3 * i + 0.5, $"{c.Model}\n{c.Workload.Split(' ')[0]}", true));
        }
        plot.Add.HorizontalLine(TimeTarget, color: Colors.SteelBlue, pattern: LinePattern.Dashed);
        plot.Add.HorizontalLine(MemoryTarget, color: Colors.DarkOrange, pattern: LinePattern.Dashed);
        plot.Add.HorizontalLine(1, color: Colors.Gray);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "time, project / PyTorch", FillColor = Colors.SteelBlue });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "peak memory, project / PyTorch", FillColor = Colors.DarkOrange });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"targets: time ≤ {TimeTarget}×, memory ≤ {MemoryTarget}× (dashed)", LineColor = Colors.Gray });
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        // Room above the bars and the targets for the legend, so it hides no bar.
        double highest = comparisons.Max(c => Math.Max(c.TimeRatio, c.MemoryRatio));
        plot.Axes.SetLimitsY(0, Math.Max(highest, MemoryTarget) + 0.6);
        plot.YLabel("ratio to PyTorch (1 = same)");
        plot.Legend.Alignment = Alignment.UpperRight;
        plot.ShowLegend();
    }
}
