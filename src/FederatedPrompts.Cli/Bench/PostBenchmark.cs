using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Post.Distillation;
using FederatedPrompts.Post.Privacy;
using FederatedPrompts.Post.Transfer;
using FederatedPrompts.Post.Tuning;
using ScottPlot;
using Spectre.Console;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// <c>fedprompt bench post</c>: the POST paper's table per task: teacher zero-shot, compressed prompt tuning (prompt tuned
/// and evaluated on the distilled student), direct use of that prompt on the teacher, POST transfer to the teacher, and full
/// prompt tuning on the teacher, without and with DP-SGD at a target ε; with wall-clock seconds and a FLOP estimate per stage.
/// Everything runs in this process through the library (PretrainJob, DistillJob, SoftPromptTuner, PromptTransfer).
/// </summary>
public static class PostBenchmark
{
    public static Command Create()
    {
        var tasks = new Option<string>("--tasks") { Description = "Comma-separated tasks under --data (sst2, trec, spam)", DefaultValueFactory = _ => "sst2,trec,spam" };
        var data = new Option<string>("--data") { Description = "Folder of task folders with train.jsonl and test.jsonl", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "tasks") };
        var models = new BenchModels();
        var trainLimit = new Option<int>("--train-limit") { Description = "Private training examples per task (seeded sample of train.jsonl)", DefaultValueFactory = _ => 500 };
        var testLimit = new Option<int>("--test-limit") { Description = "Test examples per task (seeded sample of test.jsonl)", DefaultValueFactory = _ => 400 };
        var publicLimit = new Option<int>("--public-limit") { Description = "Public labeled examples per task (α heuristic; also the transfer texts without --public-corpus)", DefaultValueFactory = _ => 200 };
        var publicCorpus = new Option<string?>("--public-corpus") { Description = "Unlabeled public corpus (.jsonl or .txt) whose texts the transfer uses instead of the labeled split's (the POST paper: IMDb for sst2)" };
        var publicTexts = new Option<int>("--public-texts") { Description = "Transfer texts drawn from --public-corpus (seeded sample)", DefaultValueFactory = _ => 1000 };
        var promptLength = new Option<int>("--prompt-length") { Description = "Soft prompt length (vectors) of every tuned and transferred prompt", DefaultValueFactory = _ => 10 };
        var epochs = new Option<int>("--epochs") { Description = "Prompt-tuning epochs on the private split", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch-size") { Description = "Tuning and transfer batch size (expected size under DP)", DefaultValueFactory = _ => 16 };
        var optimizer = new Option<string?>("--optimizer") { Description = "Prompt-tuning optimizer for both settings: sgd or adam (default: adam without DP, sgd with DP, as the official code)" }
            .AcceptOnlyFromAmong("sgd", "adam");
        var lr = new Option<double>("--lr") { Description = "Adam learning rate of prompt tuning", DefaultValueFactory = _ => 1e-2 };
        var sgdLr = new Option<double>("--sgd-lr") { Description = "SGD learning rate of prompt tuning", DefaultValueFactory = _ => TuneOptions.DefaultLearningRate(PromptOptimizer.Sgd) };
        var transferLr = new Option<double>("--transfer-lr") { Description = "Adam learning rate of the transfer", DefaultValueFactory = _ => 1e-2 };
        var start = new SoftPromptStart("Initialise every prompt from this text (default: each task preset's init text; the transfer's p_t starts the same way)");
        var transferSteps = new Option<int>("--transfer-steps") { Description = "POST transfer steps", DefaultValueFactory = _ => 150 };
        var validateEvery = new Option<int>("--validate-every")
        {
            Description = "Transfer: accuracy on the public labeled split every N steps; the best prompt is evaluated, the last reported too (0: the last prompt only)",
            DefaultValueFactory = _ => 25,
        };
        var epsilon = new Option<double>("--epsilon") { Description = "DP-SGD target ε (δ = 1/N); σ calibrated by --accountant", DefaultValueFactory = _ => 8 };
        var accountant = CommonOptions.Accountant();
        var clip = new Option<double>("--clip") { Description = "DP-SGD per-example clip norm", DefaultValueFactory = _ => 1.0 };
        var work = new Option<string>("--work") { Description = "Scratch folder for the public split files the transfer reads", DefaultValueFactory = _ => Path.Combine("runs", "post-bench") };
        var output = new Option<string>("--out") { Description = "Results folder", DefaultValueFactory = _ => Path.Combine("bench", "results") };
        var seed = CommonOptions.Seed();
        var command = new Command("post", "POST table: zero-shot, compressed PT, direct, POST transfer and full PT, without and with DP")
        {
            tasks, data, trainLimit, testLimit, publicLimit, publicCorpus, publicTexts, promptLength, epochs, batch, optimizer, lr, sgdLr, transferLr, transferSteps, validateEvery, epsilon, accountant, clip, work, output, seed,
        };
        foreach (var option in models.Options.Concat(start.Options)) command.Add(option);
        command.SetAction(parse =>
        {
            var settings = new Settings(
                parse.GetValue(tasks)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), parse.GetValue(data)!,
                parse.GetValue(trainLimit), parse.GetValue(testLimit), parse.GetValue(publicLimit), parse.GetValue(publicCorpus),
                parse.GetValue(publicTexts) is > 0 and var count ? count : throw new UserInputException("--public-texts must be positive"),
                new TuneOptions
                {
                    PromptLength = parse.GetValue(promptLength), Epochs = parse.GetValue(epochs), BatchSize = parse.GetValue(batch),
                    Optimizer = parse.GetValue(optimizer) is { } name ? TuneOptions.ParseOptimizer(name) : null, Seed = parse.GetValue(seed),
                },
                parse.GetValue(lr), parse.GetValue(sgdLr), parse.GetValue(transferLr), preset => start.Resolve(parse, preset.InitText),
                parse.GetValue(transferSteps),
                parse.GetValue(validateEvery) is >= 0 and var every ? every : throw new UserInputException("--validate-every must not be negative"),
                parse.GetValue(epsilon), PrivacyAccountants.Parse(parse.GetValue(accountant)), parse.GetValue(clip), parse.GetValue(work)!, parse.GetValue(seed));
            if (settings.Tasks.Length == 0) throw new UserInputException("--tasks names no task");
            foreach (var (option, value) in new[] { ("--lr", settings.AdamLearningRate), ("--sgd-lr", settings.SgdLearningRate), ("--transfer-lr", settings.TransferLearningRate) })
                if (!(value > 0) || double.IsInfinity(value)) throw new UserInputException($"{option} must be positive and finite, got {value}");

            var (teacherDir, studentDir, setup) = models.Ensure(parse, settings.Seed);
            using var pair = BenchModels.Load(teacherDir, studentDir, "POST needs the distilled pair");
            var loaded = new Models(pair.Teacher, pair.Student, pair.Tokenizer);

            var results = settings.Tasks.Select(task => RunTask(task, loaded, settings)).ToList();
            var numbers = new
            {
                teacher = BenchModels.Describe(teacherDir, pair.Teacher), student = BenchModels.Describe(studentDir, pair.Student),
                settings = new
                {
                    settings.TrainLimit, settings.TestLimit, settings.PublicLimit, settings.PublicCorpus, settings.PublicTexts, settings.Tuning.PromptLength, settings.Tuning.Epochs, settings.Tuning.BatchSize,
                    optimizer = settings.Tuning.Optimizer?.ToString().ToLowerInvariant() ?? "adam without DP, sgd with DP",
                    settings.AdamLearningRate, settings.SgdLearningRate, settings.TransferLearningRate, settings.TransferSteps, settings.ValidateEvery, settings.Epsilon, accountant = PrivacyAccountants.Name(settings.Accountant), settings.ClipNorm, settings.Seed,
                    threads = get_num_threads(), Environment.ProcessorCount,
                },
                flop_estimate = "forward = 2 · body parameters · tokens + 2 · vocabulary · hidden per input (LM head at the prediction position only); backward = 2 · forward; tokens include BOS and the soft prompt",
                setup, tasks = results,
            };
            var files = Report(results, loaded, settings, setup).Write(parse.GetValue(output)!, numbers, plot => PlotAccuracies(plot, results));
            foreach (var file in files) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(file)}[/]");
            return 0;
        });
        return command;
    }

    /// <param name="Tuning">Shared tuning options; the optimizer (null: per setting) picks AdamLearningRate or SgdLearningRate.</param>
    /// <param name="PublicCorpus">Unlabeled corpus of the transfer texts; null: the public labeled split's texts.</param>
    sealed record Settings(string[] Tasks, string DataDir, int TrainLimit, int TestLimit, int PublicLimit, string? PublicCorpus, int PublicTexts, TuneOptions Tuning,
        double AdamLearningRate, double SgdLearningRate, double TransferLearningRate, Func<TaskPreset, string?> InitTextFor,
        int TransferSteps, int ValidateEvery, double Epsilon, AccountantKind Accountant, double ClipNorm, string WorkDir, int Seed)
    {
        /// <summary>Tuning options of one privacy setting: its optimizer and that optimizer's learning rate.</summary>
        public TuneOptions TuningFor(bool dp, string? initText)
        {
            var options = Tuning with { InitText = initText, ClipNorm = dp ? ClipNorm : null };
            return options with { LearningRate = options.OptimizerInUse == PromptOptimizer.Sgd ? SgdLearningRate : AdamLearningRate };
        }
    }

    sealed record Models(CausalLM Teacher, CausalLM Student, ITextTokenizer Tokenizer)
    {
        public FlopModel TeacherFlops { get; } = FlopModel.Of(Teacher);
        public FlopModel StudentFlops { get; } = FlopModel.Of(Student);
    }

    /// <summary>What the models are fed: positions (BOS, soft prompt, templated text) and inputs (one prediction position each).</summary>
    internal sealed record Workload(long Tokens, long Inputs);

    /// <summary>
    /// FLOP estimate: forward = 2 · parameters · tokens, backward = 2 · forward. The transformer body runs on every position;
    /// the LM head (vocabulary × hidden) only at each input's prediction position, and the embedding lookups cost nothing.
    /// </summary>
    internal sealed record FlopModel(long BodyParameters, long HeadParameters)
    {
        static readonly string[] EmbeddingAndHead = ["wte", "wpe", "embed_tokens", "lm_head"];

        public static FlopModel Of(CausalLM model) => new(
            model.named_parameters().Where(p => !EmbeddingAndHead.Any(p.name.Contains)).Sum(p => p.parameter.numel()),
            (long)model.VocabSize * model.HiddenSize);

        public double Forward(Workload work, double passes = 1) => passes * (2.0 * BodyParameters * work.Tokens + 2.0 * HeadParameters * work.Inputs);
        public double Train(Workload work, double passes = 1) => 3 * Forward(work, passes);
    }

    public sealed record DpSpent(double ClipNorm, double NoiseMultiplier, double SampleRate, int Steps, double Delta, double Epsilon);

    /// <summary>Accuracy and macro accuracy (mean per-class recall) on the test sample.</summary>
    public sealed record Score(double Accuracy, double MacroAccuracy)
    {
        public static Score Of(ClassificationResult result) => new(result.Accuracy, result.MacroAccuracy);
        public override string ToString() => $"{Accuracy:P1} (macro {MacroAccuracy:P1})";
    }

    /// <summary>Rows (2)-(5) of the table for one privacy setting.</summary>
    /// <param name="Post">The transferred prompt kept: the best on public validation (the last without validation).</param>
    /// <param name="PostLast">The transfer's last prompt.</param>
    public sealed record Variant(bool Dp, string Optimizer, double LearningRate, Score Compressed, Score Direct, Score Post, int PostStep, Score PostLast, Score Full,
        AlphaChoice Alpha, DpSpent? StudentPrivacy, DpSpent? TeacherPrivacy, IReadOnlyList<Stage> Stages)
    {
        public double Seconds(string stage) => Stages.Single(s => s.Name == stage).Seconds;
        public double Flops(string stage) => Stages.Single(s => s.Name == stage).Flops;
    }

    public sealed record Targets(double GapRecovered, double CostRatioSeconds, double CostRatioFlops);

    public sealed record TaskResult(string Task, int TrainExamples, int TestExamples, int PublicExamples, string PublicSplit,
        int TransferTexts, string TransferTextsSource, IReadOnlyList<string> Labels,
        string? InitText, IReadOnlyList<string> DroppedLabelWords, Score ZeroShotScore, Stage ZeroShot, Variant NoDp, Variant WithDp,
        Targets NoDpTargets, Targets DpTargets, double DpPostMinusNoDpPost);

    // Stage names: the cost ratio is (student tuning + α choice + transfer) / teacher tuning.
    const string StudentTuning = "student prompt tuning", AlphaStage = "alpha heuristic", TransferStage = "POST transfer", TeacherTuning = "teacher full prompt tuning";

    static TaskResult RunTask(string task, Models models, Settings settings)
    {
        string folder = Path.Combine(settings.DataDir, task);
        var preset = TaskPreset.Get(task);
        var train = TaskFile.Load(Path.Combine(folder, "train.jsonl")).RequireAtLeastTwoClasses();
        var test = TaskFile.Load(Path.Combine(folder, "test.jsonl"));
        var (privateTrain, trainRest) = train.Split(Math.Min(settings.TrainLimit, train.Count), settings.Seed);
        test = test.Sample(Math.Min(settings.TestLimit, test.Count), settings.Seed);
        // Public labeled split: the task's dev file where it has one (sst2); otherwise the train examples the private sample did not
        // take. Never the test set, and disjoint from the private training data.
        string devPath = Path.Combine(folder, "dev.jsonl");
        var (publicPool, publicSplit) = File.Exists(devPath) ? (TaskFile.Load(devPath), devPath) : (trainRest, $"{Path.Combine(folder, "train.jsonl")} minus the private sample");
        var publicLabeled = publicPool.Sample(Math.Min(settings.PublicLimit, publicPool.Count), settings.Seed);
        var (publicTexts, transferSource) = settings.PublicCorpus is { } corpus
            ? (DeclarePublic(TextCorpus.Open(corpus).Sample(settings.PublicTexts, settings.Seed), Path.Combine(settings.WorkDir, $"{task}-public-corpus.jsonl")),
               $"a seeded sample of {corpus}")
            : (DeclarePublic(publicLabeled.Examples.Select(e => e.Text), Path.Combine(settings.WorkDir, $"{task}-public.jsonl")), "the public labeled split");

        preset.Verbalizer.RequireCovers(train.Labels);
        var labels = train.Labels;
        PromptedClassifier Classifier(CausalLM model) => new(model, models.Tokenizer, labels, labels.Select(preset.Verbalizer.WordsFor).ToList(), preset.Template.Render);
        var teacher = Classifier(models.Teacher);
        var student = Classifier(models.Student);
        LabelWordWarnings.Print(teacher, student);
        string? initText = settings.InitTextFor(preset);
        var labelIndex = labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i);
        var trainExamples = privateTrain.Examples.Select(e => (e.Text, labelIndex[e.Label])).ToList();
        var testExamples = test.Examples.Select(e => (e.Text, e.Label)).ToList();
        var publicExamples = publicLabeled.Examples.Select(e => (e.Text, e.Label)).ToList();

        int promptLength = settings.Tuning.PromptLength;
        Workload WorkOf(IEnumerable<string> texts, int prompt) => InputWorkload(models.Tokenizer, models.Teacher.Config.MaxPositions, preset.Template, texts, prompt);
        var trainWork = WorkOf(privateTrain.Examples.Select(e => e.Text), promptLength);
        var testWorkPrompted = WorkOf(test.Examples.Select(e => e.Text), promptLength);
        var publicWork = WorkOf(publicTexts.Texts, 0);
        var publicWorkPrompted = WorkOf(publicTexts.Texts, promptLength);
        var (teacherFlops, studentFlops) = (models.TeacherFlops, models.StudentFlops);

        AnsiConsole.MarkupLine($"[bold]{task}[/]: {privateTrain.Count} private training, {test.Count} test, {publicLabeled.Count} public examples ({Markup.Escape(publicSplit)})");
        var (zeroShotScore, zeroShot) = Stage.Timed("teacher zero-shot evaluation",
            () => Score.Of(teacher.Evaluate(testExamples, PromptInput.None)), teacherFlops.Forward(WorkOf(test.Examples.Select(e => e.Text), 0)));
        double zeroShotAccuracy = zeroShotScore.Accuracy;
        AnsiConsole.MarkupLine($"  teacher zero-shot {zeroShotScore}");

        Variant RunVariant(bool dp)
        {
            var stages = new List<Stage>();
            T Stage<T>(string name, Func<T> body, double flops = 0)
            {
                var (value, stage) = Bench.Stage.Timed(name, body, flops);
                stages.Add(stage);
                return value;
            }
            TuneOptions options = settings.TuningFor(dp, initText);
            double delta = 1.0 / trainExamples.Count;
            if (dp) options = SoftPromptTuner.WithNoiseForEpsilon(options, trainExamples.Count, settings.Epsilon, delta, settings.Accountant);
            DpSpent? Spent(TuneResult result) => result.Dp is { } s
                ? new DpSpent(s.ClipNorm, s.NoiseMultiplier, s.SampleRate, result.Steps, delta, PrivacyAccountants.Epsilon(settings.Accountant, s.SampleRate, s.NoiseMultiplier, result.Steps, delta))
                : null;
            // DP runs Epochs passes in expectation, so both settings cost Epochs passes over the training data.
            double epochs = settings.Tuning.Epochs;

            var studentTuned = Stage(StudentTuning, () => new SoftPromptTuner(models.Student, models.Tokenizer, student, options).Tune(trainExamples),
                studentFlops.Train(trainWork, epochs));
            var studentPrompt = new PromptInput(studentTuned.Prompt);
            var compressed = Stage("compressed evaluation (student)", () => Score.Of(student.Evaluate(testExamples, studentPrompt)),
                studentFlops.Forward(testWorkPrompted));
            var direct = Stage("direct evaluation (student prompt on teacher)", () => Score.Of(teacher.Evaluate(testExamples, studentPrompt)),
                teacherFlops.Forward(testWorkPrompted));

            var alpha = Stage(AlphaStage, () => PromptTransfer.ChooseAlpha(teacher, student, studentTuned.Prompt, publicExamples),
                teacherFlops.Forward(publicWork) + studentFlops.Forward(publicWorkPrompted));
            var transferOptions = new TransferOptions
            {
                Steps = settings.TransferSteps, LearningRate = settings.TransferLearningRate, BatchSize = settings.Tuning.BatchSize, Alpha = alpha.Alpha, Seed = settings.Seed,
                ValidateEvery = settings.ValidateEvery,
            };
            // Fixed forward passes (student with and without p_s, teacher without) plus the teacher's training steps on sampled batches,
            // and the prompted teacher on the public labeled split at each validation (step 0, every N steps, the last step).
            double transferPasses = (double)settings.TransferSteps * Math.Min(settings.Tuning.BatchSize, publicTexts.Texts.Count) / publicTexts.Texts.Count;
            int validations = settings.ValidateEvery > 0 ? 1 + (settings.TransferSteps + settings.ValidateEvery - 1) / settings.ValidateEvery : 0;
            double transferFlops = studentFlops.Forward(publicWorkPrompted) + studentFlops.Forward(publicWork) + teacherFlops.Forward(publicWork)
                + teacherFlops.Train(publicWorkPrompted, transferPasses)
                + teacherFlops.Forward(WorkOf(publicLabeled.Examples.Select(e => e.Text), promptLength), validations);
            var transferred = Stage(TransferStage, () => new PromptTransfer(teacher, student, transferOptions).Run(publicTexts, studentTuned.Prompt,
                SoftPromptInit.Embed(models.Teacher, models.Tokenizer, promptLength, initText, settings.Tuning.Seed), publicExamples), transferFlops);
            var post = Stage("POST evaluation (teacher)", () => Score.Of(teacher.Evaluate(testExamples, new PromptInput(transferred.Best))),
                teacherFlops.Forward(testWorkPrompted));
            // Not a stage of POST: the last prompt is evaluated only to report what keeping the best bought (nothing, where it is the best).
            var postLast = transferred.BestStep == settings.TransferSteps ? post : Score.Of(teacher.Evaluate(testExamples, new PromptInput(transferred.Last)));

            var teacherTuned = Stage(TeacherTuning, () => new SoftPromptTuner(models.Teacher, models.Tokenizer, teacher, options).Tune(trainExamples),
                teacherFlops.Train(trainWork, epochs));
            var full = Stage("full prompt tuning evaluation (teacher)", () => Score.Of(teacher.Evaluate(testExamples, new PromptInput(teacherTuned.Prompt))),
                teacherFlops.Forward(testWorkPrompted));

            string optimizerName = options.OptimizerInUse.ToString().ToLowerInvariant();
            AnsiConsole.MarkupLine($"  {(dp ? $"DP ε={settings.Epsilon}" : "no DP")}, {optimizerName} lr {options.LearningRateInUse:G3}: compressed {compressed}, direct {direct}, " +
                                   $"POST {post} (α {alpha.Alpha:F2}, step {transferred.BestStep}; last step {postLast}), full PT {full}");
            return new Variant(dp, optimizerName, options.LearningRateInUse, compressed, direct, post, transferred.BestStep, postLast, full, alpha,
                Spent(studentTuned), Spent(teacherTuned), stages);
        }

        Targets TargetsOf(Variant v) => new(
            (v.Post.Accuracy - zeroShotAccuracy) / (v.Full.Accuracy - zeroShotAccuracy),
            (v.Seconds(StudentTuning) + v.Seconds(AlphaStage) + v.Seconds(TransferStage)) / v.Seconds(TeacherTuning),
            (v.Flops(StudentTuning) + v.Flops(AlphaStage) + v.Flops(TransferStage)) / v.Flops(TeacherTuning));
        var noDp = RunVariant(dp: false);
        var withDp = RunVariant(dp: true);
        return new TaskResult(task, privateTrain.Count, test.Count, publicLabeled.Count, publicSplit, publicTexts.Texts.Count, transferSource, labels, initText,
            teacher.DroppedWords.Select(d => d.ToString()).ToList(), zeroShotScore, zeroShot,
            noDp, withDp, TargetsOf(noDp), TargetsOf(withDp), withDp.Post.Accuracy - noDp.Post.Accuracy);
    }

    /// <summary>
    /// Writes public texts to a file and loads them as <see cref="PublicTexts"/>: transfer only accepts texts from a file
    /// declared public, so the benchmark declares them the same way an operator would.
    /// </summary>
    static PublicTexts DeclarePublic(IEnumerable<string> texts, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllLines(path, texts.Select(text => JsonSerializer.Serialize(new { text })));
        return PublicTexts.Load(path);
    }

    /// <summary>Positions the classifier feeds the model (BOS, soft prompt, templated text cut to the model's positions) over all texts.</summary>
    internal static Workload InputWorkload(ITextTokenizer tokenizer, int maxPositions, PromptTemplate template, IEnumerable<string> texts, int promptLength)
    {
        int bos = tokenizer.BosId is null ? 0 : 1;
        int textBudget = Math.Min(256, maxPositions - bos - promptLength);
        var list = texts.ToList();
        return new Workload(list.Sum(text => (long)Math.Min(tokenizer.Encode(template.Render(text)).Count, textBudget) + bos + promptLength), list.Count);
    }

    static string Optimizer(TuneOptions options) => $"{(options.OptimizerInUse == PromptOptimizer.Sgd ? "SGD" : "Adam")} lr {options.LearningRateInUse}";

    static BenchReport Report(IReadOnlyList<TaskResult> results, Models models, Settings s, IReadOnlyList<Stage> setup)
    {
        var report = new BenchReport("post", "POST: prompt transfer from a distilled student to the teacher")
            .Paragraph($"Teacher {models.Teacher.Config.NumLayers} layers × {models.Teacher.HiddenSize} hidden, context {models.Teacher.Config.MaxPositions} " +
                       $"({models.TeacherFlops.BodyParameters:N0} body parameters); student {models.Student.Config.NumLayers} layers ({models.StudentFlops.BodyParameters:N0}); " +
                       $"LM head (vocabulary × hidden) {models.TeacherFlops.HeadParameters:N0}. " +
                       $"Soft prompt of {s.Tuning.PromptLength} vectors, {s.Tuning.Epochs} epochs of batch {s.Tuning.BatchSize}; " +
                       $"tuning without DP: {Optimizer(s.TuningFor(false, null))}, with DP: {Optimizer(s.TuningFor(true, null))}; " +
                       $"transfer {s.TransferSteps} steps of Adam lr {s.TransferLearningRate}" +
                       (s.ValidateEvery > 0 ? $", keeping the prompt of best accuracy on the public labeled split, checked every {s.ValidateEvery} steps" : "") + $". DP: ε = {s.Epsilon}, δ = 1/N, clip {s.ClipNorm}, σ from the {PrivacyAccountants.Name(s.Accountant)} accountant. " +
                       BenchReport.RunConditions(s.Seed, setup))
            .Paragraph("FLOPs are estimates: forward = 2 · parameters · tokens for the transformer body (all positions: BOS, soft prompt, " +
                       "templated text) plus 2 · vocabulary · hidden per input for the LM head, which runs only at the prediction position; " +
                       "backward = 2 · forward. Cost ratio = (student tuning + α heuristic + transfer) / teacher full prompt tuning. " +
                       "Gap recovered = (POST − zero-shot) / (full PT − zero-shot), within the same privacy setting. " +
                       "Accuracies are followed by macro accuracy (mean per-class recall).");
        foreach (var r in results)
        {
            string Acc(Score score) => score.ToString();
            // Undefined where full PT did not move off zero-shot (0/0).
            string Ratio(double x) => double.IsFinite(x) ? $"{x:F2}" : "n/a (full PT = zero-shot)";
            string Cost(Variant v, string stage) => $"{v.Seconds(stage):F1} s, {v.Flops(stage) / 1e9:F1} GFLOP";
            var (n, d) = (r.NoDp, r.WithDp);
            report.Paragraph($"## {r.Task}\n\n{r.TrainExamples} private training examples, {r.TestExamples} test examples; α from {r.PublicExamples} public " +
                             $"labeled examples of `{r.PublicSplit}`; the transfer reads {r.TransferTexts} texts of {r.TransferTextsSource}. Prompts start from " +
                             $"{SoftPromptStart.Describe(r.InitText)}. " +
                             (r.DroppedLabelWords.Count == 0 ? "" : $"Label words left out (not one token of this vocabulary): {string.Join("; ", r.DroppedLabelWords)}. ") +
                             $"DP σ = {d.StudentPrivacy!.NoiseMultiplier:F3} (q = {d.StudentPrivacy.SampleRate:F3}, {d.StudentPrivacy.Steps} steps, δ = {d.StudentPrivacy.Delta:G3}) → " +
                             $"ε = {d.StudentPrivacy.Epsilon:F2} on student and teacher.");
            report.Table(["method", "accuracy", $"accuracy, DP ε = {s.Epsilon}", "cost (no DP)", "cost (DP)"],
            [
                ["(1) teacher zero-shot", Acc(r.ZeroShotScore), "—", $"{r.ZeroShot.Seconds:F1} s eval", "—"],
                ["(2) compressed PT (student prompt on student)", Acc(n.Compressed), Acc(d.Compressed), Cost(n, StudentTuning), Cost(d, StudentTuning)],
                ["(3) direct: student prompt on teacher", Acc(n.Direct), Acc(d.Direct), "—", "—"],
                [$"(4) POST transfer to teacher (α {n.Alpha.Alpha:F2} / {d.Alpha.Alpha:F2}; step {n.PostStep} / {d.PostStep})", Acc(n.Post), Acc(d.Post),
                    $"{Cost(n, TransferStage)} + α {n.Seconds(AlphaStage):F1} s", $"{Cost(d, TransferStage)} + α {d.Seconds(AlphaStage):F1} s"],
                [$"(4′) POST, the transfer's last step ({s.TransferSteps})", Acc(n.PostLast), Acc(d.PostLast), "—", "—"],
                ["(5) full PT on teacher", Acc(n.Full), Acc(d.Full), Cost(n, TeacherTuning), Cost(d, TeacherTuning)],
            ]);
            report.Table(["target", "no DP", $"DP ε = {s.Epsilon}"],
            [
                ["gap recovered (POST − zero-shot) / (full PT − zero-shot)", Ratio(r.NoDpTargets.GapRecovered), Ratio(r.DpTargets.GapRecovered)],
                ["cost ratio, wall-clock", $"{r.NoDpTargets.CostRatioSeconds:F2}", $"{r.DpTargets.CostRatioSeconds:F2}"],
                ["cost ratio, FLOP estimate", $"{r.NoDpTargets.CostRatioFlops:F2}", $"{r.DpTargets.CostRatioFlops:F2}"],
                ["DP POST − non-DP POST (accuracy points)", "", $"{100 * r.DpPostMinusNoDpPost:+0.0;-0.0}"],
            ]);
        }
        return report;
    }

    /// <summary>Grouped bars: per task and method, the accuracy without DP and with DP.</summary>
    static void PlotAccuracies(Plot plot, IReadOnlyList<TaskResult> results)
    {
        string[] methods = ["ZS", "comp.", "direct", "POST", "full"];
        var noDpColor = Colors.SteelBlue;
        var dpColor = Colors.DarkOrange;
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (int t = 0; t < results.Count; t++)
        {
            var r = results[t];
            double[] plain = [r.ZeroShotScore.Accuracy, r.NoDp.Compressed.Accuracy, r.NoDp.Direct.Accuracy, r.NoDp.Post.Accuracy, r.NoDp.Full.Accuracy];
            double?[] dp = [null, r.WithDp.Compressed.Accuracy, r.WithDp.Direct.Accuracy, r.WithDp.Post.Accuracy, r.WithDp.Full.Accuracy];
            for (int m = 0; m < methods.Length; m++)
            {
                double x = t * (methods.Length + 1) + m;
                bars.Add(new Bar { Position = x - 0.2, Value = 100 * plain[m], FillColor = noDpColor, Size = 0.4 });
                if (dp[m] is double a) bars.Add(new Bar { Position = x + 0.2, Value = 100 * a, FillColor = dpColor, Size = 0.4 });
                ticks.Add(new Tick(x, results.Count > 1 ? $"{r.Task}\n{methods[m]}" : methods[m], true));
            }
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.YLabel("test accuracy (%)");
        plot.XLabel("ZS = teacher zero-shot, comp. = compressed PT, full = full PT on the teacher");
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "no DP", FillColor = noDpColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "DP-SGD", FillColor = dpColor });
        plot.ShowLegend();
    }
}
