using System.Text.Json;
using System.Text.Json.Nodes;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;
using Microsoft.Data.Sqlite;

namespace FederatedPrompts.Coordinator.Storage;

/// <summary>
/// The store's schema and its forward migrations. The version is kept in meta.schema_version; a database without one was
/// written before versioning (version 1). Opening a database migrates it to <see cref="Current"/> in one transaction, so a
/// failed migration leaves it as it was; a database from a newer version is refused rather than misread.
/// <list type="bullet">
/// <item>1: prompts, metrics and privacy spend as protobuf bytes of the wire messages; one global prompt per round; modes as
/// the wire enum's numbers; states capitalised.</item>
/// <item>2: the coordinator's own format (<see cref="PromptCodec"/>, JSON, lowercase words), independent of federation.proto;
/// per-mode round prompts (round_prompts) and results (run_results) for hybrid runs; the wire size of each update kept
/// (bytes); the aggregation strategy set per mode in the stored configuration (soft.strategy, discrete.strategy).</item>
/// </list>
/// </summary>
public static class StoreSchema
{
    public const int Current = 2;

    /// <summary>How metrics and privacy spend are written: snake_case JSON.</summary>
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    const string Tables = """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY, config_json TEXT NOT NULL, state TEXT NOT NULL, current_round INTEGER NOT NULL,
            created_at TEXT NOT NULL, error TEXT);
        CREATE TABLE run_results (
            run_id TEXT NOT NULL, mode TEXT NOT NULL, prompt BLOB NOT NULL, transfer_json TEXT, PRIMARY KEY (run_id, mode));
        CREATE TABLE clients (
            run_id TEXT NOT NULL, client_id TEXT NOT NULL, mode TEXT NOT NULL, example_count INTEGER NOT NULL,
            enrolled_at TEXT NOT NULL, last_seen TEXT NOT NULL, activity TEXT NOT NULL, PRIMARY KEY (run_id, client_id));
        CREATE TABLE rounds (
            run_id TEXT NOT NULL, round INTEGER NOT NULL, state TEXT NOT NULL, sampled TEXT NOT NULL, opened_at TEXT NOT NULL,
            deadline TEXT, closed_at TEXT, PRIMARY KEY (run_id, round));
        CREATE TABLE round_prompts (
            run_id TEXT NOT NULL, round INTEGER NOT NULL, mode TEXT NOT NULL, prompt_in BLOB NOT NULL, prompt_out BLOB,
            accuracy REAL, notes_json TEXT, PRIMARY KEY (run_id, round, mode));
        CREATE TABLE updates (
            run_id TEXT NOT NULL, round INTEGER NOT NULL, client_id TEXT NOT NULL, prompt BLOB NOT NULL, example_count INTEGER NOT NULL,
            metrics_json TEXT NOT NULL, privacy_json TEXT, received_at TEXT NOT NULL, bytes INTEGER NOT NULL,
            PRIMARY KEY (run_id, round, client_id));
        CREATE TABLE IF NOT EXISTS queries (
            run_id TEXT NOT NULL, round INTEGER NOT NULL, client_id TEXT NOT NULL, used INTEGER NOT NULL,
            PRIMARY KEY (run_id, round, client_id));
        """;

    /// <summary>Brings the database to <see cref="Current"/>: creates it when empty, migrates an older one.</summary>
    public static void Upgrade(SqliteConnection connection)
    {
        int version = VersionOf(connection);
        if (version > Current)
            throw new InvalidDataException($"the database has schema version {version}, newer than the {Current} this fedprompt reads: use the fedprompt that wrote it");
        if (version == Current) return;
        using var transaction = connection.BeginTransaction();
        if (version == 0) Execute(connection, Tables);
        if (version == 1) MigrateFrom1(connection);
        Execute(connection, "INSERT INTO meta (key, value) VALUES ('schema_version', $v) ON CONFLICT (key) DO UPDATE SET value = $v", ("$v", Current.ToString()));
        transaction.Commit();
    }

    static int VersionOf(SqliteConnection connection)
    {
        if (Scalar(connection, "SELECT value FROM meta WHERE key = 'schema_version'") is string stored)
            return int.TryParse(stored, out int version) ? version : throw new InvalidDataException($"meta.schema_version \"{stored}\" is not a number");
        return Scalar(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'runs'") is null ? 0 : 1;
    }

    /// <summary>
    /// Version 1 → 2. Reads the protobuf bytes version 1 stored with the generated parsers (protobuf keeps old fields
    /// readable: field numbers are never reused) and writes each row in version 2's form.
    /// </summary>
    static void MigrateFrom1(SqliteConnection c)
    {
        foreach (var table in new[] { "runs", "clients", "rounds", "updates" }) Execute(c, $"ALTER TABLE {table} RENAME TO v1_{table}");
        Execute(c, Tables);
        var modeOfRun = new Dictionary<string, PromptMode>();
        foreach (var run in Rows(c, "SELECT * FROM v1_runs"))
        {
            var config = JsonNode.Parse((string)run["config_json"]!)!.AsObject();
            var mode = (string?)config["mode"] == "discrete" ? PromptMode.Discrete : PromptMode.Soft;
            modeOfRun[(string)run["run_id"]!] = mode;
            // The strategy moved from the top level into its mode's section.
            if (config["strategy"] is { } strategy)
            {
                config.Remove("strategy");
                string section = Prompt.NameOf(mode);
                if (config[section] is not JsonObject) config[section] = new JsonObject();
                config[section]!["strategy"] = strategy.GetValue<string>();
            }
            Insert(c, "runs", ("run_id", run["run_id"]), ("config_json", config.ToJsonString()), ("state", Lower(run["state"])),
                ("current_round", run["current_round"]), ("created_at", run["created_at"]), ("error", run["error"]));
            if (run["final_prompt"] is byte[] final)
                Insert(c, "run_results", ("run_id", run["run_id"]), ("mode", Word(mode)), ("prompt", Prompt1(final)),
                    ("transfer_json", run["transfer_json"] is "null" ? null : run["transfer_json"]));   // version 1 wrote "null" for a discrete run
        }
        foreach (var client in Rows(c, "SELECT * FROM v1_clients"))
            Insert(c, "clients", ("run_id", client["run_id"]), ("client_id", client["client_id"]),
                ("mode", Word((Mode)Convert.ToInt32(client["mode"]) == Mode.Discrete ? PromptMode.Discrete : PromptMode.Soft)),
                ("example_count", client["example_count"]), ("enrolled_at", client["enrolled_at"]), ("last_seen", client["last_seen"]), ("activity", client["activity"]));
        foreach (var round in Rows(c, "SELECT * FROM v1_rounds"))
        {
            Insert(c, "rounds", ("run_id", round["run_id"]), ("round", round["round"]), ("state", Lower(round["state"])), ("sampled", round["sampled"]),
                ("opened_at", round["opened_at"]), ("deadline", round["deadline"]), ("closed_at", round["closed_at"]));
            Insert(c, "round_prompts", ("run_id", round["run_id"]), ("round", round["round"]), ("mode", Word(modeOfRun[(string)round["run_id"]!])),
                ("prompt_in", Prompt1((byte[])round["prompt_in"]!)), ("prompt_out", round["prompt_out"] is byte[] output ? Prompt1(output) : null),
                ("accuracy", round["accuracy"]), ("notes_json", round["notes_json"]));
        }
        foreach (var update in Rows(c, "SELECT * FROM v1_updates"))
        {
            var m = LocalMetrics.Parser.ParseFrom((byte[])update["metrics"]!);
            var metrics = new LocalWorkMetrics(m.AccuracyBefore, m.AccuracyAfter, m.FinalLoss, m.Steps, m.Queries, m.TokensSent, m.Seconds);
            DpSpend? privacy = null;
            if (update["privacy"] is byte[] spendBytes)
            {
                var p = PrivacySpend.Parser.ParseFrom(spendBytes);
                privacy = new DpSpend(p.ClipNorm, p.NoiseMultiplier, p.SampleRate, p.Steps, p.Delta, p.EpsilonRound, p.EpsilonTotal);
            }
            var prompt = (byte[])update["prompt"]!;
            Insert(c, "updates", ("run_id", update["run_id"]), ("round", update["round"]), ("client_id", update["client_id"]), ("prompt", Prompt1(prompt)),
                ("example_count", update["example_count"]), ("metrics_json", JsonSerializer.Serialize(metrics, Json)),
                ("privacy_json", privacy is null ? null : JsonSerializer.Serialize(privacy, Json)), ("received_at", update["received_at"]),
                ("bytes", prompt.Length));   // version 1 stored the upload's wire bytes, so their length is its size on the wire
        }
        foreach (var table in new[] { "runs", "clients", "rounds", "updates" }) Execute(c, $"DROP TABLE v1_{table}");
    }

    /// <summary>A version-1 prompt (a PromptValue message) in version 2's encoding.</summary>
    static byte[] Prompt1(byte[] message)
    {
        var value = PromptValue.Parser.ParseFrom(message);
        return PromptCodec.Encode(value.KindCase == PromptValue.KindOneofCase.Soft ? PromptMessages.ToSoftPrompt(value) : PromptMessages.ToDiscretePrompt(value));
    }

    static string Word(PromptMode mode) => mode.ToString().ToLowerInvariant();

    static string? Lower(object? word) => ((string?)word)?.ToLowerInvariant();

    static List<Dictionary<string, object?>> Rows(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<Dictionary<string, object?>>();
        while (reader.Read())
            rows.Add(Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, i => reader.IsDBNull(i) ? null : reader.GetValue(i)));
        return rows;
    }

    static void Insert(SqliteConnection connection, string table, params (string Column, object? Value)[] values) =>
        Execute(connection, $"INSERT INTO {table} ({string.Join(", ", values.Select(v => v.Column))}) VALUES ({string.Join(", ", values.Select(v => "$" + v.Column))})",
            values.Select(v => ("$" + v.Column, v.Value)).ToArray());

    static void Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
