using System.Text.Json;

namespace FederatedPrompts.Coordinator.Operations;

/// <summary>
/// The coordinator's audit trail: one JSON object a line, appended and flushed as each event happens. It records who
/// (the caller's certificate identity), what and when (ISO 8601 with the zone) for what bears on security: enrolments,
/// accepted uploads with the SHA-256 of the prompt as received, every refused call with its status and reason, and the
/// operator's actions. It never records private data: an upload's prompt only by its hash, inference texts not at all.
/// </summary>
public sealed class AuditLog : IDisposable
{
    static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    /// <summary>A refusal's detail is the caller's to read in full; the audit keeps enough to say why.</summary>
    const int MaxDetailChars = 500;

    readonly StreamWriter _writer;
    readonly TimeProvider _time;
    readonly Lock _gate = new();

    public AuditLog(string path, TimeProvider time)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        // Appended to across restarts; readable by others (log shippers) while it is written.
        _writer = new StreamWriter(new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        _time = time;
    }

    public string Path { get; }

    /// <summary>The default place: beside the state database, which holds what the audit trail speaks of.</summary>
    public static string BesideDatabase(string database) => System.IO.Path.ChangeExtension(database, ".audit.jsonl");

    public void Enrolled(string identity, string mode, int exampleCount) =>
        Record("enrol", identity, ("mode", mode), ("example_count", exampleCount));

    public void Uploaded(string identity, string runId, int round, string mode, long bytes, string sha256, int exampleCount, double? epsilonTotal) =>
        Record("upload", identity, ("run", runId), ("round", round), ("mode", mode), ("bytes", bytes), ("sha256", sha256),
            ("example_count", exampleCount), ("epsilon_total", epsilonTotal));

    public void Refused(string identity, string method, string status, string detail) =>
        Record("refusal", identity, ("method", method), ("status", status),
            ("detail", detail.Length > MaxDetailChars ? detail[..MaxDetailChars] + "…" : detail));

    public void OperatorAction(string identity, string action, string runId) => Record("operator", identity, ("action", action), ("run", runId));

    public void CoordinatorStarted(string address, string database) => Record("start", "coordinator", ("address", address), ("database", database));

    void Record(string what, string identity, params (string Name, object? Value)[] fields)
    {
        var line = new Dictionary<string, object?> { ["time"] = _time.GetLocalNow().ToString("yyyy-MM-ddTHH:mm:ss.fffzzz"), ["event"] = what, ["identity"] = identity };
        foreach (var (name, value) in fields) line[name] = value;
        string text = JsonSerializer.Serialize(line, Json);
        lock (_gate) _writer.WriteLine(text);
    }

    public void Dispose()
    {
        lock (_gate) _writer.Dispose();
    }
}
