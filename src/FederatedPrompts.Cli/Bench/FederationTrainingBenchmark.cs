using System.Text.Json;
using FederatedPrompts.Cli.Simulation;
using FederatedPrompts.Client;
using FederatedPrompts.Client.Models;
using FederatedPrompts.Client.Simulation;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Protocol.Security;
using Spectre.Console;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// <c>fedprompt bench federation --client-work train</c>: a run whose clients do a client's whole job. The coordinator is
/// a child process (<c>fedprompt coordinator</c>, mutual TLS on 127.0.0.1, SQLite), so its memory is its own: Linux's
/// VmRSS, RssAnon and VmHWM and its read/write byte counts are sampled from /proc every 100 ms. N in-process clients
/// (<see cref="InProcessClientHost"/>, own certificate and TLS connection each) each download the run's small model in
/// chunks into a cache folder of their own, all at once, then do the mode's real local work (soft: prompt tuning,
/// <see cref="SoftLocalWork"/>; discrete: the FedDTPT search, <see cref="DiscreteLocalWork"/>) one client at a time,
/// since each local job already uses every core, and upload. The clients share one loaded copy of the model
/// (<see cref="SharedModels"/>), as <c>simulate --in-process</c> does.
/// </summary>
public static class FederationTrainingBenchmark
{
    /// <summary>
    /// The bound on the coordinator's memory while N clients download: its resident set may grow above its idle level by
    /// less than this share of one model's bytes. A server that held a whole file in memory per download would exceed it
    /// with the first client; one that streams holds a chunk or a few per connection, whatever the model's size.
    /// </summary>
    public const double MemoryGrowthTarget = 0.25;

    static readonly TimeSpan SamplePeriod = TimeSpan.FromMilliseconds(100);
    /// <summary>How long the coordinator stays idle, listening with its models loaded, before the clients start; its idle level is the mean over this.</summary>
    static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(2);

    /// <summary>Fails when the temp folder's drive cannot hold N copies of the model with 10 % to spare.</summary>
    public static void RequireDiskFor(int clients, FederationSetting setting, string folder)
    {
        long needed = (long)(clients * setting.SmallBytes * 1.1);
        long free = new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;
        if (needed > free)
            throw new UserInputException($"--clients {clients}: each client downloads the {setting.SmallBytes / 1e6:F0} MB model into a folder of its own, " +
                                         $"{needed / 1e9:F1} GB in all, and {folder} has {free / 1e9:F1} GB free");
    }

    public sealed record RoundRow(int Round, double Download, double Wait, double Work, double Steps, double Upload, double ClientRound, double ClientRoundMax, double Wall);

    public sealed record NRow(int Clients, long ModelBytes, double DownloadP50, double DownloadMax, double AggregateMBps, double MessageRatio, double ReadRatio,
        double IdleMiB, double DownloadPeakMiB, double GrowthMiB, double GrowthShare, bool TargetMet, double LaterPeakMiB, double LifetimePeakMiB,
        double ClientsPeakMiB, IReadOnlyList<RoundRow> Rounds, IReadOnlyList<(double Seconds, double RssMiB)> Series, double DownloadStart, double DownloadEnd);

    /// <summary>One run of <paramref name="config"/>'s N clients against a coordinator process, in <paramref name="folder"/>.</summary>
    public static async Task<(object Json, NRow Row)> MeasureOne(RunConfig config, FederationSetting setting, string folder, int seed, int examples,
        CancellationToken cancel)
    {
        Directory.CreateDirectory(folder);
        string certs = Path.Combine(folder, "certs"), runFile = Path.Combine(folder, "run.json"), database = Path.Combine(folder, "coordinator.db");
        using var ca = CertificateAuthority.Create("Benchmark federation CA");
        ca.Save(certs);
        using (var server = ca.IssueServer("coordinator")) PemFiles.Save(server, certs, "coordinator");
        File.WriteAllText(runFile, config.ToJson());

        using var models = new SharedModels();
        var mode = config.Modes.Single();
        var clients = config.Clients.Select((id, i) =>
        {
            string data = Path.Combine(folder, "data", $"{id}.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(data)!);
            File.WriteAllText(data, FederationSetting.Examples(examples, 100_000 + 1_000 * i));
            var privateData = TaskFile.Load(data).RequireAtLeastTwoClasses();
            ILocalWork work = mode == PromptMode.Soft ? new SoftLocalWork(privateData, models, metricExamples: examples) : new DiscreteLocalWork(privateData, models);
            return new HostedClient(id, new ClientCredentials(ca.IssueClient(id), ca.Certificate), work, Path.Combine(folder, "client-state", id),
                CacheDirectory: Path.Combine(folder, "client-cache", id));
        }).ToList();

        using var coordinator = new FedpromptProcess("coordinator", Path.Combine(folder, "coordinator.log"),
            ["coordinator", "--config", runFile, "--db", database, "--listen", "https://127.0.0.1:0", "--certs", certs, "--exit-when-finished"]);
        var started = DateTimeOffset.UtcNow;
        using var coordinatorMemory = new PeriodicSampler<ProcessMemory>(() => ProcessMemory.Read(coordinator.Id), SamplePeriod);
        string address = await coordinator.Listening.WaitAsync(TimeSpan.FromMinutes(5), cancel);
        var listening = DateTimeOffset.UtcNow;
        AnsiConsole.MarkupLine($"  coordinator process listening after {(listening - started).TotalSeconds:F1} s (models loaded); {config.Clients.Count} clients download, then train in turn");
        await Task.Delay(IdleWindow, cancel);

        using var clientsMemory = new PeriodicSampler<ThisProcessMemory>(() => ThisProcessMemory.Now(collect: false), SamplePeriod);
        var clientsStart = DateTimeOffset.UtcNow;
        InProcessRunSummary summary;
        // One client at local work at a time: each job already uses every core, so more would only thrash.
        await using (var host = InProcessClientHost.Create(clients, new InProcessClientOptions { Coordinator = new Uri(address), Seed = seed, ConcurrentWork = 1 }))
            summary = await host.RunAsync(cancel);
        // Clients hear FINISHED after the last round; a soft run still transfers its prompt, then the coordinator exits.
        AnsiConsole.MarkupLine($"  clients done after {summary.Seconds:F1} s; waiting for the coordinator to finish the run");
        await coordinator.WaitAsync(cancel).WaitAsync(TimeSpan.FromMinutes(30), cancel);
        var coordinatorSamples = coordinatorMemory.Stop();
        var clientSamples = clientsMemory.Stop();
        if (coordinator.ExitCode != 0)
            throw new InvalidOperationException($"the coordinator exited with {coordinator.ExitCode}: {string.Join(" | ", File.ReadLines(coordinator.LogPath).TakeLast(5))}");
        var (run, rounds) = StoredRun(database);

        // The download phase: from the first client's first request to the last client's verified model.
        var downloads = summary.Clients.Select(c => c.Model ?? throw new InvalidOperationException($"{c.ClientId} got no model")).ToList();
        var (downloadStart, downloadEnd) = (downloads.Min(d => d.StartedAt), downloads.Max(d => d.StartedAt + d.Time));
        var idle = coordinatorSamples.Where(s => s.At >= clientsStart - IdleWindow && s.At < clientsStart).Select(s => s.Value).ToList();
        // Up to one sampling period past the end: downloads shorter than a period (the tiny model's) still get the reading
        // that follows them, which the coordinator, alive until the run finishes, always has.
        var during = coordinatorSamples.Where(s => s.At >= downloadStart && s.At <= downloadEnd + SamplePeriod).Select(s => s.Value).ToList();
        var later = coordinatorSamples.Where(s => s.At > downloadEnd).Select(s => s.Value).ToList();
        if (idle.Count == 0 || during.Count == 0)
            throw new InvalidOperationException($"the coordinator's memory was not sampled {(idle.Count == 0 ? "while idle" : "during the downloads")}");
        // The read counter at the readings just outside the phase, so the phase's reads are all inside the difference.
        var ioBefore = coordinatorSamples.LastOrDefault(s => s.At <= downloadStart, coordinatorSamples[0]).Value;
        var ioAfter = coordinatorSamples.FirstOrDefault(s => s.At >= downloadEnd, coordinatorSamples[^1]).Value;

        static double MiB(double bytes) => bytes / (1024.0 * 1024.0);
        long modelBytes = downloads[0].ModelBytes, downloaded = downloads.Sum(d => d.DownloadedBytes), messages = downloads.Sum(d => d.MessageBytes);
        double window = (downloadEnd - downloadStart).TotalSeconds;
        var perClient = downloads.Select(d => d.Time.TotalSeconds).Order().ToList();
        double idleRss = idle.Average(m => (double)m.Rss), peakDuring = during.Max(m => m.Rss), growth = peakDuring - idleRss;

        var roundRows = rounds.Select(r =>
        {
            var done = summary.Clients.SelectMany(c => c.Rounds.Where(x => x.Round == r.Round && x.Outcome == UploadOutcome.Accepted).Select(x => (Client: c, Round: x))).ToList();
            if (done.Count != summary.Clients.Count)
                throw new InvalidOperationException($"round {r.Round}: {done.Count} of {summary.Clients.Count} clients' updates were taken (min_clients = N, so every client's should be)");
            // A client's time for the round: the model's download before its first, then its turn at the local work and the upload.
            double Download(ClientSummary c) => r.Round == 1 ? c.Model!.Time.TotalSeconds : 0;
            var times = done.Select(d => Download(d.Client) + d.Round.WorkTime.TotalSeconds + d.Round.UploadTime.TotalSeconds).ToList();
            return new RoundRow(r.Round,
                Download: done.Average(d => Download(d.Client)),
                Wait: done.Average(d => d.Round.WorkTime.TotalSeconds - d.Round.Update.Metrics.Seconds),
                Work: done.Average(d => d.Round.Update.Metrics.Seconds), Steps: done.Average(d => (double)d.Round.Update.Metrics.Steps),
                Upload: done.Average(d => d.Round.UploadTime.TotalSeconds), ClientRound: times.Average(), ClientRoundMax: times.Max(),
                Wall: (r.ClosedAt!.Value - r.OpenedAt).TotalSeconds);
        }).ToList();

        var row = new NRow(config.Clients.Count, modelBytes, Quantile(perClient, 0.5), perClient[^1], AggregateMBps: downloaded / 1e6 / window,
            MessageRatio: (double)messages / downloaded, ReadRatio: (double)(ioAfter.ReadBytes - ioBefore.ReadBytes) / downloaded,
            IdleMiB: MiB(idleRss), DownloadPeakMiB: MiB(peakDuring), GrowthMiB: MiB(growth), GrowthShare: growth / modelBytes,
            TargetMet: growth < MemoryGrowthTarget * modelBytes, LaterPeakMiB: later.Count == 0 ? double.NaN : MiB(later.Max(m => m.Rss)),
            LifetimePeakMiB: MiB(coordinatorSamples.Max(s => s.Value.PeakRss)), ClientsPeakMiB: MiB(clientSamples.Max(s => s.Value.WorkingSet)), roundRows,
            Series: coordinatorSamples.Select(s => ((s.At - started).TotalSeconds, MiB(s.Value.Rss))).ToList(),
            DownloadStart: (downloadStart - started).TotalSeconds, DownloadEnd: (downloadEnd - started).TotalSeconds);

        var json = new
        {
            clients = row.Clients,
            run_state = run.State.ToString().ToLowerInvariant(),
            coordinator_listening_seconds = (listening - started).TotalSeconds,
            enrol_seconds = summary.EnrolSeconds,
            run_seconds = summary.Seconds,
            download = new
            {
                model_bytes = modelBytes,
                downloaded_bytes = downloaded,
                grpc_message_bytes = messages,
                grpc_bytes_per_file_byte = row.MessageRatio,
                coordinator_read_bytes = ioAfter.ReadBytes - ioBefore.ReadBytes,
                coordinator_read_per_file_byte = row.ReadRatio,
                window_seconds = window,
                aggregate_mb_per_second = row.AggregateMBps,
                per_client_seconds_p50 = row.DownloadP50,
                per_client_seconds_max = row.DownloadMax,
                per_client_mb_per_second_mean = downloads.Average(d => d.DownloadedBytes / 1e6 / d.Time.TotalSeconds),
            },
            coordinator_memory = new
            {
                idle_rss_bytes = (long)idleRss,
                idle_rss_anon_bytes = (long)idle.Average(m => (double)m.RssAnon),
                download_peak_rss_bytes = (long)peakDuring,
                download_peak_rss_anon_bytes = during.Max(m => m.RssAnon),
                download_growth_bytes = (long)growth,
                download_growth_per_model_byte = row.GrowthShare,
                target_growth_per_model_byte = MemoryGrowthTarget,
                target_met = row.TargetMet,
                after_downloads_peak_rss_bytes = later.Count == 0 ? (long?)null : later.Max(m => m.Rss),
                lifetime_peak_rss_bytes = coordinatorSamples.Max(s => s.Value.PeakRss),
                samples = coordinatorSamples.Count,
                series_seconds_rss_mib = row.Series.Select(s => new[] { Math.Round(s.Seconds, 2), Math.Round(s.RssMiB, 1) }),
            },
            clients_process_peak_working_set_bytes = clientSamples.Max(s => s.Value.WorkingSet),
            rounds = roundRows.Select(r => new
            {
                round = r.Round, download_seconds_mean = r.Download, wait_for_turn_seconds_mean = r.Wait, local_work_seconds_mean = r.Work,
                steps_mean = r.Steps, upload_seconds_mean = r.Upload, client_round_seconds_mean = r.ClientRound, client_round_seconds_max = r.ClientRoundMax,
                round_wall_seconds = r.Wall,
            }),
            per_client = summary.Clients.Select(c => new
            {
                client = c.ClientId, enrol_seconds = c.EnrolTime.TotalSeconds, download_seconds = c.Model!.Time.TotalSeconds,
                downloaded_bytes = c.Model.DownloadedBytes, grpc_message_bytes = c.Model.MessageBytes,
                rounds = c.Rounds.Select(x => new
                {
                    round = x.Round, outcome = x.Outcome.ToString().ToLowerInvariant(), work_seconds = x.WorkTime.TotalSeconds,
                    local_work_seconds = x.Update.Metrics.Seconds, steps = x.Update.Metrics.Steps, upload_seconds = x.UploadTime.TotalSeconds,
                    request_bytes = x.RequestBytes,
                }),
            }),
        };
        return (json, row);
    }

    /// <summary>The run as the coordinator stored it, once it has exited; a run that did not finish is an error naming its state.</summary>
    static (RunRecord Run, IReadOnlyList<RoundRecord> Rounds) StoredRun(string database)
    {
        using var store = new CoordinatorStore(database);
        var run = store.LatestRun() ?? throw new InvalidOperationException($"{database} holds no run");
        if (run.State != RunState.Finished) throw new InvalidOperationException($"the benchmark run {run.RunId} ended {run.State}: {run.Error}");
        return (run, store.Rounds(run.RunId));
    }

    static double Quantile(IReadOnlyList<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(q * sorted.Count))];

    /// <summary>Writes NAME.{json,md,png}: the setting, one row per N, the rounds, and the coordinator's resident set over time.</summary>
    public static IReadOnlyList<string> Write(string outputDir, string name, FederationSetting setting, string mode, string strategy, int rounds, int seed,
        int promptLength, int examples, List<object> results, List<NRow> rows)
    {
        var numbers = new
        {
            benchmark = "federation", client_work = "train", mode, strategy, rounds, seed, prompt_length = promptLength, examples_per_client = examples,
            model = setting.ModelJson,
            transport = "mutual TLS (ECDSA P-256) on 127.0.0.1, HTTP/2; model files in chunks of 256 KiB (DownloadModel)",
            coordinator = "a child process (fedprompt coordinator); memory and I/O from /proc/PID/status and /proc/PID/io every 100 ms",
            clients = "in this process, one TLS connection and one model cache folder each; one at local work at a time; one shared loaded copy of the model",
            memory_target = $"coordinator VmRSS growth above idle during the downloads < {MemoryGrowthTarget:P0} of one model's bytes",
            Environment.ProcessorCount, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription, dotnet = Environment.Version.ToString(),
            runs = results,
        };
        string F(double v, string format) => double.IsFinite(v) ? v.ToString(format) : "–";
        string work = mode == "soft" ? "tunes the soft prompt (one epoch of batches of 4 over its examples, as a client job does)" : "runs the FedDTPT search against the coordinator's black box";
        var report = new BenchReport(name, $"Federation with client downloads and local work ({setting.Name}, {setting.Dtype}, {mode})")
            .Paragraph($"A coordinator process (`fedprompt coordinator`: mutual TLS on 127.0.0.1, SQLite store) serves {setting.Describe()}. " +
                       $"N in-process clients, each with its own certificate, TLS connection and model cache folder, all download the model at once " +
                       $"(DownloadModel, chunks of 256 KiB, each checked against its SHA-256 and written to disk as it arrives, then the file's SHA-256), " +
                       $"then each {work} on {examples} private examples, one client at a time, and uploads; {rounds} rounds, min_clients = N, " +
                       $"prompt length {promptLength}, seed {seed}. {Environment.ProcessorCount} CPU cores shared by the coordinator, the clients and " +
                       "other work on the machine: timings are noisy.")
            .Paragraph("Coordinator memory is its process's resident set (VmRSS) from /proc, sampled every 100 ms: idle = mean over the 2 s before the clients " +
                       "start, with its models loaded (it loads the small model and the teacher); download peak = highest reading between the first client's " +
                       "first request and the last client's verified model; growth = download peak − idle; lifetime peak = the kernel's VmHWM (model loading " +
                       $"included). Target: growth < {MemoryGrowthTarget:P0} of one model's bytes while all N download (meant for real-size models: a model " +
                       "smaller than the coordinator's fixed cost per connection cannot meet it and says nothing about streaming). gRPC bytes = the chunk " +
                       "messages the clients received (protobuf + 5-byte frame prefix) per file byte; HTTP/2 (9 bytes per frame of at most 16 KiB) and TLS 1.3 " +
                       "(22 bytes per record of at most 16 KiB) add about 0.2 % on top, computed, not measured. Coordinator file reads = bytes its read system " +
                       "calls returned in the download phase (rchar: the model files, its store) per downloaded file byte.")
            .Table(["N", "model (MB)", "download per client p50 / max (s)", "aggregate (MB/s)", "gRPC bytes / file byte", "coordinator file reads / file byte",
                    "coordinator idle (MiB)", "download peak (MiB)", "growth (MiB)", "growth / model", "target", "peak after downloads (MiB)",
                    "lifetime peak VmHWM (MiB)", "clients' process peak WS (MiB)"],
                rows.Select(r => (IReadOnlyList<string>)[r.Clients.ToString("N0"), F(r.ModelBytes / 1e6, "F1"), $"{F(r.DownloadP50, "F1")} / {F(r.DownloadMax, "F1")}",
                    F(r.AggregateMBps, "F0"), F(r.MessageRatio, "F5"), F(r.ReadRatio, "F3"), F(r.IdleMiB, "F0"), F(r.DownloadPeakMiB, "F0"), F(r.GrowthMiB, "F1"),
                    F(r.GrowthShare, "P1"), r.TargetMet ? "**met**" : "**missed**", F(r.LaterPeakMiB, "F0"), F(r.LifetimePeakMiB, "F0"), F(r.ClientsPeakMiB, "F0")]))
            .Paragraph("Client round time = the model's download (round 1) + waiting for a turn at local work + the local work (its own timing: evaluation " +
                       "before and after, and the steps) + the upload; means over the clients, and the slowest. Round wall = opened → closed in the store.")
            .Table(["N", "round", "download (s)", "wait for turn (s)", "local work (s)", "steps", "upload (s)", "client round mean / max (s)", "round wall (s)"],
                rows.SelectMany(r => r.Rounds.Select(x => (IReadOnlyList<string>)[r.Clients.ToString("N0"), x.Round.ToString(), F(x.Download, "F1"), F(x.Wait, "F1"),
                    F(x.Work, "F2"), F(x.Steps, "F1"), F(x.Upload, "F3"), $"{F(x.ClientRound, "F1")} / {F(x.ClientRoundMax, "F1")}", F(x.Wall, "F1")])));
        return report.Write(outputDir, numbers, plot =>
        {
            foreach (var r in rows)
            {
                var line = plot.Add.Scatter(r.Series.Select(s => s.Seconds).ToArray(), r.Series.Select(s => s.RssMiB).ToArray());
                line.LegendText = $"coordinator VmRSS, N = {r.Clients}";
                line.MarkerSize = 0;
                var start = plot.Add.VerticalLine(r.DownloadStart);
                start.LegendText = $"downloads start / end, N = {r.Clients}";
                start.Color = line.Color;
                plot.Add.VerticalLine(r.DownloadEnd).Color = line.Color;
            }
            plot.XLabel("seconds since the coordinator started");
            plot.YLabel("MiB");
            plot.ShowLegend();
        });
    }
}
