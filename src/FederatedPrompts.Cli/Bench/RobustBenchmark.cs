using System.CommandLine;
using FederatedPrompts.Aggregation.Soft;
using FederatedPrompts.Aggregation.Uploads;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Partitioning;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Post.Tuning;
using ScottPlot;
using Spectre.Console;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// <c>fedprompt bench robust</c>: one soft round of N clients on a task, every client tuning the same initial prompt on its
/// own split as a client job does, then one client replaced by an attacker, aggregated by every soft strategy. An attacker
/// is bounded by what the coordinator admits: each vector at most the run's norm bound, and the largest example count a
/// run accepts. For each attack and strategy: the student's test accuracy with the global prompt and its distance to
/// the honest clients' FedAvg.
/// </summary>
public static class RobustBenchmark
{
    public static Command Create()
    {
        var task = new Option<string>("--task") { Description = "Task folder name under --data (train.jsonl, test.jsonl, a preset of that name)", DefaultValueFactory = _ => "synthetic-sentiment" };
        var data = new Option<string>("--data") { Description = "Folder of task folders", DefaultValueFactory = _ => Path.Combine("runs", "bench-data") };
        var models = new BenchModels();
        var clients = new Option<int>("--clients") { Description = "Clients the training sample is dealt to; client-0 turns hostile (at least 3)", DefaultValueFactory = _ => 10 };
        var alpha = new Option<double>("--alpha") { Description = "Dirichlet concentration of the label skew between clients", DefaultValueFactory = _ => 1.0 };
        var trainLimit = new Option<int>("--train-limit") { Description = "Training examples dealt to the clients (seeded sample)", DefaultValueFactory = _ => 1000 };
        var testLimit = new Option<int>("--test-limit") { Description = "Test examples (seeded sample of test.jsonl)", DefaultValueFactory = _ => 400 };
        var promptLength = new Option<int>("--prompt-length") { Description = "Soft prompt length (vectors) the clients tune", DefaultValueFactory = _ => 10 };
        var epochs = new Option<int>("--epochs") { Description = "Local epochs (the run file's soft.epochs)", DefaultValueFactory = _ => 2 };
        var lr = new Option<double>("--lr") { Description = "Local Adam learning rate (a run's default without DP)", DefaultValueFactory = _ => SoftRunConfig.DefaultAdamLearningRate };
        var output = new Option<string>("--out") { Description = "Results folder", DefaultValueFactory = _ => Path.Combine("bench", "results") };
        var seed = CommonOptions.Seed();
        var command = new Command("robust", "One soft round with one hostile client of N: accuracy and distance to the honest mean per aggregation strategy")
            { task, data, clients, alpha, trainLimit, testLimit, promptLength, epochs, lr, output, seed };
        foreach (var option in models.Options) command.Add(option);
        command.SetAction(parse =>
        {
            int n = parse.GetValue(clients) is >= 3 and var c ? c : throw new UserInputException("--clients must be at least 3");
            if (parse.GetValue(epochs) < 1 || parse.GetValue(promptLength) < 1) throw new UserInputException("--epochs and --prompt-length must be at least 1");
            if (!(parse.GetValue(lr) > 0) || double.IsInfinity(parse.GetValue(lr))) throw new UserInputException("--lr must be positive and finite");
            int s = parse.GetValue(seed);
            var (teacherDir, studentDir, setup) = models.Ensure(parse, s);
            using var pair = BenchModels.Load(teacherDir, studentDir, "the clients tune on the distilled student");
            var result = Run(pair.Student, pair.Tokenizer, parse.GetValue(task)!, parse.GetValue(data)!, n, parse.GetValue(alpha), parse.GetValue(trainLimit),
                parse.GetValue(testLimit), new TuneOptions
                {
                    PromptLength = parse.GetValue(promptLength), Epochs = parse.GetValue(epochs), LearningRate = parse.GetValue(lr),
                    Optimizer = PromptOptimizer.Adam, BatchSize = new SoftRunConfig().BatchSize, Seed = s,
                });
            var numbers = new { student = BenchModels.Describe(studentDir, pair.Student), setup, result };
            var files = Report(result, s, setup).Write(parse.GetValue(output)!, numbers, plot => Plot(plot, result));
            foreach (var file in files) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(file)}[/]");
            return 0;
        });
        return command;
    }

    /// <summary>An attacker's upload: what it sends and the example count it claims.</summary>
    public sealed record Attack(string Name, string Description, int ClaimedExamples);

    /// <param name="Distance">‖global − honest FedAvg‖ / ‖honest FedAvg‖ over the prompt; null where the lengths differ (feddtpt).</param>
    public sealed record Row(string Attack, string Strategy, double Accuracy, double MacroAccuracy, double? Distance);

    /// <param name="HonestSpread">The mean distance of one honest client's prompt to the honest FedAvg: the scale distances compare with.</param>
    public sealed record Result(string Task, int Clients, double Alpha, int TrainExamples, int TestExamples, IReadOnlyList<int> ClientExamples,
        double NormBound, double LargestHonestNorm, double InitialAccuracy, double HonestFedAvgAccuracy, double HonestSpread, IReadOnlyList<Attack> Attacks,
        IReadOnlyList<Row> Rows)
    {
        public Row Of(string attack, string strategy) => Rows.Single(r => r.Attack == attack && r.Strategy == strategy);
    }

    const string Attacker = "client-0";

    static Result Run(CausalLM student, Modeling.Tokenization.ITextTokenizer tokenizer, string taskName, string dataDir, int clients, double alpha,
        int trainLimit, int testLimit, TuneOptions tuning)
    {
        string folder = Path.Combine(dataDir, taskName);
        var preset = TaskPreset.Get(taskName);
        var train = TaskFile.Load(Path.Combine(folder, "train.jsonl")).RequireAtLeastTwoClasses();
        var test = TaskFile.Load(Path.Combine(folder, "test.jsonl"));
        train = train.Sample(Math.Min(trainLimit, train.Count), tuning.Seed);
        test = test.Sample(Math.Min(testLimit, test.Count), tuning.Seed);
        preset.Verbalizer.RequireCovers(train.Labels);
        var labels = train.Labels;
        var classifier = new PromptedClassifier(student, tokenizer, labels, labels.Select(preset.Verbalizer.WordsFor).ToList(), preset.Template.Render);
        var partition = DirichletPartitioner.Split(train, clients, alpha, tuning.Seed);
        var testExamples = test.Examples.Select(e => (e.Text, e.Label)).ToList();
        var labelIndex = labels.Select((label, i) => (label, i)).ToDictionary(p => p.label, p => p.i);
        double bound = SoftRunConfig.DefaultMaxVectorNorm(InputEmbeddings.LargestRowNorm(student));
        string identity = ModelIdentity.Of(student);

        using var init = SoftPromptInit.Embed(student, tokenizer, tuning.PromptLength, preset.InitText, tuning.Seed);
        ClassificationResult Evaluate(IReadOnlyList<float[]> prompt)
        {
            using var scope = NewDisposeScope();
            return classifier.Evaluate(testExamples, new PromptInput(tensor(prompt.SelectMany(v => v).ToArray()).reshape(prompt.Count, student.HiddenSize)));
        }

        // The honest round: every client tunes the initial prompt on its split, as SoftLocalWork does.
        var honest = new List<SoftPromptUpload>();
        for (var k = 0; k < clients; k++)
        {
            var examples = partition.Clients[k].Examples.Select(e => (e.Text, labelIndex[e.Label])).ToList();
            AnsiConsole.MarkupLine($"client-{k}: tuning on {examples.Count} examples");
            using var scope = NewDisposeScope();
            var tuned = new SoftPromptTuner(student, tokenizer, classifier, tuning with { Seed = tuning.Seed + k }).TuneFrom(init, examples).Prompt;
            honest.Add(new SoftPromptUpload($"client-{k}", tuned.ToSoftPrompt(identity).Rows(), examples.Count));
        }
        var initRows = init.ToSoftPrompt(identity).Rows();
        var honestOthers = honest.Skip(1).ToList();
        var honestMean = SoftPromptAggregationStrategies.Create("fedavg").Aggregate(honestOthers).Vectors;

        // The attacks, each bounded as the coordinator bounds an upload.
        int maxCount = new RunConfig().MaxExampleCount;
        var random = new Random(tuning.Seed);
        float[] AtBound(IEnumerable<float> values)
        {
            var v = values.ToArray();
            double norm = Math.Sqrt(v.Sum(x => (double)x * x));
            return v.Select(x => (float)(x * bound / norm)).ToArray();
        }
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var signFlip = honest[0].Vectors.Select(v => AtBound(v.Select(x => -x))).ToArray();
        var noise = honest[0].Vectors.Select(v => AtBound(v.Select(_ => (float)Gaussian()))).ToArray();
        var attacks = new (Attack Attack, SoftPromptUpload? Upload)[]
        {
            (new Attack("none", "all clients honest", honest[0].ExampleCount), null),
            (new Attack("sign-flip", $"{Attacker} uploads its tuned prompt negated, every vector scaled to the norm bound; honest example count", honest[0].ExampleCount),
                new SoftPromptUpload(Attacker, signFlip, honest[0].ExampleCount)),
            (new Attack("sign-flip, max count", $"as sign-flip, claiming the run's max_example_count", maxCount), new SoftPromptUpload(Attacker, signFlip, maxCount)),
            (new Attack("noise, max count", $"{Attacker} uploads Gaussian vectors at the norm bound, claiming max_example_count", maxCount), new SoftPromptUpload(Attacker, noise, maxCount)),
        };

        var rows = new List<Row>();
        foreach (var (attack, upload) in attacks)
        {
            var uploads = upload is null ? honest : [upload, .. honestOthers];
            foreach (var strategy in SoftPromptAggregationStrategies.Names)
            {
                var global = SoftPromptAggregationStrategies.Create(strategy, new SoftAggregationOptions(MaxLength: tuning.PromptLength)).Aggregate(uploads).Vectors;
                var score = Evaluate(global);
                var row = new Row(attack.Name, strategy, score.Accuracy, score.MacroAccuracy, global.Count == honestMean.Count ? RelativeDistance(global, honestMean) : null);
                AnsiConsole.MarkupLine($"{Markup.Escape(attack.Name)}, {strategy}: accuracy {row.Accuracy:P1}, distance to the honest mean {(row.Distance is { } d ? d.ToString("0.000") : "n/a")}");
                rows.Add(row);
            }
        }
        return new Result(taskName, clients, alpha, train.Count, test.Count, honest.Select(u => u.ExampleCount).ToList(), bound,
            honest.SelectMany(u => u.Vectors).Max(v => Math.Sqrt(v.Sum(x => (double)x * x))), Evaluate(initRows).Accuracy, Evaluate(honestMean).Accuracy,
            honestOthers.Average(u => RelativeDistance(u.Vectors, honestMean)), attacks.Select(a => a.Attack).ToList(), rows);
    }

    static double RelativeDistance(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b)
    {
        double difference = 0, reference = 0;
        for (var p = 0; p < a.Count; p++)
            for (var d = 0; d < a[p].Length; d++)
            {
                difference += Math.Pow(a[p][d] - b[p][d], 2);
                reference += Math.Pow(b[p][d], 2);
            }
        return Math.Sqrt(difference / reference);
    }

    static BenchReport Report(Result r, int seed, IReadOnlyList<Stage> setup)
    {
        var report = new BenchReport("robust", "Robust aggregation: one hostile client among the soft-prompt uploads")
            .Paragraph($"Task {r.Task}: {r.TrainExamples} training examples dealt to {r.Clients} clients (Dirichlet α = {r.Alpha}; "
                + $"{string.Join(", ", r.ClientExamples)} examples), {r.TestExamples} test examples, held-out accuracy of the student with the global prompt. "
                + $"{BenchReport.RunConditions(seed, setup)}")
            .Paragraph($"Initial prompt: {r.InitialAccuracy:P1}; FedAvg of the {r.Clients - 1} honest clients other than {Attacker}: {r.HonestFedAvgAccuracy:P1}. "
                + $"One honest client's prompt lies {r.HonestSpread:0.000} from that mean on average (the distance is ‖global − mean‖ / ‖mean‖). "
                + $"Norm bound {r.NormBound:G4} (the run's default: {SoftRunConfig.NormBoundFactor} × the student's largest input-embedding norm, at least 1; the largest honest vector: {r.LargestHonestNorm:G4}).")
            .Paragraph(string.Join(" ", r.Attacks.Select(a => $"**{a.Name}**: {a.Description}.")))
            .Table(["attack", "strategy", "accuracy", "macro accuracy", "distance to the honest FedAvg"],
                r.Rows.Select(row => (IReadOnlyList<string>)[row.Attack, row.Strategy, $"{row.Accuracy:P1}", $"{row.MacroAccuracy:P1}",
                    row.Distance is { } d ? d.ToString("0.000") : "n/a (other length)"]));
        return report;
    }

    static void Plot(Plot plot, Result r)
    {
        var strategies = SoftPromptAggregationStrategies.Names;
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (var a = 0; a < r.Attacks.Count; a++)
        {
            for (var s = 0; s < strategies.Count; s++)
                bars.Add(new Bar { Position = a * (strategies.Count + 1) + s, Value = 100 * r.Of(r.Attacks[a].Name, strategies[s]).Accuracy, FillColor = palette.GetColor(s), Size = 0.8 });
            ticks.Add(new Tick(a * (strategies.Count + 1) + (strategies.Count - 1) / 2.0, r.Attacks[a].Name, true));
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.SetLimitsY(0, 100);
        plot.YLabel("test accuracy of the global prompt (%)");
        plot.XLabel($"attack by one of {r.Clients} clients");
        for (var s = 0; s < strategies.Count; s++) plot.Legend.ManualItems.Add(new LegendItem { LabelText = strategies[s], FillColor = palette.GetColor(s) });
        plot.ShowLegend();
    }
}
