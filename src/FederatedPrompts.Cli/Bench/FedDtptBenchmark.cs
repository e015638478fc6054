using FederatedPrompts.Core.Prompts;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using FederatedPrompts.Aggregation.Clustering;
using FederatedPrompts.Aggregation.Geometry;
using FederatedPrompts.Aggregation.Tokens;
using FederatedPrompts.Aggregation.Uploads;
using FederatedPrompts.Cli.Commands;
using FederatedPrompts.Core.Partitioning;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Discrete.Proposal;
using FederatedPrompts.Discrete.Search;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using ScottPlot;
using Spectre.Console;
using static TorchSharp.torch;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// <c>fedprompt bench feddtpt</c>: FedDTPT simulated in-process. Per task and partition (Dirichlet α and IID over --clients
/// clients), for --rounds rounds every client runs <see cref="DiscretePromptSearch"/> from the global prompt through its own
/// metered <see cref="LocalBlackBoxClassifier"/> (the teacher), on its partition plus a balanced public set taken from the
/// train split outside the clients' data; it uploads its token ids; the server aggregates them with a token strategy and
/// the global prompt is evaluated on the test split. Rows: the manual prompt (the start), FedDTPT, the client ablation
/// without feedback, and the server ablations FedAvg, attention without clustering, and k-means with fixed k. Bytes uploaded
/// are the upload's JSON line as <c>fedprompt aggregate</c> reads it; queries come from each client's meter. Transferability:
/// FedDTPT's global prompt searched on the teacher is evaluated on the student, and one searched on the student on the teacher.
/// </summary>
public static class FedDtptBenchmark
{
    /// <summary>The manual prompt each task starts from (put before the task template's text).</summary>
    public static readonly IReadOnlyDictionary<string, string> ManualPrompts = new Dictionary<string, string>
    {
        ["sst2"] = " Is this movie review great or terrible?",
        ["trec"] = " Which type of answer does this question ask for?",
        ["spam"] = " Is this message advertising or personal?",   // the preset's label words
        ["synthetic-sentiment"] = "Review:",                        // the main job's discrete start (README: 36 % on the built-in teacher)
    };

    public static Command Create()
    {
        var tasks = new Option<string>("--tasks") { Description = "Comma-separated tasks under --data (sst2, trec, spam)", DefaultValueFactory = _ => "sst2,trec" };
        var data = new Option<string>("--data") { Description = "Folder of task folders with train.jsonl and test.jsonl", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "tasks") };
        var models = new BenchModels();
        var clients = new Option<int>("--clients") { Description = "Clients the training sample is dealt to", DefaultValueFactory = _ => 10 };
        var alpha = new Option<double>("--alpha") { Description = "Dirichlet concentration of the non-IID partition", DefaultValueFactory = _ => 0.1 };
        var rounds = new Option<int>("--rounds") { Description = "Federated rounds", DefaultValueFactory = _ => 3 };
        var trainLimit = new Option<int>("--train-limit") { Description = "Training examples dealt to the clients (seeded sample of train.jsonl)", DefaultValueFactory = _ => 500 };
        var testLimit = new Option<int>("--test-limit") { Description = "Test examples the global prompt is evaluated on (seeded sample of test.jsonl)", DefaultValueFactory = _ => 200 };
        var publicPerLabel = new Option<int>("--public-per-label") { Description = "Balanced public examples per label, from train.jsonl outside the clients' data", DefaultValueFactory = _ => 2 };
        var iterations = new Option<int>("--iterations") { Description = "Search iterations per client per round", DefaultValueFactory = _ => 3 };
        var positions = new Option<int>("--positions") { Description = "Prompt positions tried per iteration", DefaultValueFactory = _ => 2 };
        var candidates = new Option<int>("--candidates") { Description = "Candidates evaluated per position", DefaultValueFactory = _ => 4 };
        var localBatch = new Option<int>("--local-batch") { Description = "Local examples per evaluation batch", DefaultValueFactory = _ => 8 };
        var strategies = new Option<string>("--strategies")
        {
            Description = $"Server strategies: FedDTPT first, then the ablations ({string.Join(", ", TokenAggregationStrategies.Names)})",
            DefaultValueFactory = _ => "feddtpt,fedavg,attention,kmeans",
        };
        var minSamples = new Option<int>("--min-samples") { Description = "DBSCAN min_samples of the feddtpt strategy", DefaultValueFactory = _ => 2 };
        var embeddings = new Option<string>("--embeddings") { Description = "Server: what uploaded tokens are compared in (minilm: the sentence encoder on each token's text; lm: the student's input embeddings)", DefaultValueFactory = _ => TokenSpaces.MiniLm }
            .AcceptOnlyFromAmong([.. TokenSpaces.Names]);
        var neighbours = new Option<string>("--neighbours") { Description = "Clients: where the proposer finds a token's neighbours (minilm or lm)", DefaultValueFactory = _ => TokenSpaces.MiniLm }
            .AcceptOnlyFromAmong([.. TokenSpaces.Names]);
        var knee = new Option<string>("--knee") { Description = "How eps is read off the k-distance curve (kneed, kneedle-global)", DefaultValueFactory = _ => "kneed" }
            .AcceptOnlyFromAmong([.. KneeNames.Names]);
        var eps = new Option<double?>("--eps") { Description = "A fixed DBSCAN eps instead of the knee" };
        var k = new Option<int?>("--k") { Description = "k of the kmeans ablation (default: the prompt length)" };
        var promptLength = new Option<int?>("--prompt-length") { Description = "Global prompt length (feddtpt: cap; attention: L; kmeans: k); default: the manual prompt's length" };
        var output = new Option<string>("--out") { Description = "Results folder", DefaultValueFactory = _ => Path.Combine("bench", "results") };
        var seed = CommonOptions.Seed();
        var command = new Command("feddtpt", "FedDTPT simulated in-process: manual prompt, FedDTPT, client and server ablations, upload bytes, queries, transferability")
        {
            tasks, data, clients, alpha, rounds, trainLimit, testLimit, publicPerLabel, iterations, positions, candidates, localBatch,
            strategies, minSamples, embeddings, neighbours, knee, eps, k, promptLength, output, seed,
        };
        foreach (var option in models.Options) command.Add(option);
        command.SetAction(parse =>
        {
            var settings = new Settings(
                parse.GetValue(tasks)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), parse.GetValue(data)!,
                parse.GetValue(clients), parse.GetValue(alpha), parse.GetValue(rounds), parse.GetValue(trainLimit), parse.GetValue(testLimit),
                parse.GetValue(strategies)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => s.ToLowerInvariant()).ToArray(),
                parse.GetValue(minSamples), parse.GetValue(promptLength), parse.GetValue(embeddings)!, parse.GetValue(neighbours)!,
                parse.GetValue(eps) is { } fixedEps && !(fixedEps >= 0 && double.IsFinite(fixedEps))
                    ? throw new UserInputException($"--eps must be a finite number ≥ 0, not {fixedEps}")
                    : new EpsRule(KneeNames.Parse(parse.GetValue(knee)!), parse.GetValue(eps)), parse.GetValue(k),
                new DiscreteSearchOptions
                {
                    Iterations = parse.GetValue(iterations), PositionsPerIteration = parse.GetValue(positions), CandidatesPerPosition = parse.GetValue(candidates),
                    LocalBatchSize = parse.GetValue(localBatch), PublicPerLabel = parse.GetValue(publicPerLabel),
                },
                parse.GetValue(seed));
            settings.Check();
            var (teacherDir, studentDir, setup) = models.Ensure(parse, settings.Seed);

            using var pair = BenchModels.Load(teacherDir, studentDir, "a discrete prompt needs one vocabulary");
            var world = new World(pair.Teacher, pair.Student, pair.Tokenizer, TokenSpaces.Create(settings.Embeddings, pair.Student, pair.Tokenizer),
                TokenSpaces.Create(settings.Neighbours, pair.Student, pair.Tokenizer));

            var results = ProgressViews.Bar("FedDTPT", quiet: false, report =>
            {
                var meter = new ProgressMeter(report, settings.Tasks.Length * (2 * settings.ClientRoundsPerPartition + settings.Rounds) * settings.Clients);
                return settings.Tasks.Select(task => RunTask(task, world, settings, meter)).ToList();
            });
            foreach (var r in results) AnsiConsole.MarkupLine(Markup.Escape(r.Summary()));
            var numbers = new
            {
                teacher = BenchModels.Describe(teacherDir, pair.Teacher), student = BenchModels.Describe(studentDir, pair.Student),
                proposer = studentDir,
                settings = new
                {
                    settings.Clients, settings.Alpha, settings.Rounds, settings.TrainLimit, settings.TestLimit, settings.Strategies, settings.MinSamples,
                    settings.Embeddings, settings.Neighbours, eps_rule = settings.Eps.ToString(), settings.K,
                    settings.PromptLength, settings.Search.Iterations, settings.Search.PositionsPerIteration, settings.Search.CandidatesPerPosition,
                    settings.Search.LocalBatchSize, settings.Search.PublicPerLabel, settings.Seed, threads = get_num_threads(), Environment.ProcessorCount,
                },
                upload_bytes = UploadBytesRule, queries = QueriesRule,
                setup, tasks = results,
            };
            var files = Report(results, world, settings, setup).Write(parse.GetValue(output)!, numbers, plot => PlotAccuracies(plot, results, settings));
            foreach (var file in files) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(file)}[/]");
            return 0;
        });
        return command;
    }

    const string UploadBytesRule = "UTF-8 length of the client's upload serialized as the JSON line `fedprompt aggregate` reads: " +
                                   "{\"client\", \"token_ids\", \"tokenizer\", \"examples\"}; raw = 4 bytes per token id";
    const string QueriesRule = "inputs each client's metered black box classified (LocalBlackBoxClassifier.Queries), summed over rounds; " +
                               "tokens = prompt tokens + input text tokens per input";

    sealed record Settings(string[] Tasks, string DataDir, int Clients, double Alpha, int Rounds, int TrainLimit, int TestLimit, string[] Strategies,
        int MinSamples, int? PromptLength, string Embeddings, string Neighbours, EpsRule Eps, int? K, DiscreteSearchOptions Search, int Seed)
    {
        /// <summary>Federations per partition: one per strategy plus the no-feedback client ablation, each for every round.</summary>
        public int ClientRoundsPerPartition => (Strategies.Length + 1) * Rounds;

        public void Check()
        {
            if (Tasks.Length == 0) throw new UserInputException("--tasks names no task");
            foreach (var task in Tasks)
                if (!ManualPrompts.ContainsKey(task)) throw new UserInputException($"--tasks: no manual prompt for task '{task}' (known: {string.Join(", ", ManualPrompts.Keys)})");
            if (Clients < 1) throw new UserInputException("--clients must be at least 1");
            if (Rounds < 1) throw new UserInputException("--rounds must be at least 1");
            if (!(Alpha > 0) || double.IsInfinity(Alpha)) throw new UserInputException("--alpha must be positive and finite");
            if (TrainLimit < Clients) throw new UserInputException($"--train-limit {TrainLimit} gives fewer examples than --clients {Clients}");
            if (TestLimit < 1) throw new UserInputException("--test-limit must be at least 1");
            if (MinSamples < 1) throw new UserInputException("--min-samples must be at least 1");
            if (PromptLength < 1) throw new UserInputException("--prompt-length must be at least 1");
            if (K < 1) throw new UserInputException("--k must be at least 1");
            if (Strategies.Length == 0 || Strategies[0] != "feddtpt") throw new UserInputException("--strategies must start with feddtpt (the method; the rest are ablations)");
            foreach (var name in Strategies)
                if (!TokenAggregationStrategies.Names.Contains(name))
                    throw new UserInputException($"--strategies: unknown token aggregation strategy '{name}' (known: {string.Join(", ", TokenAggregationStrategies.Names)})");
            foreach (var (value, name) in new[] { (Search.Iterations, "--iterations"), (Search.PositionsPerIteration, "--positions"),
                         (Search.CandidatesPerPosition, "--candidates"), (Search.LocalBatchSize, "--local-batch") })
                if (value < 1) throw new UserInputException($"{name} must be at least 1");
            if (Search.PublicPerLabel < 0) throw new UserInputException("--public-per-label must not be negative");
        }
    }

    /// <summary>The models: the teacher (the black box), the student (proposer LM, second black box for transferability), the server's token embeddings and the proposer's neighbour space.</summary>
    sealed record World(CausalLM Teacher, CausalLM Student, ITextTokenizer Tokenizer, ITokenEmbeddings Embeddings, ITokenEmbeddings Neighbours)
    {
        public TokenProposer Proposer { get; } = new(Student, Tokenizer, neighbourSpace: Neighbours);
    }

    sealed class ProgressMeter(Action<int, int, string> report, int total)
    {
        int _done;
        public void Step(string what) => report(++_done, total, what);
    }

    /// <summary>One round of a federation: the global prompt after aggregation, its test accuracy, and what clients spent.</summary>
    public sealed record RoundResult(int Round, IReadOnlyList<int> GlobalTokenIds, string GlobalText, double TestAccuracy,
        double MeanUploadBytes, int MaxUploadBytes, double MeanRawBytes, double MeanQueries, double MeanTokensSent, double MeanAccepted,
        int CandidatesEvaluated, int CandidatesChangingAccuracy,
        double? Eps, int? KneeIndex, int? Clusters, int? NoiseKept, int? NoiseDropped, int DistinctPoints, int Points,
        double? MeanClusterSize, int? ClustersMergingDistinctIds);

    public sealed record Federation(string Method, string Strategy, bool Feedback, string BlackBox, IReadOnlyList<RoundResult> Rounds)
    {
        public double Accuracy => Rounds[^1].TestAccuracy;
        public IReadOnlyList<int> Prompt => Rounds[^1].GlobalTokenIds;
        /// <summary>Queries per client summed over the rounds (mean over clients).</summary>
        public double QueriesPerClient => Rounds.Sum(r => r.MeanQueries);
        public double UploadBytesPerClientRound => Rounds.Average(r => r.MeanUploadBytes);
        public int MaxUploadBytes => Rounds.Max(r => r.MaxUploadBytes);
        public double AcceptedPerClient => Rounds.Sum(r => r.MeanAccepted);
    }

    public sealed record PartitionResult(string Partition, IReadOnlyList<int[]> LabelCounts, IReadOnlyList<Federation> Federations)
    {
        public Federation Method(string name) => Federations.Single(f => f.Method == name);
    }

    public sealed record Transfer(string Prompt, string SearchedOn, string EvaluatedOn, double SourceAccuracy, double TargetAccuracy,
        double ManualOnTarget, double ZeroShotOnTarget, string Text);

    /// <summary>The issue's targets on the non-IID partition; <see cref="RoundsWithPositiveEps"/> counts FedDTPT's rounds over both partitions.</summary>
    public sealed record Targets(double FedDtptMinusManual, double FedDtptMinusFedAvg, int MaxUploadBytes, int RoundsWithPositiveEps, int FedDtptRounds);

    public sealed record TaskResult(string Task, IReadOnlyList<string> Labels, int TrainExamples, int PublicExamples, int TestExamples,
        string ManualPrompt, int ManualPromptTokens, double ZeroShotAccuracy, double ManualAccuracy, IReadOnlyList<PartitionResult> Partitions,
        IReadOnlyList<Transfer> Transfers, Targets NonIidTargets, double Seconds)
    {
        public string Summary() => $"{Task}: zero-shot {ZeroShotAccuracy:P1}, manual {ManualAccuracy:P1}; " + string.Join("; ",
            Partitions.Select(p => $"{p.Partition}: " + string.Join(", ", p.Federations.Select(f => $"{f.Method} {f.Accuracy:P1}"))));
    }

    const string FedDtpt = "FedDTPT", NoFeedback = "client without feedback";

    static string MethodName(string strategy) => strategy switch
    {
        "feddtpt" => FedDtpt,
        "fedavg" => "server FedAvg (embedding mean)",
        "attention" => "server without clustering (attention top-L)",
        "kmeans" => "server fixed k (k-means)",
        _ => strategy,
    };

    /// <summary>Everything one task needs: its data, and the classifiers serving the two models.</summary>
    sealed class TaskContext
    {
        public required string Task { get; init; }
        public required TaskDataset Train { get; init; }
        public required TaskDataset Public { get; init; }
        public required IReadOnlyList<(string Text, string Label)> Test { get; init; }
        public required PromptedClassifier Teacher { get; init; }
        public required PromptedClassifier Student { get; init; }
        public required int[] Manual { get; init; }
        public required int PromptLength { get; init; }
        /// <summary>Client searches already run, by everything that determines them (same start, data and seed give the same search).</summary>
        public Dictionary<string, ClientRound> Searches { get; } = [];

        public double Accuracy(PromptedClassifier model, IReadOnlyList<int> prompt) =>
            model.Evaluate(Test, prompt.Count == 0 ? PromptInput.None : new PromptInput(Discrete: prompt)).Accuracy;
    }

    /// <summary>One client's search in one round: its upload and what its black-box meter counted.</summary>
    sealed record ClientRound(int[] Prompt, long Queries, long TokensSent, int Accepted, int Evaluated, int Changed);

    static TaskResult RunTask(string task, World world, Settings settings, ProgressMeter meter)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string folder = Path.Combine(settings.DataDir, task);
        var preset = TaskPreset.Get(task);
        var train = TaskFile.Load(Path.Combine(folder, "train.jsonl")).RequireAtLeastTwoClasses();
        var testSet = TaskFile.Load(Path.Combine(folder, "test.jsonl"));
        preset.Verbalizer.RequireCovers(train.Labels);
        var labels = train.Labels;
        var (clientData, rest) = train.Split(Math.Min(settings.TrainLimit, train.Count), settings.Seed);
        // The public set: balanced, from the train split outside the clients' data, shared by every client.
        var publicSet = rest.Balanced(settings.Search.PublicPerLabel, settings.Seed);
        var test = testSet.Sample(Math.Min(settings.TestLimit, testSet.Count), settings.Seed);
        PromptedClassifier Classifier(CausalLM model) => new(model, world.Tokenizer, labels, labels.Select(preset.Verbalizer.WordsFor).ToList(), preset.Template.Render);
        var manual = world.Tokenizer.Encode(ManualPrompts[task]).ToArray();
        var context = new TaskContext
        {
            Task = task, Train = clientData, Public = publicSet, Test = test.Examples.Select(e => (e.Text, e.Label)).ToList(),
            Teacher = Classifier(world.Teacher), Student = Classifier(world.Student), Manual = manual, PromptLength = settings.PromptLength ?? manual.Length,
        };
        double zeroShot = context.Accuracy(context.Teacher, []), manualAccuracy = context.Accuracy(context.Teacher, manual);

        var partitions = new[]
        {
            ($"Dirichlet α={settings.Alpha}", DirichletPartitioner.Split(clientData, settings.Clients, settings.Alpha, settings.Seed)),
            ("IID", IidPartitioner.Split(clientData, settings.Clients, settings.Seed)),
        };
        var partitionResults = partitions.Select(p => new PartitionResult(p.Item1, p.Item2.LabelCounts,
        [
            .. settings.Strategies.Select(s => RunFederation(context, p.Item1, p.Item2, MethodName(s), s, feedback: true, onStudent: false, world, settings, meter)),
            RunFederation(context, p.Item1, p.Item2, NoFeedback, "feddtpt", feedback: false, onStudent: false, world, settings, meter),
        ])).ToList();

        // Transferability on the non-IID partition: teacher-searched FedDTPT evaluated on the student, and a student-searched one on the teacher.
        var nonIid = partitionResults[0];
        var onTeacher = nonIid.Method(FedDtpt);
        var onStudent = RunFederation(context, partitions[0].Item1, partitions[0].Item2, FedDtpt, "feddtpt", feedback: true, onStudent: true, world, settings, meter);
        var transfers = new List<Transfer>
        {
            new("FedDTPT", "teacher", "student", onTeacher.Accuracy, context.Accuracy(context.Student, onTeacher.Prompt),
                context.Accuracy(context.Student, manual), context.Accuracy(context.Student, []), world.Tokenizer.Decode(onTeacher.Prompt)),
            new("FedDTPT", "student", "teacher", onStudent.Accuracy, context.Accuracy(context.Teacher, onStudent.Prompt),
                manualAccuracy, zeroShot, world.Tokenizer.Decode(onStudent.Prompt)),
        };
        var fedDtptRounds = partitionResults.SelectMany(p => p.Method(FedDtpt).Rounds).ToArray();
        var targets = new Targets(onTeacher.Accuracy - manualAccuracy,
            settings.Strategies.Contains("fedavg") ? onTeacher.Accuracy - nonIid.Method(MethodName("fedavg")).Accuracy : double.NaN,
            partitionResults.SelectMany(p => p.Federations).Max(f => f.MaxUploadBytes),
            fedDtptRounds.Count(r => r.Eps > 0), fedDtptRounds.Length);
        return new TaskResult(task, labels, clientData.Count, publicSet.Count, test.Count, ManualPrompts[task], manual.Length, zeroShot, manualAccuracy,
            partitionResults, transfers, targets, clock.Elapsed.TotalSeconds);
    }

    static Federation RunFederation(TaskContext context, string partitionName, ClientPartition partition, string method, string strategyName,
        bool feedback, bool onStudent, World world, Settings settings, ProgressMeter meter)
    {
        var blackBoxModel = onStudent ? context.Student : context.Teacher;
        var strategy = TokenAggregationStrategies.Create(strategyName,
            new TokenAggregationOptions(settings.MinSamples, DistanceMetric.Cosine, context.PromptLength, settings.Seed, world.Embeddings, settings.Eps, settings.K));
        var global = context.Manual.ToArray();
        var rounds = new List<RoundResult>();
        for (int round = 0; round < settings.Rounds; round++)
        {
            var uploads = new List<(string Client, ClientRound Search, int Examples)>();
            for (int k = 0; k < partition.Clients.Count; k++)
            {
                var local = partition.Clients[k];
                int searchSeed = settings.Seed * 1_000_003 + round * 1009 + k;
                string key = $"{partitionName}|{onStudent}|{k}|{round}|{feedback}|{string.Join(',', global)}";
                if (!context.Searches.TryGetValue(key, out var search))
                {
                    // Each client has its own metered black box, so its queries are its own.
                    var blackBox = new LocalBlackBoxClassifier(blackBoxModel, world.Tokenizer);
                    var result = new DiscretePromptSearch(blackBox, world.Proposer, settings.Search with { UseFeedback = feedback, Seed = searchSeed })
                        .Run(global, local, context.Public);
                    search = context.Searches[key] = new ClientRound(result.Prompt.ToArray(), blackBox.Queries, blackBox.TokensSent, result.Accepted.Count,
                        result.Memory.Entries.Count, result.Memory.Entries.Count(e => e.AccuracyChange != 0));
                }
                uploads.Add(($"client-{k}", search, local.Count));
                meter.Step($"{context.Task} {partitionName} {method}{(onStudent ? " (student)" : "")}, round {round + 1}/{settings.Rounds}, client {k + 1}/{partition.Clients.Count}");
            }
            var embedded = uploads.Select(u => new TokenPromptUpload(u.Client,
                u.Search.Prompt.Zip(world.Embeddings.Embed(u.Search.Prompt), (id, vector) => new PromptToken(id, vector)).ToArray(), u.Examples)).ToList();
            var aggregated = strategy.Aggregate(embedded);
            global = aggregated.TokenIds.ToArray();
            var bytes = uploads.Select(u => UploadBytes(u.Client, u.Search.Prompt, world.Tokenizer.Identity, u.Examples)).ToArray();
            var notes = aggregated.Notes;
            var curve = notes.EpsChoice?.KDistanceCurve;
            var pooledIds = embedded.SelectMany(u => u.Tokens.Select(t => t.TokenId)).ToArray();
            // Groups of two or more uploaded tokens (DBSCAN's or k-means' clusters): how big they are, and how many join different token ids.
            var dbscanGroups = aggregated.Clusters is { } c && aggregated.Notes != AggregationNotes.NoClustering ? c.Groups.Where(g => g.Length > 1).ToArray() : null;
            rounds.Add(new RoundResult(round + 1, global, world.Tokenizer.Decode(global), context.Accuracy(blackBoxModel, global),
                bytes.Average(), bytes.Max(), uploads.Average(u => 4.0 * u.Search.Prompt.Length),
                uploads.Average(u => (double)u.Search.Queries), uploads.Average(u => (double)u.Search.TokensSent), uploads.Average(u => (double)u.Search.Accepted),
                uploads.Sum(u => u.Search.Evaluated), uploads.Sum(u => u.Search.Changed),
                notes.Eps, notes.EpsChoice?.KneeIndex, notes.EpsChoice is null && strategyName != "kmeans" ? null : notes.Clusters,
                notes.EpsChoice is null ? null : notes.NoiseKept, notes.EpsChoice is null ? null : notes.NoiseDropped,
                curve?.Count ?? 0, embedded.Sum(u => u.Tokens.Count),
                dbscanGroups is { Length: > 0 } ? dbscanGroups.Average(g => g.Length) : null,
                dbscanGroups?.Count(g => g.Select(i => pooledIds[i]).Distinct().Count() > 1)));
        }
        return new Federation(method, strategyName, feedback, onStudent ? "student" : "teacher", rounds);
    }

    /// <summary>Bytes of one upload as a client would send it: its JSON line in the format <c>fedprompt aggregate</c> reads.</summary>
    public static int UploadBytes(string client, IReadOnlyList<int> tokenIds, string tokenizerIdentity, int examples) =>
        Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(new { client, token_ids = tokenIds, tokenizer = tokenizerIdentity, examples }));

    static BenchReport Report(IReadOnlyList<TaskResult> results, World world, Settings s, IReadOnlyList<Stage> setup)
    {
        var report = new BenchReport("feddtpt", "FedDTPT: federated discrete prompt search through a black-box model")
            .Paragraph($"{s.Clients} clients, {s.Rounds} rounds; partitions Dirichlet α = {s.Alpha} and IID of a seeded sample of train.jsonl. " +
                       $"Black box: the teacher ({world.Teacher.Config.NumLayers} layers × {world.Teacher.HiddenSize} hidden, vocabulary {world.Teacher.VocabSize}), " +
                       $"labels only, metered per client. Proposer LM: the distilled student ({world.Student.Config.NumLayers} layers), its neighbours in the {s.Neighbours} token space; " +
                       $"server token embeddings: {(s.Embeddings == TokenSpaces.MiniLm ? "all-MiniLM-L6-v2 on each token's text" : "the student's input embeddings")}. " +
                       $"Client search per round: {s.Search.Iterations} iterations × {s.Search.PositionsPerIteration} positions × {s.Search.CandidatesPerPosition} candidates, " +
                       $"batch = {s.Search.LocalBatchSize} local examples + {s.Search.PublicPerLabel} public per label (balanced, from train.jsonl outside the clients' data). " +
                       $"Global prompt length: {(s.PromptLength is int l ? l.ToString() : "the manual prompt's")} (FedDTPT cap, attention L, k-means k{(s.K is int k ? $" unless --k {k}" : "")}); " +
                       $"DBSCAN min_samples {s.MinSamples}, cosine, eps by {s.Eps}. " +
                       BenchReport.RunConditions(s.Seed, setup))
            .Paragraph($"Upload bytes: {UploadBytesRule}. Queries: {QueriesRule}.");
        string Acc(double a) => double.IsFinite(a) ? $"{a:P1}" : "n/a";
        foreach (var r in results)
        {
            report.Paragraph($"## {r.Task}\n\n{r.TrainExamples} client examples, {r.PublicExamples} public, {r.TestExamples} test; manual prompt \"{r.ManualPrompt}\" " +
                             $"({r.ManualPromptTokens} tokens); teacher zero-shot (no prompt) {Acc(r.ZeroShotAccuracy)}; {r.Seconds:F0} s.");
            var methods = r.Partitions[0].Federations.Select(f => f.Method).ToList();
            report.Table(["method", .. r.Partitions.Select(p => $"accuracy, {p.Partition}"), .. r.Partitions.Select(p => $"upload B/client/round, {p.Partition}"),
                    .. r.Partitions.Select(p => $"queries/client, {p.Partition}"),
                    .. r.Partitions.Select(p => $"replacements kept/client; candidates that changed batch accuracy, {p.Partition}")],
                [
                    ["manual prompt", .. r.Partitions.Select(_ => Acc(r.ManualAccuracy)), .. r.Partitions.SelectMany(_ => new[] { "—", "—", "—" })],
                    .. methods.Select(m => (IReadOnlyList<string>)
                    [
                        m, .. r.Partitions.Select(p => Acc(p.Method(m).Accuracy)),
                        .. r.Partitions.Select(p => $"{p.Method(m).UploadBytesPerClientRound:F0} (max {p.Method(m).MaxUploadBytes})"),
                        .. r.Partitions.Select(p => $"{p.Method(m).QueriesPerClient:F0}"),
                        .. r.Partitions.Select(p => $"{p.Method(m).AcceptedPerClient:F1}; {p.Method(m).Rounds.Sum(x => x.CandidatesChangingAccuracy)} of {p.Method(m).Rounds.Sum(x => x.CandidatesEvaluated)}"),
                    ]),
                ]);
            var fed = r.Partitions.Select(p => p.Method(FedDtpt)).ToList();
            report.Paragraph("FedDTPT's global prompt after the last round: " + string.Join("; ",
                r.Partitions.Select((p, i) => $"{p.Partition} \"{fed[i].Rounds[^1].GlobalText}\"")) + ". DBSCAN per round (" +
                string.Join("; ", r.Partitions.Select((p, i) => $"{p.Partition}: " + string.Join(", ", fed[i].Rounds.Select(x =>
                    $"eps {x.Eps:G3} ({x.DistinctPoints} distinct of {x.Points} tokens), {x.Clusters} clusters (mean size {x.MeanClusterSize:F1}, " +
                    $"{x.ClustersMergingDistinctIds} joining distinct ids), noise kept {x.NoiseKept} / dropped {x.NoiseDropped}")))) + ").");
            report.Table(["transferability", "searched on", "evaluated on", "accuracy on source", "accuracy on target", "manual on target", "zero-shot on target"],
                r.Transfers.Select(t => (IReadOnlyList<string>)[$"{t.Prompt} ({r.Partitions[0].Partition}) \"{t.Text}\"", t.SearchedOn, t.EvaluatedOn,
                    Acc(t.SourceAccuracy), Acc(t.TargetAccuracy), Acc(t.ManualOnTarget), Acc(t.ZeroShotOnTarget)]));
            report.Table(["target (non-IID, " + r.Partitions[0].Partition + ")", "goal", "measured", "met"],
            [
                ["FedDTPT − manual prompt", "≥ +10 points", Points(r.NonIidTargets.FedDtptMinusManual), Met(r.NonIidTargets.FedDtptMinusManual >= 0.10)],
                ["FedDTPT − server FedAvg", "≥ +5 points", Points(r.NonIidTargets.FedDtptMinusFedAvg), Met(r.NonIidTargets.FedDtptMinusFedAvg >= 0.05)],
                ["FedDTPT rounds with eps > 0 (both partitions)", "all", $"{r.NonIidTargets.RoundsWithPositiveEps} of {r.NonIidTargets.FedDtptRounds}",
                    Met(r.NonIidTargets.RoundsWithPositiveEps == r.NonIidTargets.FedDtptRounds)],
                ["largest upload per client per round (all runs)", "< 1024 bytes", $"{r.NonIidTargets.MaxUploadBytes} bytes", Met(r.NonIidTargets.MaxUploadBytes < 1024)],
            ]);
        }
        return report;
    }

    static string Points(double difference) => double.IsFinite(difference) ? $"{100 * difference:+0.0;-0.0} points" : "n/a";
    static string Met(bool met) => met ? "yes" : "no";

    /// <summary>Grouped bars: per task and partition, the accuracy of the manual prompt, FedDTPT and each ablation.</summary>
    static void PlotAccuracies(Plot plot, IReadOnlyList<TaskResult> results, Settings settings)
    {
        string[] names = ["manual", "FedDTPT", .. settings.Strategies.Skip(1), "no feedback"];
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        int group = 0;
        foreach (var r in results)
            foreach (var p in r.Partitions)
            {
                double[] values = [r.ManualAccuracy, .. p.Federations.Where(f => f.Method != NoFeedback).Select(f => f.Accuracy), p.Method(NoFeedback).Accuracy];
                double left = group * (names.Length + 1);
                for (int m = 0; m < values.Length; m++)
                    bars.Add(new Bar { Position = left + m, Value = 100 * values[m], FillColor = palette.GetColor(m), Size = 0.9 });
                ticks.Add(new Tick(left + (names.Length - 1) / 2.0, $"{r.Task}\n{(p.Partition == "IID" ? "IID" : "non-IID")}", true));
                group++;
            }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.YLabel("test accuracy (%)");
        for (int m = 0; m < names.Length; m++) plot.Legend.ManualItems.Add(new LegendItem { LabelText = names[m], FillColor = palette.GetColor(m) });
        plot.ShowLegend(Alignment.UpperRight);
    }
}
