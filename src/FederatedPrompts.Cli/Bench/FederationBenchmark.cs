using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using FederatedPrompts.Client;
using FederatedPrompts.Client.Simulation;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Coordinator.Strategies;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Protocol.V1;
using Spectre.Console;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// <c>fedprompt bench federation</c>, by default the coordinator's round overhead without client training. For each N a
/// real coordinator (mutual TLS on 127.0.0.1, SQLite in a temp folder, the run's models: <c>--model</c>) runs a run of N
/// admitted clients (min_clients = N, fraction 1) against N in-process clients (<see cref="InProcessClientHost"/>: the
/// client loop with its own certificate and channel each, real gRPC over sockets). With <c>--client-work perturb</c>
/// the coordinator runs in this process and the clients' local work uploads the global prompt plus seeded noise
/// (<see cref="PerturbedGlobalPrompt"/>), so they download no model: round timings come from the coordinator's store
/// (collecting start, every update's receipt, close) and the worker's aggregation/evaluation seconds; memory is sampled
/// from this process, which also holds the clients. With <c>--client-work train</c> every client downloads the model and
/// does the mode's real local work, against a coordinator process whose memory is its own
/// (<see cref="FederationTrainingBenchmark"/>).
/// </summary>
public static class FederationBenchmark
{
    const double RoundTimeoutSeconds = 3600;
    const string Perturb = "perturb", Train = "train";

    public static Command Create()
    {
        var clients = new Option<string?>("--clients") { Description = "Client counts N to measure, comma-separated (default: 10,100,1000 with --client-work perturb, 10 with train)" };
        var rounds = new Option<int>("--rounds") { Description = "Rounds per run", DefaultValueFactory = _ => 3 };
        var mode = new Option<string>("--mode") { Description = "soft or discrete", DefaultValueFactory = _ => "soft" }.AcceptOnlyFromAmong("soft", "discrete");
        var strategy = new Option<string?>("--strategy") { Description = "The run's aggregation strategy (default: the mode's default in a run, fedavg for soft prompts, feddtpt for discrete)" };
        var promptLength = new Option<int>("--prompt-length") { Description = "Soft prompt length (discrete: tokens of the initial prompt, at most this many)", DefaultValueFactory = _ => 8 };
        var model = new Option<string>("--model")
        {
            Description = "The run's models: tiny (a generated 2-layer pair, hidden 16) or gpt2-small (12 × 768, 12 heads, context 128, the --tokenizer's vocabulary, " +
                          "random weights from --seed; the one checkpoint is also the teacher)",
            DefaultValueFactory = _ => FederationSetting.TinyName,
        }.AcceptOnlyFromAmong(FederationSetting.TinyName, FederationSetting.Gpt2SmallName);
        var dtype = new Option<string>("--model-dtype") { Description = "How the models' weights are stored and downloaded (they compute in float32 either way)", DefaultValueFactory = _ => "F32" }
            .AcceptOnlyFromAmong("F32", "BF16", "F16");
        var clientWork = new Option<string?>("--client-work")
        {
            Description = "perturb: clients upload the global prompt plus seeded noise and download nothing (the coordinator's overhead); train: each client downloads " +
                          "the model into a folder of its own and does the mode's local work, against a coordinator process (default: perturb with --model tiny, train with gpt2-small)",
        }.AcceptOnlyFromAmong(Perturb, Train);
        var tokenizer = new Option<string?>("--tokenizer") { Description = "With --model gpt2-small: the tokenizer folder, whose vocabulary the model gets (default: ../shared/data/models/gpt2-tokenizer)" };
        var processes = new Option<int>("--client-processes")
        {
            Description = "With --client-work perturb: spread the clients over this many child processes (a process may hold 20,000 open files here, and " +
                          "every client has its own TLS connection: N = 10,000 needs several); 1 runs them in this process beside the coordinator",
            DefaultValueFactory = _ => 1,
        };
        var examples = new Option<int?>("--examples") { Description = "With --client-work train: private examples per client (default 16: four steps of 4 per round in soft mode)" };
        var output = new Option<string>("--out") { Description = "Results folder", DefaultValueFactory = _ => Path.Combine("bench", "results") };
        var seed = CommonOptions.Seed();
        var command = new Command("federation", "Coordinator round overhead and memory for N in-process clients over mutual TLS; with --client-work train, model downloads and local work too")
        {
            clients, rounds, mode, strategy, promptLength, model, dtype, clientWork, tokenizer, examples, processes, output, seed,
        };
        command.SetAction((parse, cancel) =>
        {
            string modelName = parse.GetValue(model)!, work = parse.GetValue(clientWork) ?? (modelName == FederationSetting.TinyName ? Perturb : Train);
            if (modelName != FederationSetting.Gpt2SmallName && parse.GetValue(tokenizer) is not null)
                throw new UserInputException("--tokenizer gives --model gpt2-small its vocabulary; the tiny pair has a generated tokenizer of its own");
            if (work != Train && parse.GetValue(examples) is not null)
                throw new UserInputException("--examples are the private examples of --client-work train; perturbing clients have none");
            int clientProcesses = parse.GetValue(processes);
            if (clientProcesses < 1) throw new UserInputException($"--client-processes must be at least 1, got {clientProcesses}");
            if (work != Perturb && clientProcesses != 1)
                throw new UserInputException("--client-processes spreads perturbing clients; --client-work train runs its clients in this process against a coordinator process");
            int examplesPerClient = parse.GetValue(examples) ?? 16;
            if (examplesPerClient < 2) throw new UserInputException($"--examples must be at least 2 (one of each label), got {examplesPerClient}");
            var benchmark = new Benchmark(ParseCounts(parse.GetValue(clients) ?? (work == Train ? "10" : "10,100,1000")), parse.GetValue(rounds), parse.GetValue(mode)!,
                parse.GetValue(strategy) ?? (parse.GetValue(mode) == "soft" ? new SoftRunConfig().Strategy : new DiscreteRunConfig().Strategy),
                parse.GetValue(promptLength), modelName, parse.GetValue(dtype)!, work, examplesPerClient, clientProcesses, parse.GetValue(seed));
            string tokenizerDir = parse.GetValue(tokenizer) ?? Path.Combine("..", "shared", "data", "models", "gpt2-tokenizer");
            return Run(benchmark, tokenizerDir, parse.GetValue(output)!, cancel);
        });
        return command;
    }

    /// <summary>What one invocation measures: the client counts and the run's settings.</summary>
    sealed record Benchmark(int[] Counts, int Rounds, string Mode, string Strategy, int PromptLength, string Model, string Dtype, string ClientWork, int Examples,
        int ClientProcesses, int Seed)
    {
        /// <summary>federation[-MODEL][-DTYPE][-WORK]: a part is left out where it is the default (tiny, F32, the model's default work), so the plain command keeps its file.</summary>
        public string ReportName => "federation" + (Model == FederationSetting.TinyName ? "" : $"-{Model}") + (Dtype == "F32" ? "" : $"-{Dtype.ToLowerInvariant()}") +
                                    (ClientWork == (Model == FederationSetting.TinyName ? Perturb : Train) ? "" : $"-{ClientWork}");
    }

    internal static int[] ParseCounts(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UserInputException("--clients: no client counts given");
        return parts.Select(p => int.TryParse(p, out int n) && n >= 1 ? n
            : throw new UserInputException($"--clients: \"{p}\" is not a client count (an integer of at least 1)")).ToArray();
    }

    static async Task<int> Run(Benchmark b, string tokenizerDir, string outputDir, CancellationToken cancel)
    {
        if (b.Rounds < 1) throw new UserInputException($"--rounds must be at least 1, got {b.Rounds}");
        if (b.PromptLength < 1) throw new UserInputException($"--prompt-length must be at least 1, got {b.PromptLength}");
        if (b.Model == FederationSetting.Gpt2SmallName && !Directory.Exists(tokenizerDir))
            throw new UserInputException($"--tokenizer {tokenizerDir}: no such folder (--model gpt2-small takes its vocabulary from a tokenizer folder)");
        var work = Directory.CreateTempSubdirectory("fedprompt-bench-federation-");
        try
        {
            string settingFolder = Path.Combine(work.FullName, "setting");
            if (b.Model == FederationSetting.Gpt2SmallName) AnsiConsole.MarkupLine($"writing the GPT-2-small-shaped model ({b.Dtype}, random weights, seed {b.Seed})");
            var setting = b.Model == FederationSetting.TinyName ? FederationSetting.Tiny(settingFolder, b.Dtype) : FederationSetting.Gpt2Small(settingFolder, tokenizerDir, b.Dtype, b.Seed);
            RunConfig ConfigFor(int n) => setting.Config(b.Mode, Enumerable.Range(1, n).Select(ClientProcesses.Identity).ToList(), b.Rounds, minClients: n, c => c with
            {
                Name = $"bench-{b.Mode}-{n}", Seed = b.Seed, Fraction = 1, RoundTimeoutSeconds = RoundTimeoutSeconds,
                // Without a cap, soft feddtpt's global prompt (one vector per cluster, kept noise included) can outgrow the
                // coordinator's own prompt-length limit, and the next round's uploads are refused; the cap keeps the shape.
                AggregationMaxLength = b.PromptLength,
                Soft = c.Soft with { PromptLength = b.PromptLength, Strategy = b.Mode == "soft" ? b.Strategy : c.Soft.Strategy },
                Discrete = c.Discrete with
                {
                    InitialPrompt = string.Join(" ", Enumerable.Repeat("the day was lovely", (b.PromptLength + 3) / 4)),
                    Strategy = b.Mode == "discrete" ? b.Strategy : c.Discrete.Strategy,
                },
                Transfer = c.Transfer with { Steps = 1, EveryRounds = 0 },
            });
            ConfigFor(1);   // a bad --strategy for the mode fails here, before anything is measured
            var counts = b.Counts.Distinct().Order().ToArray();
            if (b.ClientWork == Train) FederationTrainingBenchmark.RequireDiskFor(counts[^1], setting, work.FullName);
            var results = new List<object>();
            var rows = new List<NRow>();
            var trained = new List<FederationTrainingBenchmark.NRow>();
            foreach (int n in counts)
            {
                AnsiConsole.MarkupLine($"[bold]N = {n}[/] ({b.Mode}, {b.Strategy}, {b.Rounds} rounds, {setting.Name} {setting.Dtype}, client work: {b.ClientWork})");
                string folder = Path.Combine(work.FullName, $"n{n}");
                if (b.ClientWork == Train)
                {
                    var (json, row) = await FederationTrainingBenchmark.MeasureOne(ConfigFor(n), setting, folder, b.Seed, b.Examples, cancel);
                    results.Add(json);
                    trained.Add(row);
                    AnsiConsole.MarkupLine($"  downloads: {row.AggregateMBps:F0} MB/s in all, p50 {row.DownloadP50:F1} s per client; coordinator {row.IdleMiB:F0} MiB idle, " +
                                           $"{row.DownloadPeakMiB:F0} MiB peak while downloading (+{row.GrowthMiB:F1} MiB, {row.GrowthShare:P1} of the model: target {(row.TargetMet ? "met" : "missed")}); " +
                                           $"client round 1 {row.Rounds[0].ClientRound:F1} s on average");
                    Directory.Delete(folder, recursive: true);   // N copies of the model: gone before the next N downloads its own
                }
                else
                {
                    var (json, row) = await MeasureOne(ConfigFor(n), setting, folder, b.Seed, Math.Min(b.ClientProcesses, n), cancel);
                    results.Add(json);
                    rows.Add(row);
                    AnsiConsole.MarkupLine($"  round overhead {row.Overhead:F2} s (collecting {row.Collecting:F2} s, aggregate {row.Aggregate:F3} s, evaluate {row.Evaluate:F3} s), " +
                                           $"{row.UploadsPerSecond:F0} uploads/s, peak working set {row.PeakWorkingSetMiB:F0} MiB" +
                                           (row.ClientProcessPeakMib.Count > 0 ? $", client processes' peaks {row.ClientProcessPeakMib.Sum():F0} MiB in all" : ""));
                }
            }
            var files = b.ClientWork == Train
                ? FederationTrainingBenchmark.Write(outputDir, b.ReportName, setting, b.Mode, b.Strategy, b.Rounds, b.Seed, b.PromptLength, b.Examples, results, trained)
                : Write(outputDir, b, setting, results, rows);
            foreach (var file in files) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(file)}[/]");
            return 0;
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    sealed record NRow(int Clients, double Overhead, double Collecting, double Closing, double Aggregate, double Evaluate, double UploadsPerSecond,
        double BytesPerUpload, double PeakWorkingSetMiB, double CoordinatorBaseMiB, double CoordinatorRetainedMiB, double StoreKiB, double EnrolSeconds,
        IReadOnlyList<(string Strategy, double Seconds)> Offline, IReadOnlyList<double> ClientProcessPeakMib);

    /// <summary>One N: the clients in this process (<paramref name="processes"/> = 1) or in that many child processes.</summary>
    static async Task<(object Json, NRow Row)> MeasureOne(RunConfig config, FederationSetting setting, string folder, int seed, int processes, CancellationToken cancel)
    {
        int n = config.Clients.Count;
        var baseline = ThisProcessMemory.Now(collect: true);

        var clock = Stopwatch.StartNew();
        await using var federation = new LoopbackFederation(config, folder, issueClients: processes == 1);
        double certSeconds = clock.Elapsed.TotalSeconds;
        var afterCerts = ThisProcessMemory.Now(collect: true);

        clock.Restart();
        await federation.StartAsync(cancel);
        double startSeconds = clock.Elapsed.TotalSeconds;
        var coordinatorStarted = ThisProcessMemory.Now(collect: true);

        var mode = config.Has(PromptMode.Soft) ? PromptMode.Soft : PromptMode.Discrete;
        var work = ClientProcesses.Work(mode, setting.VocabularySize);
        InProcessClientHost? host = processes > 1 ? null : InProcessClientHost.Create(
            config.Clients.Select(id => new HostedClient(id, federation.Credentials(id), work, Path.Combine(folder, "client-state", id))).ToList(),
            new InProcessClientOptions { Coordinator = federation.Coordinator.Address, Seed = seed });
        try
        {
            var clientsCreated = ThisProcessMemory.Now(collect: true);

            HostedClients clients;
            double enrolSeconds, runSeconds;
            RunSnapshot snapshot;
            IReadOnlyList<(DateTimeOffset At, ThisProcessMemory Value)> samples;
            using (var sampler = new PeriodicSampler<ThisProcessMemory>(() => ThisProcessMemory.Now(collect: false), TimeSpan.FromMilliseconds(100)))
            {
                var started = DateTimeOffset.UtcNow;
                if (host is not null)
                {
                    var summary = await host.RunAsync(cancel);
                    (clients, enrolSeconds, runSeconds) = (new HostedClients(summary.Clients.Select(ClientRecord.Of).ToList(), []), summary.EnrolSeconds, summary.Seconds);
                }
                else
                {
                    clients = await ClientProcesses.RunAsync(federation.Coordinator.Address, federation.Authority, n, processes, mode == PromptMode.Soft ? "soft" : "discrete",
                        setting.VocabularySize, seed, folder, cancel);
                    (enrolSeconds, runSeconds) = ((clients.Clients.Max(c => c.EnrolledAt) - started).TotalSeconds, (DateTimeOffset.UtcNow - started).TotalSeconds);
                }
                snapshot = await federation.FinishedAsync(TimeSpan.FromMinutes(5), cancel);
                samples = sampler.Stop();
            }
            var peak = (Peak: new ThisProcessMemory(samples.Max(s => s.Value.WorkingSet), samples.Max(s => s.Value.GcHeap)), Samples: samples.Count);

            if (host is not null) await host.DisposeAsync();
            host = null;
            await Task.Delay(500, cancel);   // let Kestrel notice the closed connections
            var clientsGone = ThisProcessMemory.Now(collect: true);
            long dbBytes = FileSize(federation.Database), walBytes = FileSize(federation.Database + "-wal");
            var uploads = clients.Clients.SelectMany(c => c.Uploads).ToList();
            var enrolLatencies = clients.Clients.Select(c => c.EnrolSeconds).Order().ToList();

            var roundRows = snapshot.Rounds.Select(r =>
            {
                var updates = snapshot.Updates.Where(u => u.Round == r.Round).ToList();
                var hosted = uploads.Where(u => u.Round == r.Round && u.Outcome == UploadOutcome.Accepted).ToList();
                var collectStart = r.Deadline!.Value.AddSeconds(-config.RoundTimeoutSeconds);
                var lastUpload = updates.Max(u => u.ReceivedAt);
                var part = r.Modes.Values.Single();
                using var notes = JsonDocument.Parse(part.NotesJson!);
                double aggregate = notes.RootElement.GetProperty("aggregate_seconds").GetDouble(), evaluate = notes.RootElement.GetProperty("evaluate_seconds").GetDouble();
                double collecting = (lastUpload - collectStart).TotalSeconds, closing = (r.ClosedAt!.Value - lastUpload).TotalSeconds;
                var latencies = hosted.Select(u => u.Seconds).Order().ToList();
                return new
                {
                    round = r.Round, uploads = updates.Count,
                    wall_seconds = (r.ClosedAt!.Value - r.OpenedAt).TotalSeconds,
                    open_wait_seconds = (collectStart - r.OpenedAt).TotalSeconds,
                    overhead_seconds = (r.ClosedAt!.Value - collectStart).TotalSeconds,
                    collecting_seconds = collecting,
                    closing_seconds = closing,
                    aggregate_seconds = aggregate,
                    evaluate_seconds = evaluate,
                    uploads_per_second = updates.Count / Math.Max(collecting, 1e-9),
                    upload_latency_p50_seconds = Quantile(latencies, 0.5),
                    upload_latency_p95_seconds = Quantile(latencies, 0.95),
                    request_bytes_per_upload = hosted.Count == 0 ? 0 : hosted.Average(u => (double)u.RequestBytes),
                    prompt_bytes_per_upload = updates.Average(u => (double)u.Bytes),
                    prompt_length = part.PromptOut!.Length,
                };
            }).ToList();

            // The strategy's cost alone on the last round's stored updates, for the run's strategy and the cheap baseline.
            var lastUpdates = snapshot.Updates.Where(u => u.Round == config.Rounds).ToList();
            var offline = new List<(string Strategy, double Seconds)>();
            var runMode = config.Modes.Single();
            using (var models = new RunModels(config, new RunTask(config)))
                foreach (string name in new[] { config.StrategyFor(runMode), "fedavg" }.Distinct())
                {
                    var named = runMode == PromptMode.Soft ? config with { Soft = config.Soft with { Strategy = name } } : config with { Discrete = config.Discrete with { Strategy = name } };
                    var strategy = FederationStrategies.Create(runMode, named, new Lazy<RunModels>(models));
                    var timer = Stopwatch.StartNew();
                    strategy.Aggregate(config.Rounds, snapshot.Rounds[^1].Modes[runMode].PromptIn, lastUpdates);
                    offline.Add((name, timer.Elapsed.TotalSeconds));
                }

            double MiB(long bytes) => bytes / (1024.0 * 1024.0);
            var row = new NRow(n,
                Overhead: roundRows.Average(r => r.overhead_seconds), Collecting: roundRows.Average(r => r.collecting_seconds),
                Closing: roundRows.Average(r => r.closing_seconds), Aggregate: roundRows.Average(r => r.aggregate_seconds),
                Evaluate: roundRows.Average(r => r.evaluate_seconds), UploadsPerSecond: roundRows.Average(r => r.uploads_per_second),
                BytesPerUpload: roundRows.Average(r => r.request_bytes_per_upload), PeakWorkingSetMiB: MiB(peak.Peak.WorkingSet),
                CoordinatorBaseMiB: MiB(coordinatorStarted.WorkingSet - afterCerts.WorkingSet),
                CoordinatorRetainedMiB: MiB(clientsGone.GcHeap - afterCerts.GcHeap),
                StoreKiB: (dbBytes + walBytes) / 1024.0, EnrolSeconds: enrolSeconds, Offline: offline, ClientProcessPeakMib: clients.ProcessPeakMib);
            var json = new
            {
                clients = n,
                certificate_issue_seconds = certSeconds,
                coordinator_start_seconds = startSeconds,
                channels = "one GrpcChannel (own SocketsHttpHandler, own TLS connection) per client",
                client_processes = processes,
                client_process_peak_rss_mib = clients.ProcessPeakMib,
                enrol_seconds = enrolSeconds,
                enrol_latency_p50_seconds = Quantile(enrolLatencies, 0.5),
                enrol_latency_p95_seconds = Quantile(enrolLatencies, 0.95),
                run_seconds = runSeconds,
                round_task_calls = clients.Clients.Sum(c => c.Polls),
                wait_replies = clients.Clients.Sum(c => c.Waits),
                refused_uploads = uploads.Count(u => u.Outcome != UploadOutcome.Accepted),
                round_overhead_seconds = row.Overhead,
                collecting_seconds = row.Collecting,
                closing_seconds = row.Closing,
                aggregate_seconds = row.Aggregate,
                evaluate_seconds = row.Evaluate,
                uploads_per_second = row.UploadsPerSecond,
                request_bytes_per_upload = row.BytesPerUpload,
                rounds = roundRows,
                offline_aggregation = offline.Select(o => new { strategy = o.Strategy, seconds = o.Seconds, updates = lastUpdates.Count }),
                memory = new
                {
                    baseline = baseline.Json, after_certificates = afterCerts.Json, coordinator_started = coordinatorStarted.Json,
                    clients_created = clientsCreated.Json, peak_during_run = peak.Peak.Json, peak_samples = peak.Samples, after_clients_disposed = clientsGone.Json,
                    coordinator_start_working_set_bytes = coordinatorStarted.WorkingSet - afterCerts.WorkingSet,
                    coordinator_retained_gc_heap_bytes = clientsGone.GcHeap - afterCerts.GcHeap,
                    clients_created_gc_heap_bytes = clientsCreated.GcHeap - coordinatorStarted.GcHeap,
                },
                store = new { database_bytes = dbBytes, wal_bytes = walBytes },
            };
            return (json, row);
        }
        finally
        {
            if (host is not null) await host.DisposeAsync();
        }
    }

    static long FileSize(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    static double Quantile(IReadOnlyList<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(q * sorted.Count))];

    static IReadOnlyList<string> Write(string outputDir, Benchmark b, FederationSetting setting, List<object> results, List<NRow> rows)
    {
        var (mode, strategy, rounds, seed, promptLength) = (b.Mode, b.Strategy, b.Rounds, b.Seed, b.PromptLength);
        var numbers = new
        {
            benchmark = "federation", mode, strategy, rounds, seed, prompt_length = promptLength,
            model = setting.ModelJson,
            transport = "mutual TLS (ECDSA P-256) on 127.0.0.1, HTTP/2",
            store = "SQLite, WAL, synchronous = FULL, in a temp folder",
            client_work = "perturb: upload = global prompt + seeded noise (soft) or one seeded token replaced (discrete); no model download (the work needs none)",
            Environment.ProcessorCount, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            dotnet = Environment.Version.ToString(),
            runs = results,
        };
        string F(double v, string format) => double.IsFinite(v) ? v.ToString(format) : "–";
        var report = new BenchReport(b.ReportName, $"Coordinator round overhead ({mode}, {strategy})")
            .Paragraph($"A real coordinator (mutual TLS on 127.0.0.1, SQLite store) and N in-process clients, each with its own certificate and " +
                       $"gRPC channel, {rounds} rounds, min_clients = N, fraction 1, seed {seed}; {setting.Describe()}, prompt length {promptLength}. " +
                       "Clients do no training (they upload the global prompt with seeded noise) and skip the model download, so the numbers are the " +
                       $"coordinator's cost. {Environment.ProcessorCount} CPU cores shared by coordinator, clients and other work: timings are noisy.")
            .Paragraph("Round overhead = collecting start → round closed (mean over rounds); collecting = collecting start → last update stored " +
                       "(includes clients' poll interval of ~0.5 s); aggregate and evaluate are the worker's own timings; closing = last update → closed " +
                       "(worker poll ≤ 0.1 s + aggregate + evaluate + store). Memory is this process's (the coordinator's, and the clients' unless they ran in client processes): " +
                       "peak working set during the run; coordinator start = working set after the coordinator started minus before; retained = GC heap after the clients " +
                       "were disposed minus before the coordinator. Client processes (`--client-processes`): how many hosted the clients, and the largest of their peak resident sets.")
            .Table(["N", "round overhead (s)", "collecting (s)", "aggregate (s)", "evaluate (s)", "closing (s)", "uploads/s", "bytes/upload",
                    "enrol all (s)", "peak WS (MiB)", "coordinator start (MiB)", "coordinator retained heap (MiB)", "store (KiB)", "client processes"],
                rows.Select(r => (IReadOnlyList<string>)[r.Clients.ToString("N0"), F(r.Overhead, "F2"), F(r.Collecting, "F2"), F(r.Aggregate, "F3"), F(r.Evaluate, "F3"),
                    F(r.Closing, "F2"), F(r.UploadsPerSecond, "F0"), F(r.BytesPerUpload, "F0"), F(r.EnrolSeconds, "F2"), F(r.PeakWorkingSetMiB, "F0"),
                    F(r.CoordinatorBaseMiB, "F0"), F(r.CoordinatorRetainedMiB, "F1"), F(r.StoreKiB, "F0"),
                    r.ClientProcessPeakMib.Count == 0 ? "none (in this process)" : $"{r.ClientProcessPeakMib.Count}, peak ≤ {r.ClientProcessPeakMib.Max():F0} MiB each"]))
            .Table(["N", .. rows[0].Offline.Select(o => $"{o.Strategy} aggregation alone (s, last round)")],
                rows.Select(r => (IReadOnlyList<string>)[r.Clients.ToString("N0"), .. r.Offline.Select(o => F(o.Seconds, "F3"))]));
        var x = rows.Select(r => Math.Log10(r.Clients)).ToArray();
        return report.Write(outputDir, numbers, plot =>
        {
            void Line(string label, Func<NRow, double> y)
            {
                var line = plot.Add.Scatter(x, rows.Select(r => Math.Log10(Math.Max(y(r), 1e-4))).ToArray());
                line.LegendText = label;
            }
            Line("round overhead", r => r.Overhead);
            Line("collecting", r => r.Collecting);
            Line("aggregate + evaluate", r => r.Aggregate + r.Evaluate);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(x, rows.Select(r => r.Clients.ToString("N0")).ToArray());
            plot.XLabel("clients N (log scale)");
            plot.YLabel("log10 seconds per round");
            plot.ShowLegend();
        });
    }
}
