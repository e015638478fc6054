using System.CommandLine;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Models;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Protocol.Security;

namespace FederatedPrompts.Cli.Commands;

/// <summary>
/// <c>fedprompt coordinator --config run.json --certs DIR</c>: serves a federated run over mutual TLS until stopped
/// (or until the run ends, with --exit-when-finished). State is in --db; started again, it resumes the unfinished run.
/// </summary>
public static class CoordinatorCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "Run configuration (JSON); used when the database has no unfinished run" };
        var db = new Option<string>("--db") { Description = "SQLite state file", DefaultValueFactory = _ => Path.Combine("runs", "coordinator.db") };
        var listen = new Option<string>("--listen") { Description = "Address to listen on (port 0: any free port)", DefaultValueFactory = _ => "https://127.0.0.1:5050" };
        var certs = new Option<string?>("--certs") { Description = "Folder with ca.crt and coordinator.crt/.key (from fedprompt certs)" };
        var insecure = new Option<bool>("--insecure") { Description = "Plaintext HTTP/2, loopback only, identities from a header (testing only)" };
        var operatorName = new Option<string>("--operator") { Description = "Identity admitted to the operator API", DefaultValueFactory = _ => CallerIdentity.DefaultOperator };
        var hold = new Option<bool>("--hold") { Description = "Create the run but wait for the operator to start it" };
        var exit = new Option<bool>("--exit-when-finished") { Description = "Stop once the run has finished or failed" };
        var maxMessage = new Option<int>("--max-message-bytes") { Description = "Largest request accepted", DefaultValueFactory = _ => 4 * 1024 * 1024 };
        var acceptLost = new Option<bool>("--accept-lost-state")
        {
            Description = "Start although --db was not closed cleanly and its -wal file is missing, continuing from the older state it holds",
        };
        var backup = new Option<string?>("--backup-to")
        {
            Description = "Copy --db into this new file as one consistent snapshot (SQLite VACUUM INTO), also while a coordinator serves it, and exit",
        };
        var opsListen = new Option<string?>("--ops-listen")
        {
            Description = "Plaintext HTTP/1.1 address for the operator's tools, e.g. http://127.0.0.1:9464: /metrics (Prometheus) and /dashboard (needs the token)",
        };
        var probeListen = new Option<string?>("--probe-listen")
        {
            Description = "Plaintext HTTP/2 address serving only the gRPC health service, for probes that cannot do TLS (Kubernetes), e.g. http://0.0.0.0:9465",
        };
        var tokenFile = new Option<string?>("--dashboard-token-file") { Description = "File holding the dashboard's token (default: a new random token, printed at start)" };
        var auditLog = new Option<string?>("--audit-log") { Description = "Audit trail of enrolments, uploads, refusals and operator actions, JSON lines (default: beside --db, .audit.jsonl)" };
        var logFormat = new Option<string>("--log-format") { Description = "Console log: text, or json (one object a line, for log collectors)", DefaultValueFactory = _ => "text" }
            .AcceptOnlyFromAmong("text", "json");
        var reflection = new Option<bool>("--reflection") { Description = "Serve gRPC server reflection on --listen (for grpcurl)" };
        var inferenceBatch = new Option<int>("--inference-batch")
        {
            Description = "Discrete mode: the most inputs of concurrent inference requests classified in one pass, fairly across clients (0: one request at a time)",
            DefaultValueFactory = _ => InferenceBatching.Default.MaxBatch,
        };
        var inferenceWait = CommonOptions.InferenceWaitMs("Discrete mode: how long a pass that is not full waits for more requests");
        var command = new Command("coordinator", "Run the federation coordinator (gRPC over mutual TLS)")
            { config, db, listen, certs, insecure, operatorName, hold, exit, maxMessage, acceptLost, backup, opsListen, probeListen, tokenFile, auditLog, logFormat, reflection, inferenceBatch, inferenceWait };
        command.SetAction(async (parse, cancel) =>
        {
            if (parse.GetValue(backup) is { } copy)
            {
                var runs = CoordinatorStore.Backup(parse.GetValue(db)!, copy);
                Console.WriteLine($"copied {Path.GetFullPath(parse.GetValue(db)!)} to {Path.GetFullPath(copy)}: {runs.Count} runs" + (runs.Count > 0 ? $" ({string.Join(", ", runs)})" : ""));
                return 0;
            }
            bool plain = parse.GetValue(insecure);
            var address = TransportSecurity.ParseAddress(parse.GetValue(listen)!, plain);
            CoordinatorCredentials? tls = null;
            if (!plain)
            {
                string dir = parse.GetValue(certs) ?? throw new UserInputException("give --certs DIR (or --insecure on loopback)");
                tls = CoordinatorCredentials.Load(PemFiles.CertificatePath(dir, "coordinator"), PemFiles.KeyPath(dir, "coordinator"), PemFiles.CertificatePath(dir, "ca"));
            }
            var options = new CoordinatorOptions
            {
                Transport = new CoordinatorTransport(address, tls, plain, parse.GetValue(operatorName)!),
                Database = parse.GetValue(db)!, Config = parse.GetValue(config) is { } path ? RunConfig.Load(path) : null,
                Hold = parse.GetValue(hold), ExitWhenFinished = parse.GetValue(exit), AcceptLostState = parse.GetValue(acceptLost),
                MaxMessageBytes = parse.GetValue(maxMessage) is > 0 and var bytes ? bytes : throw new UserInputException("--max-message-bytes must be positive"),
                OpsListen = PlaintextAddress(parse.GetValue(opsListen), "--ops-listen"), ProbeListen = PlaintextAddress(parse.GetValue(probeListen), "--probe-listen"),
                DashboardToken = parse.GetValue(tokenFile) is { } file ? DashboardToken(file) : null, AuditLog = parse.GetValue(auditLog),
                LogFormat = parse.GetValue(logFormat) == "json" ? LogFormat.Json : LogFormat.Text, Reflection = parse.GetValue(reflection),
                Inference = new InferenceBatching(
                    parse.GetValue(inferenceBatch) is >= 0 and var batch ? batch : throw new UserInputException("--inference-batch must be 0 (off) or a positive number of inputs"),
                    CommonOptions.InferenceWait(parse.GetValue(inferenceWait))),
            };
            await using var host = CoordinatorHost.Create(options);
            if (host.Runs.Current is null) Console.Error.WriteLine("no run yet: the operator creates one (fedprompt operator create)");
            try
            {
                await host.StartAsync(cancel);
            }
            catch (IOException e)   // Kestrel: the address is in use or cannot be bound
            {
                throw new UserInputException($"cannot listen on {address}: {e.Message}");
            }
            // One machine-readable line: fedprompt simulate (and people) read the real address from it.
            Console.WriteLine($"coordinator listening on {host.Address}");
            // A token made now is printed, since nobody else knows it; one from a file is not, to keep it out of the logs.
            if (host.OpsAddress is { } ops)
                Console.WriteLine($"metrics on {ops}metrics; dashboard on {ops}dashboard" +
                    (parse.GetValue(tokenFile) is { } given ? $" (token in {given})" : $"?token={Uri.EscapeDataString(host.DashboardToken)}"));
            if (host.ProbeAddress is { } probe) Console.WriteLine($"health probes on {probe}");
            Console.WriteLine($"audit trail in {host.AuditLog}");
            await host.WaitForShutdownAsync(cancel);
            if (host.WriteFailure is { } failure)
            {
                Console.Error.WriteLine($"error: the coordinator stopped: {failure.Message}");
                return 1;   // not bad input: a service manager's Restart=on-failure should start it again
            }
            return 0;
        });
        return command;
    }

    static Uri? PlaintextAddress(string? value, string option)
    {
        if (value is null) return null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/")
            throw new UserInputException($"{option} {value}: give http://host:port (plaintext; host an IP address, localhost, or 0.0.0.0 for all interfaces)");
        return uri;
    }

    /// <summary>The first line of the file, which must hold at least 16 characters (a guessable token guards nothing).</summary>
    static string DashboardToken(string file)
    {
        string token = (File.Exists(file) ? File.ReadLines(file).FirstOrDefault() ?? "" : throw new UserInputException($"--dashboard-token-file {file} does not exist")).Trim();
        return token.Length >= 16 ? token : throw new UserInputException($"--dashboard-token-file {file}: the token has {token.Length} characters; give at least 16");
    }
}