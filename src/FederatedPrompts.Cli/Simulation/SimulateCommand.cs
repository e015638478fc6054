using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Cli.Bench;
using FederatedPrompts.Client;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Strategies;
using FederatedPrompts.Core.Corpora;
using FederatedPrompts.Core.Partitioning;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Modeling.Training;
using FederatedPrompts.Post.Distillation;
using FederatedPrompts.Protocol.Security;
using FederatedPrompts.Protocol.V1;
using Spectre.Console;

namespace FederatedPrompts.Cli.Simulation;

/// <summary>
/// <c>fedprompt simulate</c>: a whole federation on this machine. It prepares models (by default a teacher pretrained
/// on the generated corpus and a student distilled from it, cached under runs/cache), partitions a task across N
/// clients, makes a CA and certificates, then starts the coordinator and N clients as separate processes (or, with
/// --in-process, the clients inside this process) that talk gRPC over mutual TLS on 127.0.0.1, follows the rounds
/// through the operator API, and writes report.{json,md,png}.
/// </summary>
public static class SimulateCommand
{
    public static Command Create()
    {
        var clients = new Option<int>("--clients") { Description = "Number of organizations (clients), each with its own certificate and private split", DefaultValueFactory = _ => 3 };
        var rounds = new Option<int>("--rounds") { Description = "Federated rounds", DefaultValueFactory = _ => 3 };
        var mode = new Option<string>("--mode")
        {
            Description = "soft (POST), discrete (FedDTPT), or hybrid (the first half of the clients soft, the rest discrete, one run)", DefaultValueFactory = _ => "soft",
        }.AcceptOnlyFromAmong([.. RunConfig.ModeNames]);
        var strategy = new Option<string?>("--strategy") { Description = "Aggregation strategy of a soft or discrete run (default: fedavg for soft prompts, feddtpt for discrete; a hybrid run uses both defaults)" };
        var blackBox = CommonOptions.BlackBox("the large model");
        var partition = new Option<string>("--partition") { Description = "iid or dirichlet", DefaultValueFactory = _ => "dirichlet" }.AcceptOnlyFromAmong("iid", "dirichlet");
        var alpha = new Option<double>("--alpha") { Description = "Dirichlet concentration (smaller: more label skew)", DefaultValueFactory = _ => 1.0 };
        var epsilon = new Option<double?>("--epsilon") { Description = "Soft mode: DP-SGD with this total ε per client (clip 1)" };
        var accountant = CommonOptions.Accountant();
        var large = new Option<string?>("--large") { Description = "Large model folder (default: a teacher pretrained on the generated corpus, cached)" };
        var small = new Option<string?>("--small") { Description = "Distilled small model folder (default: distilled from --large, cached)" };
        var test = new Option<string?>("--eval-task") { Description = "The coordinator's held-out labeled file, as the run file's eval_task (default with --task: 20% of it)" };
        var publicTexts = new Option<string?>("--public-texts")
        {
            Description = "Public corpus for transfer and distillation (default: the generated corpus for models, unlabeled generated reviews for the transfer)",
        };
        var output = new Option<string>("--out") { Description = "Folder for data, certificates, logs, the database and the report (a new simulation each time)", DefaultValueFactory = _ => Path.Combine("runs", "simulate") };
        var pretrainSteps = new Option<int>("--pretrain-steps") { Description = "Pretraining steps of the built-in teacher (cached by corpus hash, seed and steps)", DefaultValueFactory = _ => 4000 };
        var distillSteps = new Option<int>("--distill-steps") { Description = "Distillation steps of the built-in student (cached beside the teacher)", DefaultValueFactory = _ => 300 };
        var inProcess = new Option<bool>("--in-process")
        {
            Description = "Host all clients in this process (each still with its own certificate and gRPC connection) instead of one process each: for large N",
        };
        var concurrentWork = new Option<int>("--concurrent-work")
        {
            Description = "With --in-process: how many clients train at once (each local job already uses every core)", DefaultValueFactory = _ => 1,
        };
        var localEpochs = new Option<int?>("--local-epochs") { Description = "Soft mode: epochs of local tuning per round (default: the run file's, 2)" };
        var learningRate = new Option<double?>("--lr") { Description = "Soft mode: the clients' learning rate (default: 0.03 with adam, the DP-SGD default with sgd)" };
        var validateEvery = new Option<int>("--validate-every")
        {
            Description = "Soft mode: check the transferred prompt on the public labeled split every this many steps and publish the best (0: the last)", DefaultValueFactory = _ => 25,
        };
        var opsListen = new Option<string?>("--ops-listen")
        {
            Description = "Give the coordinator an ops listener (e.g. http://127.0.0.1:9464) to watch the run: Prometheus metrics and the dashboard, whose address is printed",
        };
        var start = new SoftPromptStart("Soft mode: the initial global prompt's text (default: the preset's init text)");
        var seed = CommonOptions.Seed();
        var task = new TaskSetup(taskRequired: false, taskDescription: "Labeled task to partition across clients (default: the generated sentiment task)");
        var command = new Command("simulate", "Run a whole federation on this machine: coordinator and clients as processes over mutual TLS")
        {
            clients, rounds, mode, strategy, blackBox, partition, alpha, epsilon, accountant, large, small, test, publicTexts, output, pretrainSteps, distillSteps, inProcess, concurrentWork, localEpochs, learningRate, validateEvery, opsListen, seed,
        };
        foreach (var option in task.Options.Concat(start.Options)) command.Add(option);
        command.SetAction(async (parse, cancel) =>
        {
            int n = parse.GetValue(clients) is >= 1 and var c ? c : throw new UserInputException("--clients must be at least 1");
            if (parse.GetValue(rounds) < 1) throw new UserInputException("--rounds must be at least 1");
            bool hybrid = parse.GetValue(mode) == "hybrid";
            if (hybrid && n < 2) throw new UserInputException("--mode hybrid needs at least 2 clients, one of each mode");
            if (hybrid && parse.GetValue(strategy) is not null) throw new UserInputException("--strategy names one mode's strategy; a hybrid run uses each mode's default");
            var strategies = FederationStrategies.Names(parse.GetValue(mode) == "soft" ? PromptMode.Soft : PromptMode.Discrete);
            if (parse.GetValue(strategy) is { } name && !strategies.Contains(name))
                throw new UserInputException($"--strategy {name} is not one of {string.Join(", ", strategies)} for {parse.GetValue(mode)} mode");
            if (parse.GetValue(blackBox) != BlackBoxes.Lm && parse.GetValue(mode) == "soft")
                throw new UserInputException($"--black-box {parse.GetValue(blackBox)} answers discrete prompts' queries: use it with --mode discrete or hybrid");
            if (parse.GetValue(concurrentWork) < 1) throw new UserInputException("--concurrent-work must be at least 1");
            if (parse.GetValue(localEpochs) < 1) throw new UserInputException("--local-epochs must be at least 1");
            if (parse.GetValue(learningRate) is double lr && !(lr > 0 && double.IsFinite(lr))) throw new UserInputException("--lr must be positive and finite");
            if (parse.GetValue(validateEvery) < 0) throw new UserInputException("--validate-every must not be negative");
            int s = parse.GetValue(seed);
            string outDir = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(outDir);
            foreach (var stale in Directory.EnumerateFiles(outDir, "coordinator.db*")) File.Delete(stale);   // a new simulation, not a resume

            // Data: the task (given or generated), a public slice, the held-out set, one private file per client.
            bool builtIn = parse.GetValue(task.Task) is null && parse.GetValue(task.Template) is null && parse.GetValue(task.Preset) is null;
            var (given, template, verbalizer) = builtIn
                ? (null, TaskPreset.SyntheticSentiment.Template, TaskPreset.SyntheticSentiment.Verbalizer)
                : task.Resolve(parse);
            // The run file spells out template and words, so the preset's init text and label descriptions are carried explicitly too.
            string? initText = start.Resolve(parse, (builtIn ? TaskPreset.SyntheticSentiment : task.PresetOf(parse))?.InitText);
            var descriptions = builtIn ? TaskPreset.SyntheticSentiment.Descriptions : task.Descriptions(parse, template, verbalizer);
            var all = (given ?? BuiltInData.SentimentTrain(s)).RequireAtLeastTwoClasses();
            TaskDataset heldOut;
            if (parse.GetValue(test) is { } testPath) heldOut = TaskFile.Load(testPath);
            else if (given is null) heldOut = BuiltInData.SentimentTest(s);
            else (heldOut, all) = all.Split(all.Count / 5, s);
            var (publicLabeled, privatePool) = all.Split(Math.Min(100, all.Count / 10), s);
            var split = parse.GetValue(partition) switch
            {
                "iid" => IidPartitioner.Split(privatePool, n, s),
                _ => DirichletPartitioner.Split(privatePool, n, parse.GetValue(alpha), s),   // the parser admits only these two
            };
            AnsiConsole.WriteLine(split.Summary());
            string data = Path.Combine(outDir, "data");
            Directory.CreateDirectory(data);
            var identities = Enumerable.Range(1, n).Select(i => $"client-{i}").ToList();
            for (int i = 0; i < n; i++) TaskFile.SaveJsonl(split.Clients[i], Path.Combine(data, $"{identities[i]}.jsonl"));
            TaskFile.SaveJsonl(heldOut, Path.Combine(data, "held-out.jsonl"));
            TaskFile.SaveJsonl(publicLabeled, Path.Combine(data, "public-labeled.jsonl"));
            // Models are made from the corpus; the transfer runs on public texts of the task's domain (the same file when given).
            string corpusPath = parse.GetValue(publicTexts) ?? WriteCorpus(BuiltInData.Corpus(s), Path.Combine(data, "public-corpus.jsonl"));
            string transferTexts = parse.GetValue(publicTexts) ?? WriteCorpus(BuiltInData.PublicReviews(s), Path.Combine(data, "public-reviews.jsonl"));

            var (largeDir, smallDir) = Models(parse.GetValue(large), parse.GetValue(small), corpusPath, s, parse.GetValue(pretrainSteps), parse.GetValue(distillSteps));

            // Certificates and the run configuration.
            string certs = Path.Combine(outDir, "certs");
            using (var ca = CertificateAuthority.Create("fedprompt simulation CA"))
            {
                ca.Save(certs);
                PemFiles.Save(ca.IssueServer("coordinator"), certs, "coordinator");
                foreach (var identity in identities.Append("operator")) PemFiles.Save(ca.IssueClient(identity), certs, identity);
            }
            var config = new RunConfig
            {
                Name = "simulation", Mode = parse.GetValue(mode)!, Rounds = parse.GetValue(rounds), MinClients = hybrid ? n / 2 : n, Clients = identities,
                Seed = s, SmallModel = smallDir, LargeModel = largeDir,
                Template = template.Pattern, LabelWords = verbalizer.Labels.ToDictionary(l => l, l => verbalizer.WordsFor(l).ToArray()),
                LabelDescriptions = verbalizer.Labels.Zip(descriptions.For(verbalizer.Labels)).ToDictionary(p => p.First, p => p.Second),
                EvalTask = Path.Combine(data, "held-out.jsonl"), PublicTexts = transferTexts, PublicLabeled = Path.Combine(data, "public-labeled.jsonl"),
                Soft = new SoftRunConfig
                {
                    InitText = initText, RandomInit = initText is null, Epochs = parse.GetValue(localEpochs) ?? new SoftRunConfig().Epochs,
                    LearningRate = parse.GetValue(learningRate), Dp = parse.GetValue(epsilon) is double eps ? new DpRunConfig(1.0, eps, Accountant: parse.GetValue(accountant)) : null,
                    Strategy = parse.GetValue(strategy) ?? new SoftRunConfig().Strategy,
                },
                Discrete = new DiscreteRunConfig { Strategy = parse.GetValue(strategy) ?? new DiscreteRunConfig().Strategy, BlackBox = parse.GetValue(blackBox)! },
                Transfer = new TransferRunConfig { ValidateEvery = parse.GetValue(validateEvery) },
            };
            string configPath = Path.Combine(outDir, "run.json");
            File.WriteAllText(configPath, RunConfig.Parse(config.ToJson(), outDir).ToJson());

            // The federation itself: the coordinator process and the clients (processes, or tasks of this one) over mutual TLS on loopback.
            string logs = Path.Combine(outDir, "logs");
            Directory.CreateDirectory(logs);
            using var coordinator = new FedpromptProcess("coordinator", Path.Combine(logs, "coordinator.log"),
                ["coordinator", "--config", configPath, "--db", Path.Combine(outDir, "coordinator.db"), "--listen", "https://127.0.0.1:0",
                 "--certs", certs, "--exit-when-finished", .. parse.GetValue(opsListen) is { } ops ? new[] { "--ops-listen", ops } : []]);
            string address = await coordinator.Listening.WaitAsync(TimeSpan.FromMinutes(5), cancel);
            if (parse.GetValue(opsListen) is not null)
                AnsiConsole.MarkupLine($"watch the run: [blue]{Markup.Escape(await coordinator.OpsListening.WaitAsync(TimeSpan.FromSeconds(30), cancel))}[/]");
            bool hosted = parse.GetValue(inProcess);
            AnsiConsole.MarkupLine($"coordinator at [blue]{address}[/]; starting {n} clients {(hosted ? "in this process" : "as processes")} (logs in {Markup.Escape(logs)})");
            // A hybrid run: the first ⌈n/2⌉ clients tune soft prompts, the others search token prompts.
            var simulated = identities.Select((identity, i) => new SimulatedClient(identity, Path.Combine(data, $"{identity}.jsonl"),
                Path.Combine(outDir, "client-state", identity), config.Modes.Count == 1 ? config.Modes[0] : i < (n + 1) / 2 ? PromptMode.Soft : PromptMode.Discrete)).ToList();
            string cache = Path.Combine(outDir, "client-cache");
            using var fleet = hosted
                ? ClientFleet.InProcess(simulated, address, certs, cache, logs, parse.GetValue(concurrentWork))
                : ClientFleet.Processes(simulated, address, certs, cache, logs);
            var operatorTls = ClientCredentials.Load(PemFiles.CertificatePath(certs, "operator"), PemFiles.KeyPath(certs, "operator"), PemFiles.CertificatePath(certs, "ca"));
            using var operatorChannel = Client.Transport.CoordinatorChannel.Create(new Uri(address), operatorTls, false, null);
            var service = new Operator.OperatorClient(operatorChannel);
            var status = await Follow(service, config, fleet, cancel);
            string reportJson = (await service.GetResultsAsync(new RunRef(), cancellationToken: cancel)).ReportJson;
            await coordinator.WaitAsync(cancel).WaitAsync(TimeSpan.FromMinutes(1), cancel);
            var failed = await fleet.WaitAsync(cancel);
            if (status.State != "finished") throw new UserInputException($"the run {status.State}: {status.Error} (see {coordinator.LogPath})");
            if (failed.Count > 0) throw new UserInputException($"clients failed: {string.Join(", ", failed)}");
            AnsiConsole.WriteLine(config.Has(PromptMode.Soft)
                ? "references: zero-shot of both models and full prompt tuning of the large model on the pooled private data (simulation only)"
                : $"references: zero-shot and the manual prompt on the black box ({BlackBoxes.Describe(config.Discrete.BlackBox)})");
            var references = SimulationReferences.Compute(RunConfig.Load(configPath), privatePool);
            var paths = SimulationReport.Write(outDir, reportJson, references);
            AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(paths[1])}[/] (and report.json, report.png)");
            return 0;
        });
        return command;
    }

    static string WriteCorpus(IEnumerable<string> documents, string path)
    {
        File.WriteAllLines(path, documents.Select(text => JsonSerializer.Serialize(new { text })));
        return path;
    }

    /// <summary>
    /// The given models, or the built-in pair pretrained and distilled once and cached by corpus content, seed, steps and training
    /// recipe (a cache keyed without the corpus would hand a teacher of an older generated corpus, or of another --public-texts, to
    /// this run; one keyed without the recipe, a teacher trained the old way after the training loop changed).
    /// </summary>
    static (string Large, string Small) Models(string? large, string? small, string corpusPath, int seed, int pretrainSteps, int distillSteps)
    {
        string cache = Path.GetFullPath(Path.Combine("runs", "cache"));
        if (large is null)
        {
            string corpusHash;
            using (var corpus = File.OpenRead(corpusPath))
                corpusHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(corpus))[..12];
            large = Path.Combine(cache, $"teacher-{corpusHash}-seed{seed}-steps{pretrainSteps}-document-windows-recipe{TrainingLoop.RecipeVersion}");
            if (!File.Exists(Path.Combine(large, "config.json")))
                ProgressViews.Pretrain(new PretrainJobSpec
                {
                    Documents = TextCorpus.Open(corpusPath), OutputDir = large, Shape = new GptShape(),
                    Options = BuiltInTraining(pretrainSteps, seed),
                });
        }
        if (small is null)
        {
            small = Path.Combine(large + "-student", $"distilled-steps{distillSteps}");
            if (!File.Exists(Path.Combine(small, "config.json")))
                ProgressViews.Distill(new DistillJobSpec
                {
                    TeacherDir = large, Documents = TextCorpus.Open(corpusPath), OutputDir = small,
                    Options = new DistillOptions { Training = BuiltInTraining(distillSteps, seed) },
                });
        }
        return (Path.GetFullPath(large), Path.GetFullPath(small));
    }

    /// <summary>
    /// Training of the built-in pair: one evaluation and one checkpoint, at the end; windows start at documents, or reviews
    /// cut from their opening teach a verdict without a genre (docs/ARCHITECTURE.md, "The built-in scenario").
    /// </summary>
    static PretrainOptions BuiltInTraining(int steps, int seed) =>
        new() { Steps = steps, Seed = seed, EvalEvery = steps, CheckpointEvery = steps, WindowsAtDocuments = true };

    /// <summary>Shows the rounds as they go (through the operator API) until the run ends or a client process dies.</summary>
    static async Task<RunStatus> Follow(Operator.OperatorClient service, RunConfig config, ClientFleet clients, CancellationToken cancel)
    {
        RunStatus status = null!;
        await AnsiConsole.Progress().AutoClear(false).StartAsync(async progress =>
        {
            var bar = progress.AddTask("federation", maxValue: config.Rounds + (config.Has(PromptMode.Soft) ? 1 : 0));
            while (true)
            {
                status = await service.GetStatusAsync(new RunRef(), cancellationToken: cancel);
                double closed = status.Rounds.Where(r => r.State == "closed").Select(r => r.Round).Distinct().Count();
                bar.Value = closed + (status.State == "finished" ? 1 : 0);
                bar.Description = status.State switch
                {
                    "running" => $"round {status.Round}/{status.TotalRounds} {status.RoundState}, {status.UploadsInRound}/{status.SampledClients} updates" +
                                 (status.Rounds.LastOrDefault(r => r.State == "closed") is { } last ? $", last accuracy {last.Accuracy:P1}" : ""),
                    var state => state,
                };
                if (status.State is "finished" or "failed") return;
                if (clients.FirstFailure is { } dead) throw new UserInputException(dead);
                await Task.Delay(500, cancel);
            }
        });
        return status;
    }
}
