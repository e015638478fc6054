using System.CommandLine;
using System.Diagnostics;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Protocol.V1;
using Spectre.Console;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// <c>fedprompt bench inference</c>: the inference service under C concurrent discrete-mode clients, each with its own
/// prompt, sending requests one after another over mutual TLS to a real coordinator on 127.0.0.1: queries/s and request
/// latency (p50, p99), served one request at a time (as before batching) and with dynamic batching, side by side in one
/// run for each C. The black box is the run's large model: the tiny generated pair by default, or --teacher/--student.
/// </summary>
public static class InferenceBenchmark
{
    public static Command Create()
    {
        var clients = new Option<string>("--clients") { Description = "Concurrent clients C to measure, comma-separated", DefaultValueFactory = _ => "1,10,100" };
        var requests = new Option<int>("--requests") { Description = "Timed requests per client (after one untimed)", DefaultValueFactory = _ => 10 };
        var texts = new Option<int>("--texts") { Description = "Texts per request", DefaultValueFactory = _ => 8 };
        var promptLength = new Option<int>("--prompt-length") { Description = "Tokens of each client's prompt (random ids, seeded per client)", DefaultValueFactory = _ => 5 };
        var teacher = new Option<string?>("--teacher") { Description = "Large model folder (the black box); with --student (default: the tiny generated pair)" };
        var student = new Option<string?>("--student") { Description = "Its distilled student (the run needs the pair)" };
        var evalTask = new Option<string?>("--eval-task") { Description = "Labeled file whose texts are sent (default with --teacher: ../shared/data/tasks/sst2/test.jsonl)" };
        var preset = new Option<string>("--preset") { Description = "Task preset of the pair (template and label words)", DefaultValueFactory = _ => "sst2" };
        var batch = new Option<int>("--inference-batch") { Description = "Largest pass of the batching coordinator", DefaultValueFactory = _ => InferenceBatching.Default.MaxBatch };
        var wait = CommonOptions.InferenceWaitMs("How long the batching coordinator's pass that is not full waits for more requests");
        var output = new Option<string>("--out") { Description = "Results folder", DefaultValueFactory = _ => Path.Combine("bench", "results") };
        var seed = CommonOptions.Seed();
        var command = new Command("inference", "Inference service throughput and latency for C concurrent clients, one request at a time against dynamic batching")
            { clients, requests, texts, promptLength, teacher, student, evalTask, preset, batch, wait, output, seed };
        command.SetAction((parse, cancel) =>
        {
            int[] counts = FederationBenchmark.ParseCounts(parse.GetValue(clients)!);
            int r = parse.GetValue(requests) is >= 1 and var rr ? rr : throw new UserInputException("--requests must be at least 1");
            int t = parse.GetValue(texts) is >= 1 and var tt ? tt : throw new UserInputException("--texts must be at least 1");
            int p = parse.GetValue(promptLength) is >= 1 and var pp ? pp : throw new UserInputException("--prompt-length must be at least 1");
            int b = parse.GetValue(batch) is >= 1 and var bb ? bb : throw new UserInputException("--inference-batch must be at least 1");
            if (parse.GetValue(teacher) is null != parse.GetValue(student) is null) throw new UserInputException("give --teacher and --student together");
            return Run(counts, r, t, p, new InferenceBatching(b, CommonOptions.InferenceWait(parse.GetValue(wait))), parse.GetValue(teacher), parse.GetValue(student), parse.GetValue(evalTask), parse.GetValue(preset)!,
                parse.GetValue(output)!, parse.GetValue(seed), cancel);
        });
        return command;
    }

    /// <summary>One measurement: C clients, R requests each, served one at a time or batched.</summary>
    public sealed record Measurement(int Clients, string Serving, int Requests, int Queries, double Seconds, double QueriesPerSecond,
        double P50Milliseconds, double P99Milliseconds);

    static async Task<int> Run(int[] counts, int requests, int texts, int promptLength, InferenceBatching batched, string? teacher, string? student,
        string? evalTask, string preset, string outputDir, int seed, CancellationToken cancel)
    {
        var work = Directory.CreateTempSubdirectory("fedprompt-bench-inference-");
        try
        {
            var setting = FederationSetting.Tiny(Path.Combine(work.FullName, "setting"));
            string taskFile = Path.GetFullPath(evalTask ?? (teacher is null ? setting.EvalTask : Path.Combine("..", "shared", "data", "tasks", "sst2", "test.jsonl")));
            teacher = teacher is null ? null : Path.GetFullPath(teacher);
            student = student is null ? null : Path.GetFullPath(student);
            var pool = TaskFile.Load(taskFile).Examples.Select(e => e.Text).ToArray();
            var servings = new[] { ("one request at a time", InferenceBatching.Off), ("batched", batched) };
            var results = new List<Measurement>();
            foreach (int c in counts)
                foreach (var (name, batching) in servings)
                {
                    var config = setting.Config("discrete", Enumerable.Range(1, c).Select(ClientProcesses.Identity).ToList(), rounds: 1, minClients: c, change: cfg => cfg with
                    {
                        Name = $"bench-inference-{c}", Seed = seed, Fraction = 1, RoundTimeoutSeconds = 3600, EvalTask = taskFile,
                        SmallModel = student ?? cfg.SmallModel, LargeModel = teacher ?? cfg.LargeModel, Preset = teacher is null ? cfg.Preset : preset,
                        Discrete = cfg.Discrete with { QueryBudget = 1_000_000_000 },
                    });
                    var measured = await Measure(config, batching, name, work.FullName, pool, requests, texts, promptLength, seed, cancel);
                    results.Add(measured);
                    AnsiConsole.MarkupLine($"C = {c}, {name}: {measured.QueriesPerSecond:F0} queries/s, p50 {measured.P50Milliseconds:F1} ms, p99 {measured.P99Milliseconds:F1} ms");
                }
            string taskName = teacher is null && evalTask is null ? "the tiny setting's held-out file" : taskFile;
            var files = Report(results, counts, requests, texts, promptLength, batched, teacher, taskName, seed).Write(outputDir,
                new { requests_per_client = requests, texts_per_request = texts, prompt_length = promptLength, max_batch = batched.MaxBatch,
                      max_wait_ms = batched.MaxWait.TotalMilliseconds, teacher, task = taskName, seed, results },
                "concurrent clients", "queries/s",
                servings.Select(s => new PlotSeries(s.Item1, counts.Select(c => (double)c).ToList(),
                    counts.Select(c => results.Single(m => m.Clients == c && m.Serving == s.Item1).QueriesPerSecond).ToList())));
            foreach (var file in files) AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(file)}[/]");
            return 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    static async Task<Measurement> Measure(Coordinator.Runs.RunConfig config, InferenceBatching batching, string name, string work, string[] pool,
        int requests, int texts, int promptLength, int seed, CancellationToken cancel)
    {
        await using var federation = new LoopbackFederation(config, Path.Combine(work, $"{config.Name}-{(batching.MaxBatch > 0 ? "batched" : "serial")}"));
        await federation.StartAsync(cancel, batching);
        var channels = config.Clients.Select(id => CoordinatorChannel.Create(federation.Coordinator.Address, federation.Credentials(id), insecure: false, null)).ToList();
        try
        {
            var runIds = await Task.WhenAll(channels.Select(async channel =>
                (await new Protocol.V1.Federation.FederationClient(channel).EnrolAsync(new EnrolRequest { Mode = Mode.Discrete, ExampleCount = 10 }, cancellationToken: cancel)).RunId));
            while (federation.Engine.Overview().Rounds.LastOrDefault()?.State != RoundState.Collecting) await Task.Delay(20, cancel);
            int vocabulary = federation.Coordinator.Runs.Current!.Models.Value.Facts.VocabularySize;

            async Task<List<double>> Client(int k)
            {
                var random = new Random(seed * 7919 + k);
                var prompt = Enumerable.Range(0, promptLength).Select(_ => random.Next(vocabulary)).ToArray();
                var service = new Inference.InferenceClient(channels[k]);
                var latencies = new List<double>();
                for (int i = 0; i <= requests; i++)
                {
                    var request = new ClassifyRequest { RunId = runIds[k], PromptTokenIds = { prompt } };
                    request.Texts.AddRange(Enumerable.Range(0, texts).Select(j => pool[(k * 31 + i * texts + j) % pool.Length]));
                    var clock = Stopwatch.StartNew();
                    await service.ClassifyAsync(request, cancellationToken: cancel);
                    if (i > 0) latencies.Add(clock.Elapsed.TotalMilliseconds);   // the first request warms the connection and the model
                }
                return latencies;
            }

            var wall = Stopwatch.StartNew();
            var all = (await Task.WhenAll(Enumerable.Range(0, channels.Count).Select(Client))).SelectMany(l => l).Order().ToList();
            double seconds = wall.Elapsed.TotalSeconds;
            int queries = channels.Count * requests * texts;
            return new Measurement(channels.Count, name, channels.Count * requests, queries, seconds, queries / seconds,
                Percentile(all, 0.50), Percentile(all, 0.99));
        }
        finally
        {
            foreach (var channel in channels) channel.Dispose();
        }
    }

    /// <summary>The value at quantile <paramref name="q"/> of sorted values (nearest rank).</summary>
    static double Percentile(IReadOnlyList<double> sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    static BenchReport Report(List<Measurement> results, int[] counts, int requests, int texts, int promptLength, InferenceBatching batched, string? teacher, string task, int seed) =>
        new BenchReport("inference", "Inference service: one request at a time against dynamic batching")
            .Paragraph($"C discrete-mode clients, each with its own random {promptLength}-token prompt, send {requests} requests of {texts} texts one after " +
                       $"another (after one untimed) to the Inference service of a real coordinator over mutual TLS on 127.0.0.1; the black box is " +
                       $"{(teacher is null ? "the tiny generated model pair's large model" : $"`{teacher}`")}, texts from {task}. Served one request at a time " +
                       $"(`--inference-batch 0`, as before batching) and batched (up to {batched.MaxBatch} inputs a pass after a wait of at most {batched.MaxWait.TotalMilliseconds:0.#} ms, fairly across clients), side by side for each C. " +
                       BenchReport.RunConditions(seed, []))
            .Table(["C", "one at a time (queries/s)", "batched (queries/s)", "ratio", "p50 one / batched (ms)", "p99 one / batched (ms)"],
                counts.Select(c =>
                {
                    var one = results.Single(m => m.Clients == c && m.Serving != "batched");
                    var batched = results.Single(m => m.Clients == c && m.Serving == "batched");
                    return (IReadOnlyList<string>)[c.ToString(), $"{one.QueriesPerSecond:F0}", $"{batched.QueriesPerSecond:F0}", $"{batched.QueriesPerSecond / one.QueriesPerSecond:F2}×",
                        $"{one.P50Milliseconds:F1} / {batched.P50Milliseconds:F1}", $"{one.P99Milliseconds:F1} / {batched.P99Milliseconds:F1}"];
                }));
}
