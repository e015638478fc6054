using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Post.Privacy;
using FederatedPrompts.Post.Tuning;
using ScottPlot;
using Spectre.Console;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// <c>fedprompt bench privacy</c> (issue #16): what DP buys and what the tight accountant saves. (1) The PRV accountant
/// against the values Opacus' tests pin, beside RDP's ε for the same steps. (2) A membership-inference audit of soft prompts
/// tuned on the distilled student: prompts on random halves of one pool (each example in exactly half), without DP and at
/// each ε with σ from the PRV accountant, and at the largest ε with σ from RDP; the loss-threshold attack and LiRA
/// (<see cref="MembershipAudit"/>), with each setting's test accuracy. The difference between the two σ at the same ε is
/// the accuracy the tight accountant buys.
/// </summary>
public static class PrivacyBenchmark
{
    /// <summary>Opacus' tests/prv_accountant.py: (σ, q, steps) → ε at δ = 1e-6, computed with Microsoft's prv_accountant.</summary>
    static readonly (double Sigma, double Q, int Steps, double Epsilon)[] OpacusReference =
    [
        (0.8, 0.001, 100, 0.270403364058018680360362395731), (1.5, 0.001, 100, 0.0393694193095203287535710501288),
        (2.0, 0.001, 100, 0.0291045369484074882560076247273), (3.0, 0.001, 100, 0.0215200934390882663016508757892),
        (0.8, 0.05, 100, 6.74105193941409996938318727189), (1.5, 0.05, 100, 1.95385313568420015961635272106),
        (2.0, 0.05, 100, 1.28363737962406521120328761754), (3.0, 0.05, 100, 0.767933789666825572517439013609),
        (0.8, 0.2, 100, 24.3336641779225644199868838768), (1.5, 0.2, 100, 8.49897785912163072907787864096),
        (2.0, 0.2, 100, 5.67205560882372950004537415225), (3.0, 0.2, 100, 3.38122051022184422208738396876),
        (0.8, 0.001, 1000, 0.477771266184522591657923840103), (1.5, 0.001, 1000, 0.0998206602308474855167474970585),
        (2.0, 0.001, 1000, 0.0712187825381152272985474382949), (3.0, 0.001, 1000, 0.0476159308713589302097801692071),
        (0.8, 0.05, 1000, 19.5258428053837356230815203162), (1.5, 0.05, 1000, 6.20996924657726712126759593957),
        (2.0, 0.05, 1000, 4.17279986668931890392286732094), (3.0, 0.05, 1000, 2.52757432605973830774814814504),
        (0.8, 0.001, 20000, 1.29600925757016161021795142005), (1.5, 0.001, 20000, 0.437005108654860807693154356457),
        (2.0, 0.001, 20000, 0.305837939762453436820521801565), (3.0, 0.001, 20000, 0.194031030686054706269061398416),
        (0.8, 0.05, 20000, 140.655209760074228597659384832), (1.5, 0.05, 20000, 38.3066179140872336006395926233),
        (2.0, 0.05, 20000, 24.4217185703225858617315680021), (3.0, 0.05, 20000, 13.9611146992367061159256991232),
        (0.8, 0.001, 50000, 2.03451480771586634688219419331), (1.5, 0.001, 50000, 0.704218384555810095193351116905),
        (2.0, 0.001, 50000, 0.491354910211401318953505779064), (3.0, 0.001, 50000, 0.309694161156544023327796821832),
        (0.8, 0.05, 50000, 291.384325452396524269715882838), (1.5, 0.05, 50000, 73.1901767238329625797632616013),
        (2.0, 0.05, 50000, 45.2369958613306906158868514467), (3.0, 0.05, 50000, 24.9420056431444763234139827546),
        (0.8, 0.001, 100000, 2.92462211935041027643933375657), (1.5, 0.001, 100000, 1.01528807502760787251361307426),
        (2.0, 0.001, 100000, 0.706719901081851564761393547087), (3.0, 0.001, 100000, 0.443671720880875475323534828931),
    ];

    /// <summary>Issue #16's target at ε = 8: AUC within this of chance …</summary>
    const double AucTolerance = 0.03;

    /// <summary>… while accuracy stays within this many points of the prompts tuned without DP.</summary>
    const double AccuracyTolerancePoints = 5;

    public static Command Create()
    {
        var tasks = new Option<string>("--tasks") { Description = "Comma-separated tasks under --data (sst2, trec, spam, imdb)", DefaultValueFactory = _ => "sst2" };
        var data = new Option<string>("--data") { Description = "Folder of task folders with train.jsonl and test.jsonl", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "tasks") };
        var models = new BenchModels();
        var pool = new Option<int>("--pool") { Description = "Examples of train.jsonl (seeded sample) whose random halves tune the audited prompts", DefaultValueFactory = _ => 200 };
        var testLimit = new Option<int>("--test-limit") { Description = "Test examples every prompt is evaluated on (seeded sample of test.jsonl)", DefaultValueFactory = _ => 200 };
        var prompts = new Option<int>("--prompts") { Description = "Prompts per setting (even, ≥ 4): each the attack's target once, the others its shadows", DefaultValueFactory = _ => 16 };
        var epsilons = new Option<string>("--epsilons") { Description = "Target ε values of the DP settings (σ from the PRV accountant; the largest also from RDP)", DefaultValueFactory = _ => "1,3,8" };
        var promptLength = new Option<int>("--prompt-length") { Description = "Soft prompt length (vectors)", DefaultValueFactory = _ => 10 };
        var epochs = new Option<int>("--epochs") { Description = "Tuning epochs (in expectation under DP)", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch-size") { Description = "Batch size (expected size under DP)", DefaultValueFactory = _ => 16 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate without DP", DefaultValueFactory = _ => 1e-2 };
        var sgdLr = new Option<double>("--sgd-lr") { Description = "SGD learning rate with DP (the official DP path's optimizer)", DefaultValueFactory = _ => TuneOptions.DefaultLearningRate(PromptOptimizer.Sgd) };
        var clip = new Option<double>("--clip") { Description = "DP-SGD per-example clip norm", DefaultValueFactory = _ => 1.0 };
        var reference = new Option<bool>("--skip-reference") { Description = "Leave out the accountant's reference table (40 settings, about two minutes)" };
        var output = new Option<string>("--out") { Description = "Results folder", DefaultValueFactory = _ => Path.Combine("bench", "results") };
        var seed = CommonOptions.Seed();
        var command = new Command("privacy", "PRV accountant against Opacus' reference values, and a membership-inference audit (loss threshold, LiRA) of soft prompts without DP and at each ε")
        {
            tasks, data, pool, testLimit, prompts, epsilons, promptLength, epochs, batch, lr, sgdLr, clip, reference, output, seed,
        };
        foreach (var option in models.Options) command.Add(option);
        command.SetAction(parse =>
        {
            var targets = parse.GetValue(epsilons)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var e) && e > 0 && double.IsFinite(e)
                    ? e : throw new UserInputException($"--epsilons: \"{text}\" is not a positive number")).Distinct().Order().ToArray();
            if (targets.Length == 0) throw new UserInputException("--epsilons names no ε");
            var settings = new Settings(
                parse.GetValue(tasks)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), parse.GetValue(data)!,
                Positive(parse.GetValue(pool), "--pool"), Positive(parse.GetValue(testLimit), "--test-limit"), parse.GetValue(prompts), targets,
                new TuneOptions { PromptLength = Positive(parse.GetValue(promptLength), "--prompt-length"), Epochs = Positive(parse.GetValue(epochs), "--epochs"), BatchSize = Positive(parse.GetValue(batch), "--batch-size") },
                parse.GetValue(lr), parse.GetValue(sgdLr), parse.GetValue(clip), parse.GetValue(seed));
            if (settings.Tasks.Length == 0) throw new UserInputException("--tasks names no task");
            if (settings.Prompts < 4 || settings.Prompts % 2 != 0) throw new UserInputException($"--prompts must be even and at least 4, got {settings.Prompts}");
            foreach (var (option, value) in new[] { ("--lr", settings.AdamLearningRate), ("--sgd-lr", settings.SgdLearningRate), ("--clip", settings.ClipNorm) })
                if (!(value > 0) || double.IsInfinity(value)) throw new UserInputException($"{option} must be positive and finite, got {value}");

            var referenceRows = parse.GetValue(reference) ? [] : Reference();
            var (teacherDir, studentDir, setup) = models.Ensure(parse, settings.Seed);
            using var pair = BenchModels.Load(teacherDir, studentDir, "the audit tunes on the distilled student");
            var results = settings.Tasks.Select(task => Audit(task, pair, settings)).ToList();
            var numbers = new
            {
                student = BenchModels.Describe(studentDir, pair.Student),
                settings = new
                {
                    settings.Pool, settings.TestLimit, settings.Prompts, epsilons = settings.Epsilons, settings.Tuning.PromptLength, settings.Tuning.Epochs, settings.Tuning.BatchSize,
                    settings.AdamLearningRate, settings.SgdLearningRate, settings.ClipNorm, settings.Seed, threads = get_num_threads(), Environment.ProcessorCount,
                },
                setup, accountant_reference = referenceRows, tasks = results,
            };
            var files = Report(referenceRows, results, settings, setup).Write(parse.GetValue(output)!, numbers, plot => PlotAuc(plot, results));
            foreach (var file in files) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(file)}[/]");
            return 0;
        });
        return command;
    }

    static int Positive(int value, string option) => value >= 1 ? value : throw new UserInputException($"{option} must be at least 1, got {value}");

    sealed record Settings(string[] Tasks, string DataDir, int Pool, int TestLimit, int Prompts, double[] Epsilons, TuneOptions Tuning,
        double AdamLearningRate, double SgdLearningRate, double ClipNorm, int Seed);

    public sealed record ReferenceRow(double Sigma, double SampleRate, int Steps, double Opacus, double Prv, double PrvEstimate, double Rdp, double Seconds);

    public sealed record PrivacySetting(string Name, double? Epsilon, string? Accountant);

    /// <param name="NoiseMultipliers">σ of each prompt (prompts differ in size by a few examples, so q and σ do too); empty without DP.</param>
    public sealed record SettingResult(PrivacySetting Setting, IReadOnlyList<double> NoiseMultipliers, double Delta, IReadOnlyList<double> Accuracies,
        AttackResult Loss, AttackResult Lira, double Seconds)
    {
        public double MeanAccuracy => Accuracies.Average();
        public double AccuracySpread => Math.Sqrt(Accuracies.Sum(a => (a - MeanAccuracy) * (a - MeanAccuracy)) / Math.Max(1, Accuracies.Count - 1));
    }

    public sealed record TaskAudit(string Task, int Pool, int TestExamples, string? InitText, IReadOnlyList<SettingResult> Settings);

    static IReadOnlyList<ReferenceRow> Reference()
    {
        AnsiConsole.MarkupLine($"PRV accountant against Opacus' {OpacusReference.Length} reference values (δ = 1e-6)");
        return OpacusReference.Select(r =>
        {
            var clock = Stopwatch.StartNew();
            var prv = PrvAccountant.Epsilon(r.Q, r.Sigma, r.Steps, 1e-6);
            double seconds = clock.Elapsed.TotalSeconds;
            double rdp = RdpAccountant.Epsilon(r.Q, r.Sigma, r.Steps, 1e-6).Epsilon;
            AnsiConsole.MarkupLine($"  σ {r.Sigma}, q {r.Q}, {r.Steps} steps: PRV {prv.Upper:G8} (Opacus {r.Epsilon:G8}), RDP {rdp:G6}, {seconds:F1} s");
            return new ReferenceRow(r.Sigma, r.Q, r.Steps, r.Epsilon, prv.Upper, prv.Estimate, rdp, seconds);
        }).ToList();
    }

    static TaskAudit Audit(string task, LoadedModels models, Settings settings)
    {
        string folder = Path.Combine(settings.DataDir, task);
        var preset = TaskPreset.Get(task);
        var train = TaskFile.Load(Path.Combine(folder, "train.jsonl")).RequireAtLeastTwoClasses();
        var pool = train.Sample(Math.Min(settings.Pool, train.Count), settings.Seed);
        var test = TaskFile.Load(Path.Combine(folder, "test.jsonl")).Sample(settings.TestLimit, settings.Seed);
        preset.Verbalizer.RequireCovers(train.Labels);
        var labels = train.Labels;
        var classifier = new PromptedClassifier(models.Student, models.Tokenizer, labels, labels.Select(preset.Verbalizer.WordsFor).ToList(), preset.Template.Render);
        LabelWordWarnings.Print(classifier);
        var labelIndex = labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i);
        var poolExamples = pool.Examples.Select(e => (e.Text, Label: labelIndex[e.Label])).ToList();
        var testExamples = test.Examples.Select(e => (e.Text, e.Label)).ToList();
        var mask = MembershipAudit.Halves(settings.Prompts, poolExamples.Count, settings.Seed);

        List<PrivacySetting> privacySettings = [new("no DP", null, null)];
        privacySettings.AddRange(settings.Epsilons.Select(e => new PrivacySetting($"ε = {e:G4} (σ from PRV)", e, PrivacyAccountants.Name(AccountantKind.Prv))));
        double largest = settings.Epsilons[^1];
        privacySettings.Add(new PrivacySetting($"ε = {largest:G4} (σ from RDP)", largest, PrivacyAccountants.Name(AccountantKind.Rdp)));

        AnsiConsole.MarkupLine($"[bold]{task}[/]: {poolExamples.Count} pool examples (each in {settings.Prompts / 2} of {settings.Prompts} prompts), {testExamples.Count} test examples");
        var results = new List<SettingResult>();
        foreach (var setting in privacySettings)
        {
            var clock = Stopwatch.StartNew();
            var confidence = new double[settings.Prompts][];
            var accuracies = new List<double>();
            var sigmas = new List<double>();
            double delta = 2.0 / poolExamples.Count;   // 1/N of the expected half
            var sigmaOf = new Dictionary<int, double>();   // by member count: q and steps depend only on it
            for (int i = 0; i < settings.Prompts; i++)
            {
                var members = poolExamples.Where((_, m) => mask[i][m]).ToList();
                var options = settings.Tuning with { InitText = preset.InitText, Seed = settings.Seed * 1000 + i, ClipNorm = setting.Epsilon is null ? null : settings.ClipNorm };
                options = options with { LearningRate = options.OptimizerInUse == PromptOptimizer.Sgd ? settings.SgdLearningRate : settings.AdamLearningRate };
                if (setting.Epsilon is double epsilon)
                {
                    if (!sigmaOf.TryGetValue(members.Count, out double sigma))
                        sigmaOf[members.Count] = sigma = SoftPromptTuner.WithNoiseForEpsilon(options, members.Count, epsilon, delta, PrivacyAccountants.Parse(setting.Accountant)).NoiseMultiplier!.Value;
                    options = options with { NoiseMultiplier = sigma };
                    sigmas.Add(sigma);
                }
                using var scope = NewDisposeScope();
                var tuned = new SoftPromptTuner(models.Student, models.Tokenizer, classifier, options).Tune(members);
                var prompt = new PromptInput(tuned.Prompt);
                confidence[i] = Confidences(classifier, poolExamples, prompt);
                accuracies.Add(classifier.Evaluate(testExamples, prompt).Accuracy);
                AnsiConsole.MarkupLine($"  {Markup.Escape(setting.Name)}: prompt {i + 1}/{settings.Prompts} on {members.Count} examples" +
                                       (sigmas.Count > 0 ? $", σ {sigmas[^1]:F3}" : "") + $": test accuracy {accuracies[^1]:P1}");
            }
            var result = new SettingResult(setting, sigmas, delta, accuracies, MembershipAudit.LossThreshold(confidence, mask), MembershipAudit.Lira(confidence, mask), clock.Elapsed.TotalSeconds);
            AnsiConsole.MarkupLine($"  {Markup.Escape(setting.Name)}: accuracy {result.MeanAccuracy:P1}, loss-attack AUC {result.Loss.Auc:F3}, LiRA AUC {result.Lira.Auc:F3} " +
                                   $"(TPR {result.Lira.TprAtOnePercentFpr:P1} at 1 % FPR), {result.Seconds:F0} s");
            results.Add(result);
        }
        return new TaskAudit(task, poolExamples.Count, testExamples.Count, preset.InitText, results);
    }

    /// <summary>φ of every pool example's true label under the prompt, in batches, without gradients.</summary>
    static double[] Confidences(PromptedClassifier classifier, IReadOnlyList<(string Text, int Label)> examples, PromptInput prompt)
    {
        using var noGrad = no_grad();
        var confidence = new double[examples.Count];
        const int batch = 32;
        for (int start = 0; start < examples.Count; start += batch)
        {
            using var scope = NewDisposeScope();
            var slice = examples.Skip(start).Take(batch).ToList();
            var scores = classifier.ClassScores(slice.Select(e => e.Text).ToList(), prompt).to_type(ScalarType.Float64).cpu();
            int classes = (int)scores.shape[1];
            var values = scores.data<double>().ToArray();
            for (int k = 0; k < slice.Count; k++)
                confidence[start + k] = MembershipAudit.LogitConfidence(new ArraySegment<double>(values, k * classes, classes), slice[k].Label);
        }
        return confidence;
    }

    static BenchReport Report(IReadOnlyList<ReferenceRow> reference, IReadOnlyList<TaskAudit> audits, Settings s, IReadOnlyList<Stage> setup)
    {
        var report = new BenchReport("privacy", "Privacy: the PRV accountant and a membership-inference audit of soft prompts");
        report.Paragraph($"Audit: per task, {s.Pool} training examples (seeded sample); {s.Prompts} soft prompts per setting, each tuned on a random half " +
                         $"(every example in exactly {s.Prompts / 2}), on the distilled student: length {s.Tuning.PromptLength}, {s.Tuning.Epochs} epochs " +
                         $"(in expectation under DP), batch {s.Tuning.BatchSize}; Adam lr {s.AdamLearningRate:G3} without DP, SGD lr {s.SgdLearningRate:G3} with DP-SGD " +
                         $"(clip {s.ClipNorm}, δ = 1/N of the expected half). Each prompt is the attacks' target once, the other {s.Prompts - 1} its shadows; " +
                         "a guess per (target, pool example). Loss attack: the logit-scaled confidence of the true label; LiRA: online, fixed variance " +
                         "(Carlini et al. 2022). Accuracy: mean ± standard deviation over the prompts on the test sample. " + BenchReport.RunConditions(s.Seed, setup));
        foreach (var audit in audits)
        {
            report.Paragraph($"## {audit.Task}\n\n{audit.Pool} pool examples, {audit.TestExamples} test examples; prompts start from {SoftPromptStart.Describe(audit.InitText)}.");
            report.Table(["setting", "σ (range over the prompts)", "test accuracy", "loss attack AUC", "loss TPR at 1 % FPR", "LiRA AUC", "LiRA TPR at 1 % FPR", "seconds"],
                audit.Settings.Select(r => (IReadOnlyList<string>)
                [
                    r.Setting.Name, r.NoiseMultipliers.Count == 0 ? "—" : $"{r.NoiseMultipliers.Min():F3}–{r.NoiseMultipliers.Max():F3}",
                    $"{100 * r.MeanAccuracy:F1} ± {100 * r.AccuracySpread:F1} %", $"{r.Loss.Auc:F3}", $"{100 * r.Loss.TprAtOnePercentFpr:F1} %",
                    $"{r.Lira.Auc:F3}", $"{100 * r.Lira.TprAtOnePercentFpr:F1} %", $"{r.Seconds:F0}",
                ]));
            var plain = audit.Settings[0];
            var prv = audit.Settings[^2];
            var rdp = audit.Settings[^1];
            double worstAuc = Math.Max(Math.Abs(prv.Lira.Auc - 0.5), Math.Abs(prv.Loss.Auc - 0.5));
            double accuracyGap = 100 * (plain.MeanAccuracy - prv.MeanAccuracy);
            report.Table(["target (issue #16)", "goal", "measured", "met"],
            [
                [$"AUC at {prv.Setting.Name}, both attacks", $"within {AucTolerance} of 0.5", $"{prv.Loss.Auc:F3} (loss), {prv.Lira.Auc:F3} (LiRA)", worstAuc <= AucTolerance ? "yes" : "no"],
                [$"accuracy at {prv.Setting.Name} against no DP", $"within {AccuracyTolerancePoints} points", $"{-accuracyGap:+0.0;-0.0} points", accuracyGap <= AccuracyTolerancePoints ? "yes" : "no"],
                ["what the PRV accountant buys at the same ε", "—", $"σ {prv.NoiseMultipliers.Average():F3} (PRV) against {rdp.NoiseMultipliers.Average():F3} (RDP); " +
                    $"accuracy {100 * (prv.MeanAccuracy - rdp.MeanAccuracy):+0.0;-0.0} points", "—"],
            ]);
        }
        if (reference.Count > 0)
        {
            report.Paragraph("## The PRV accountant against Opacus\n\nε at δ = 1e-6 for one segment of (σ, q, steps): the values Opacus' tests pin " +
                             "(tests/prv_accountant.py, computed with Microsoft's prv_accountant, asserted there to 5 decimal places), this project's PRV " +
                             $"accountant (the reported upper end; ε error 0.01, δ error δ/1000), its estimate, and the RDP accountant's ε for the same steps. " +
                             $"Largest difference from Opacus: {reference.Max(r => Math.Abs(r.Prv - r.Opacus)):G3} (relative {reference.Max(r => Math.Abs(r.Prv - r.Opacus) / r.Opacus):G3}).");
            report.Table(["σ", "q", "steps", "Opacus", "PRV (upper)", "difference", "PRV estimate", "RDP", "RDP / PRV", "seconds"],
                reference.Select(r => (IReadOnlyList<string>)
                [
                    $"{r.Sigma}", $"{r.SampleRate}", $"{r.Steps}", $"{r.Opacus:G8}", $"{r.Prv:G8}", $"{r.Prv - r.Opacus:+0.0E+0;-0.0E+0;0}",
                    $"{r.PrvEstimate:G6}", $"{r.Rdp:G6}", $"{r.Rdp / r.Prv:F2}", $"{r.Seconds:F1}",
                ]));
        }
        return report;
    }

    /// <summary>LiRA and loss-attack AUC per setting and task, with chance at 0.5 marked.</summary>
    static void PlotAuc(Plot plot, IReadOnlyList<TaskAudit> audits)
    {
        var lossColor = Colors.SteelBlue;
        var liraColor = Colors.DarkOrange;
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        int width = audits.Count == 0 ? 0 : audits.Max(a => a.Settings.Count) + 1;
        for (int t = 0; t < audits.Count; t++)
            for (int k = 0; k < audits[t].Settings.Count; k++)
            {
                var r = audits[t].Settings[k];
                double x = t * width + k;
                bars.Add(new Bar { Position = x - 0.2, Value = r.Loss.Auc, FillColor = lossColor, Size = 0.4, ValueBase = 0.5 });
                bars.Add(new Bar { Position = x + 0.2, Value = r.Lira.Auc, FillColor = liraColor, Size = 0.4, ValueBase = 0.5 });
                string name = r.Setting.Epsilon is double e ? $"ε={e:G3}" + (r.Setting.Accountant == "rdp" ? " rdp" : "") : "no DP";
                ticks.Add(new Tick(x, audits.Count > 1 ? $"{audits[t].Task}\n{name}" : name, true));
            }
        plot.Add.Bars(bars);
        plot.Add.HorizontalLine(0.5, 1, Colors.Gray, LinePattern.Dashed);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.YLabel("attack AUC (0.5 = chance; bars start at 0.5)");
        plot.XLabel("setting: prompts tuned without DP, and with DP-SGD at ε (σ from the PRV accountant unless marked rdp)");
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "loss threshold", FillColor = lossColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "LiRA", FillColor = liraColor });
        plot.ShowLegend();
    }
}
