using System.CommandLine;
using System.Text.Json;
using FederatedPrompts.Client;
using FederatedPrompts.Client.Simulation;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Protocol.Security;
using Spectre.Console;

namespace FederatedPrompts.Cli.Bench;

/// <summary>What <c>bench federation</c> reads of one client's run, whichever process hosted it.</summary>
public sealed record ClientRecord(double EnrolSeconds, DateTimeOffset EnrolledAt, int Polls, int Waits, IReadOnlyList<ClientRecord.Upload> Uploads)
{
    public sealed record Upload(int Round, UploadOutcome Outcome, double Seconds, int RequestBytes);

    public static ClientRecord Of(ClientSummary summary) => new(summary.EnrolTime.TotalSeconds, summary.EnrolledAt, summary.Polls, summary.Waits,
        summary.Rounds.Select(r => new Upload(r.Round, r.Outcome, r.UploadTime.TotalSeconds, r.RequestBytes)).ToList());
}

/// <summary>The clients of one measurement: every client's record, and each hosting process's peak memory (MiB; none when they share the coordinator's).</summary>
public sealed record HostedClients(IReadOnlyList<ClientRecord> Clients, IReadOnlyList<double> ProcessPeakMib);

/// <summary>
/// <c>bench federation --client-processes P</c>: the N clients spread over P child processes (<c>bench federation-clients</c>,
/// hidden), each an <see cref="InProcessClientHost"/> of its slice with the same perturbing local work. One process cannot
/// hold 10,000 clients here: every client has its own TLS connection, so the clients' sockets and the coordinator's
/// together pass the 20,000 open files a process may have. Each child issues its slice's certificates from the
/// benchmark's CA (written to the run's temp folder), so issuing runs in parallel too, and reports its clients and its
/// peak resident memory as JSON.
/// </summary>
public static class ClientProcesses
{
    public static Command Create()
    {
        var coordinator = new Option<string>("--coordinator") { Description = "The coordinator's address", Required = true };
        var ca = new Option<string>("--ca") { Description = "Folder with the benchmark CA's ca.crt and ca.key", Required = true };
        var first = new Option<int>("--first") { Description = "Number of the first client (sim-NNNN)", Required = true };
        var count = new Option<int>("--count") { Description = "Clients this process hosts", Required = true };
        var mode = new Option<string>("--mode") { Description = "soft or discrete", Required = true }.AcceptOnlyFromAmong("soft", "discrete");
        var vocabulary = new Option<int>("--vocabulary") { Description = "The run's vocabulary (discrete perturbations)", Required = true };
        var state = new Option<string>("--state") { Description = "Folder for the clients' state", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the report", Required = true };
        var seed = CommonOptions.Seed();
        var command = new Command("federation-clients", "Clients of bench federation --client-processes (run by it)")
            { coordinator, ca, first, count, mode, vocabulary, state, output, seed };
        command.Hidden = true;
        command.SetAction(async (parse, cancel) =>
        {
            using var authority = CertificateAuthority.Load(PemFiles.CertificatePath(parse.GetValue(ca)!, "ca"), PemFiles.KeyPath(parse.GetValue(ca)!, "ca"));
            var identities = Enumerable.Range(parse.GetValue(first), parse.GetValue(count)).Select(Identity).ToList();
            var work = Work(parse.GetValue(mode) == "soft" ? PromptMode.Soft : PromptMode.Discrete, parse.GetValue(vocabulary));
            var clients = identities.Select(id => new HostedClient(id, new ClientCredentials(authority.IssueClient(id), authority.Certificate), work,
                Path.Combine(parse.GetValue(state)!, id))).ToList();
            await using var host = InProcessClientHost.Create(clients,
                new InProcessClientOptions { Coordinator = new Uri(parse.GetValue(coordinator)!), Seed = parse.GetValue(seed) + parse.GetValue(first) });
            var summary = await host.RunAsync(cancel);
            var report = new HostedClients(summary.Clients.Select(ClientRecord.Of).ToList(), [ProcessMemory.Self().PeakRssMib]);
            await File.WriteAllTextAsync(parse.GetValue(output)!, JsonSerializer.Serialize(report, CommonOptions.JsonLine), cancel);
            return 0;
        });
        return command;
    }

    /// <summary>The benchmarks' identity of client number <paramref name="number"/> (from 1), the same in every process.</summary>
    public static string Identity(int number) => $"sim-{number:D4}";

    /// <summary>The clients' local work in every process: no training, no model.</summary>
    public static PerturbedGlobalPrompt Work(PromptMode mode, int vocabularySize) => new(mode, exampleCount: 10, noise: 0.01f, vocabularySize);

    /// <summary>
    /// Runs clients 1..<paramref name="clients"/> in <paramref name="processes"/> child processes of near-equal slices
    /// against the coordinator at <paramref name="coordinator"/>, and gathers their reports; a child that fails fails the
    /// measurement with its last line.
    /// </summary>
    public static async Task<HostedClients> RunAsync(Uri coordinator, CertificateAuthority authority, int clients, int processes, string mode, int vocabulary,
        int seed, string folder, CancellationToken cancel)
    {
        string caFolder = Path.Combine(folder, "ca");
        authority.Save(caFolder);
        var slices = Enumerable.Range(0, processes)
            .Select(p => (First: 1 + p * clients / processes, Count: (p + 1) * clients / processes - p * clients / processes)).ToList();
        AnsiConsole.MarkupLine($"  {clients:N0} clients in {processes} processes of {slices.Min(s => s.Count):N0}–{slices.Max(s => s.Count):N0}");
        // One child failing stops the others (the run cannot finish without its clients), and its error is the one reported.
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        Exception? firstFailure = null;
        var running = slices.Select(async (slice, p) =>
        {
            string report = Path.Combine(folder, $"clients-{p}.json");
            var start = Simulation.FedpromptProcess.StartInfo(["bench", "federation-clients", "--coordinator", coordinator.ToString(), "--ca", caFolder,
                "--first", $"{slice.First}", "--count", $"{slice.Count}", "--mode", mode, "--vocabulary", $"{vocabulary}",
                "--state", Path.Combine(folder, "client-state"), "--out", report, "--seed", $"{seed}"]);
            try
            {
                await ChildProcess.RunAsync(start, Path.Combine(folder, $"clients-{p}.log"), $"client process {p + 1}", failed.Token);
            }
            catch (Exception e) when (!failed.IsCancellationRequested)
            {
                Interlocked.CompareExchange(ref firstFailure, e, null);
                await failed.CancelAsync();
                throw;
            }
            return JsonSerializer.Deserialize<HostedClients>(await File.ReadAllTextAsync(report, cancel), CommonOptions.JsonLine)!;
        }).ToList();
        HostedClients[] reports;
        try
        {
            reports = await Task.WhenAll(running);
        }
        catch when (firstFailure is not null && !cancel.IsCancellationRequested)
        {
            throw firstFailure;
        }
        return new HostedClients(reports.SelectMany(r => r.Clients).ToList(), reports.SelectMany(r => r.ProcessPeakMib).ToList());
    }
}
