using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Protocol.V1;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace FederatedPrompts.Coordinator.Storage;

public enum RunState { Created, Running, Transferring, Finished, Failed }

public enum RoundState { Open, Collecting, Aggregating, Closed }

public sealed record RunRecord(string RunId, RunConfig Config, RunState State, int CurrentRound, DateTimeOffset CreatedAt, string? Error);

public sealed record ClientRecord(string ClientId, Mode Mode, int ExampleCount, DateTimeOffset EnrolledAt, DateTimeOffset LastSeen, string Activity);

public sealed record RoundRecord(
    int Round, RoundState State, IReadOnlyList<string> Sampled, DateTimeOffset OpenedAt, DateTimeOffset? Deadline, DateTimeOffset? ClosedAt,
    PromptValue PromptIn, PromptValue? PromptOut, double? Accuracy, string? NotesJson);

public sealed record UpdateRecord(string ClientId, int Round, PromptValue Prompt, int ExampleCount, LocalMetrics Metrics, PrivacySpend? Privacy,
    DateTimeOffset ReceivedAt, long Bytes);

/// <summary>
/// The coordinator's durable state in one SQLite file: runs, enrolled clients, rounds (with the global prompt each
/// started from and produced), accepted updates, inference queries per client and round, and final results. Every
/// write commits before the caller acknowledges anything, so a killed coordinator restarts from exactly what it
/// confirmed. Prompts, metrics and privacy spend are stored as their protobuf bytes, the form they were accepted in.
/// One connection, used under a lock: the round engine serialises its decisions anyway.
/// </summary>
public sealed class CoordinatorStore : IDisposable
{
    readonly SqliteConnection _connection;
    readonly Lock _gate = new();

    /// <param name="acceptLostLog">Open a database that was not closed cleanly and has lost its write-ahead log anyway, continuing from the older state it holds.</param>
    public CoordinatorStore(string path, bool acceptLostLog = false)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        bool logPresent = File.Exists(LogPath);   // before opening, which makes one
        if (logPresent && !acceptLostLog && WriteAheadLog.LostCommits(LogPath) is > 0 and var lost)
            throw new InvalidDataException(
                $"{LogPath} is damaged: {lost} committed transactions lie beyond a frame that fails its checksum, and SQLite would drop " +
                "them without a word. Restore the database and its log from a backup, or start with --accept-lost-state to continue without them");
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false }.ToString());
        try
        {
            _connection.Open();
            CreateSchema();
            // Whatever was written since the last checkpoint (at most the current round; a run created since, whole) is only in
            // the log, so the database alone cannot say what is missing: the mark says that something may be.
            if (!acceptLostLog && !logPresent && ClosedCleanly() == false)
                throw new InvalidDataException(
                    $"{Path} was not closed cleanly and its write-ahead log {LogPath} is missing: the state written since the last " +
                    "checkpoint is in that log. Put the -wal file back beside the database (always copy both, or use --backup-to), " +
                    "or start with --accept-lost-state to continue from the older state the database holds");
            // From here until Dispose the database file itself says it is in use (the checkpoint moves the mark out of the log).
            SetClosedCleanly(false);
            Execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        catch (Exception e) when (e is SqliteException || e.InnerException is SqliteException)
        {
            _connection.Dispose();
            throw new InvalidDataException($"{Path} is not a usable coordinator database: {(e.InnerException ?? e).Message}", e);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    string LogPath => Path + "-wal";

    /// <summary>
    /// Whether the coordinator that last had the database closed it (null: no coordinator has marked it yet). A crashed one
    /// leaves false, and its newest state in the -wal file, which SQLite replays on the next open.
    /// </summary>
    bool? ClosedCleanly() =>
        Query("SELECT value FROM meta WHERE key = 'closed_cleanly'", r => r.GetString(0)).SingleOrDefault() is { } value ? value == "1" : null;

    void SetClosedCleanly(bool closed) =>
        Execute("INSERT INTO meta (key, value) VALUES ('closed_cleanly', $value) ON CONFLICT (key) DO UPDATE SET value = $value", ("$value", closed ? "1" : "0"));

    void CreateSchema()
    {
        Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS runs (
                run_id TEXT PRIMARY KEY, config_json TEXT NOT NULL, state TEXT NOT NULL, current_round INTEGER NOT NULL,
                created_at TEXT NOT NULL, error TEXT, final_prompt BLOB, transfer_json TEXT);
            CREATE TABLE IF NOT EXISTS clients (
                run_id TEXT NOT NULL, client_id TEXT NOT NULL, mode INTEGER NOT NULL, example_count INTEGER NOT NULL,
                enrolled_at TEXT NOT NULL, last_seen TEXT NOT NULL, activity TEXT NOT NULL, PRIMARY KEY (run_id, client_id));
            CREATE TABLE IF NOT EXISTS rounds (
                run_id TEXT NOT NULL, round INTEGER NOT NULL, state TEXT NOT NULL, sampled TEXT NOT NULL, opened_at TEXT NOT NULL,
                deadline TEXT, closed_at TEXT, prompt_in BLOB NOT NULL, prompt_out BLOB, accuracy REAL, notes_json TEXT,
                PRIMARY KEY (run_id, round));
            CREATE TABLE IF NOT EXISTS updates (
                run_id TEXT NOT NULL, round INTEGER NOT NULL, client_id TEXT NOT NULL, prompt BLOB NOT NULL, example_count INTEGER NOT NULL,
                metrics BLOB NOT NULL, privacy BLOB, received_at TEXT NOT NULL, PRIMARY KEY (run_id, round, client_id));
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS queries (
                run_id TEXT NOT NULL, round INTEGER NOT NULL, client_id TEXT NOT NULL, used INTEGER NOT NULL,
                PRIMARY KEY (run_id, round, client_id));
            """);
    }

    public string Path { get; }

    // ------------------------------------------------------------------ runs

    public RunRecord CreateRun(string runId, RunConfig config, DateTimeOffset now)
    {
        Execute("INSERT INTO runs (run_id, config_json, state, current_round, created_at) VALUES ($id, $config, $state, 0, $now)",
            ("$id", runId), ("$config", config.ToJson()), ("$state", RunState.Created.ToString()), ("$now", Time(now)));
        return GetRun(runId)!;
    }

    public RunRecord? GetRun(string runId) =>
        Query("SELECT * FROM runs WHERE run_id = $id", ReadRun, ("$id", runId)).SingleOrDefault();

    /// <summary>The newest run, finished or not: what a restarted coordinator resumes or reports.</summary>
    public RunRecord? LatestRun() => Query("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1", ReadRun).SingleOrDefault();

    public void SetRunState(string runId, RunState state, int currentRound, string? error = null) =>
        Execute("UPDATE runs SET state = $state, current_round = $round, error = $error WHERE run_id = $id",
            ("$id", runId), ("$state", state.ToString()), ("$round", currentRound), ("$error", error));

    public void SetFinalResult(string runId, PromptValue finalPrompt, string transferJson) =>
        Execute("UPDATE runs SET final_prompt = $prompt, transfer_json = $transfer WHERE run_id = $id",
            ("$id", runId), ("$prompt", finalPrompt.ToByteArray()), ("$transfer", transferJson));

    public (PromptValue? Prompt, string? TransferJson) FinalResult(string runId) =>
        Query("SELECT final_prompt, transfer_json FROM runs WHERE run_id = $id",
            r => (r.IsDBNull(0) ? null : PromptValue.Parser.ParseFrom((byte[])r[0]), r.IsDBNull(1) ? null : r.GetString(1)), ("$id", runId)).Single();

    static RunRecord ReadRun(SqliteDataReader r) => new(
        r.GetString(r.GetOrdinal("run_id")),
        RunConfig.FromStored(r.GetString(r.GetOrdinal("config_json"))),
        Enum.Parse<RunState>(r.GetString(r.GetOrdinal("state"))),
        r.GetInt32(r.GetOrdinal("current_round")),
        DateTimeOffset.Parse(r.GetString(r.GetOrdinal("created_at"))),
        r.IsDBNull(r.GetOrdinal("error")) ? null : r.GetString(r.GetOrdinal("error")));

    // ------------------------------------------------------------------ clients

    /// <summary>Enrols a client, or refreshes an enrolled one (a restarted client enrols again with the same identity).</summary>
    public ClientRecord UpsertClient(string runId, string clientId, Mode mode, int exampleCount, DateTimeOffset now)
    {
        Execute("""
            INSERT INTO clients (run_id, client_id, mode, example_count, enrolled_at, last_seen, activity)
            VALUES ($run, $client, $mode, $count, $now, $now, 'enrolled')
            ON CONFLICT (run_id, client_id) DO UPDATE SET mode = $mode, example_count = $count, last_seen = $now, activity = 'enrolled'
            """, ("$run", runId), ("$client", clientId), ("$mode", (int)mode), ("$count", exampleCount), ("$now", Time(now)));
        return GetClient(runId, clientId)!;
    }

    public ClientRecord? GetClient(string runId, string clientId) =>
        Query("SELECT * FROM clients WHERE run_id = $run AND client_id = $client", ReadClient, ("$run", runId), ("$client", clientId)).SingleOrDefault();

    public IReadOnlyList<ClientRecord> Clients(string runId) =>
        Query("SELECT * FROM clients WHERE run_id = $run ORDER BY client_id", ReadClient, ("$run", runId));

    /// <summary>Records when clients were last seen and doing what, in one transaction (one synchronous commit).</summary>
    public void Touch(string runId, IReadOnlyList<(string ClientId, DateTimeOffset At, string Activity)> seen)
    {
        lock (_gate)
        {
            InTransaction(() =>
            {
                foreach (var (clientId, at, activity) in seen)
                    Execute("UPDATE clients SET last_seen = $now, activity = $activity WHERE run_id = $run AND client_id = $client",
                        ("$run", runId), ("$client", clientId), ("$now", Time(at)), ("$activity", activity));
            });
        }
    }

    static ClientRecord ReadClient(SqliteDataReader r) => new(
        r.GetString(r.GetOrdinal("client_id")), (Mode)r.GetInt32(r.GetOrdinal("mode")), r.GetInt32(r.GetOrdinal("example_count")),
        DateTimeOffset.Parse(r.GetString(r.GetOrdinal("enrolled_at"))), DateTimeOffset.Parse(r.GetString(r.GetOrdinal("last_seen"))),
        r.GetString(r.GetOrdinal("activity")));

    // ------------------------------------------------------------------ rounds

    public void OpenRound(string runId, int round, PromptValue promptIn, DateTimeOffset now)
    {
        lock (_gate)
        {
            InTransaction(() =>
            {
                Execute("INSERT INTO rounds (run_id, round, state, sampled, opened_at, prompt_in) VALUES ($run, $round, $state, '', $now, $prompt)",
                    ("$run", runId), ("$round", round), ("$state", RoundState.Open.ToString()), ("$now", Time(now)), ("$prompt", promptIn.ToByteArray()));
                Execute("UPDATE runs SET state = $state, current_round = $round WHERE run_id = $run",
                    ("$run", runId), ("$round", round), ("$state", RunState.Running.ToString()));
            });
        }
    }

    public void StartCollecting(string runId, int round, IReadOnlyList<string> sampled, DateTimeOffset deadline) =>
        Execute("UPDATE rounds SET state = $state, sampled = $sampled, deadline = $deadline WHERE run_id = $run AND round = $round",
            ("$run", runId), ("$round", round), ("$state", RoundState.Collecting.ToString()), ("$sampled", string.Join('\n', sampled)),
            ("$deadline", Time(deadline)));

    public void SetRoundState(string runId, int round, RoundState state) =>
        Execute("UPDATE rounds SET state = $state WHERE run_id = $run AND round = $round",
            ("$run", runId), ("$round", round), ("$state", state.ToString()));

    /// <summary>Stores the round's result, then moves the log into the database file (a passive checkpoint, which never waits for readers).</summary>
    public void CloseRound(string runId, int round, PromptValue promptOut, double accuracy, string notesJson, DateTimeOffset now)
    {
        Execute("""
            UPDATE rounds SET state = $state, prompt_out = $prompt, accuracy = $accuracy, notes_json = $notes, closed_at = $now
            WHERE run_id = $run AND round = $round
            """, ("$run", runId), ("$round", round), ("$state", RoundState.Closed.ToString()), ("$prompt", promptOut.ToByteArray()),
            ("$accuracy", accuracy), ("$notes", notesJson), ("$now", Time(now)));
        // Until a checkpoint, acknowledged state lives only in the -wal file beside the database: after every round the
        // database file alone holds every closed round.
        Execute("PRAGMA wal_checkpoint(PASSIVE)");
    }

    public RoundRecord? GetRound(string runId, int round) =>
        Query("SELECT * FROM rounds WHERE run_id = $run AND round = $round", ReadRound, ("$run", runId), ("$round", round)).SingleOrDefault();

    public IReadOnlyList<RoundRecord> Rounds(string runId) =>
        Query("SELECT * FROM rounds WHERE run_id = $run ORDER BY round", ReadRound, ("$run", runId));

    static RoundRecord ReadRound(SqliteDataReader r)
    {
        string sampled = r.GetString(r.GetOrdinal("sampled"));
        DateTimeOffset? OptionalTime(string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : DateTimeOffset.Parse(r.GetString(r.GetOrdinal(column)));
        return new RoundRecord(
            r.GetInt32(r.GetOrdinal("round")), Enum.Parse<RoundState>(r.GetString(r.GetOrdinal("state"))),
            sampled.Length == 0 ? [] : sampled.Split('\n'),
            DateTimeOffset.Parse(r.GetString(r.GetOrdinal("opened_at"))), OptionalTime("deadline"), OptionalTime("closed_at"),
            PromptValue.Parser.ParseFrom((byte[])r["prompt_in"]),
            r.IsDBNull(r.GetOrdinal("prompt_out")) ? null : PromptValue.Parser.ParseFrom((byte[])r["prompt_out"]),
            r.IsDBNull(r.GetOrdinal("accuracy")) ? null : r.GetDouble(r.GetOrdinal("accuracy")),
            r.IsDBNull(r.GetOrdinal("notes_json")) ? null : r.GetString(r.GetOrdinal("notes_json")));
    }

    // ------------------------------------------------------------------ updates

    /// <summary>Stores an accepted update; false (and nothing changed) when this client already has one in this round.</summary>
    public bool TryAddUpdate(string runId, UpdateRecord update) =>
        Execute("""
            INSERT INTO updates (run_id, round, client_id, prompt, example_count, metrics, privacy, received_at)
            VALUES ($run, $round, $client, $prompt, $count, $metrics, $privacy, $now) ON CONFLICT DO NOTHING
            """, ("$run", runId), ("$round", update.Round), ("$client", update.ClientId), ("$prompt", update.Prompt.ToByteArray()),
            ("$count", update.ExampleCount), ("$metrics", update.Metrics.ToByteArray()), ("$privacy", update.Privacy?.ToByteArray()),
            ("$now", Time(update.ReceivedAt))) == 1;

    public IReadOnlyList<UpdateRecord> Updates(string runId, int round) =>
        Query("SELECT * FROM updates WHERE run_id = $run AND round = $round ORDER BY client_id", ReadUpdate, ("$run", runId), ("$round", round));

    public IReadOnlyList<UpdateRecord> AllUpdates(string runId) =>
        Query("SELECT * FROM updates WHERE run_id = $run ORDER BY round, client_id", ReadUpdate, ("$run", runId));

    static UpdateRecord ReadUpdate(SqliteDataReader r)
    {
        var prompt = (byte[])r["prompt"];
        return new UpdateRecord(
            r.GetString(r.GetOrdinal("client_id")), r.GetInt32(r.GetOrdinal("round")), PromptValue.Parser.ParseFrom(prompt),
            r.GetInt32(r.GetOrdinal("example_count")), LocalMetrics.Parser.ParseFrom((byte[])r["metrics"]),
            r.IsDBNull(r.GetOrdinal("privacy")) ? null : PrivacySpend.Parser.ParseFrom((byte[])r["privacy"]),
            DateTimeOffset.Parse(r.GetString(r.GetOrdinal("received_at"))), prompt.Length);
    }

    // ------------------------------------------------------------------ inference metering

    public long QueriesUsed(string runId, int round, string clientId) =>
        Query("SELECT used FROM queries WHERE run_id = $run AND round = $round AND client_id = $client", r => r.GetInt64(0),
            ("$run", runId), ("$round", round), ("$client", clientId)).SingleOrDefault();

    public void AddQueries(string runId, int round, string clientId, long count) =>
        Execute("""
            INSERT INTO queries (run_id, round, client_id, used) VALUES ($run, $round, $client, $count)
            ON CONFLICT (run_id, round, client_id) DO UPDATE SET used = used + $count
            """, ("$run", runId), ("$round", round), ("$client", clientId), ("$count", count));

    public IReadOnlyDictionary<string, long> QueriesPerClient(string runId) =>
        Query("SELECT client_id, SUM(used) FROM queries WHERE run_id = $run GROUP BY client_id", r => (r.GetString(0), r.GetInt64(1)), ("$run", runId))
            .ToDictionary(p => p.Item1, p => p.Item2);

    // ------------------------------------------------------------------ plumbing

    static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("O");

    int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            using var command = Command(sql, parameters);
            try
            {
                return command.ExecuteNonQuery();
            }
            catch (SqliteException e)
            {
                throw Failed(e);
            }
        }
    }

    /// <summary>Runs <paramref name="body"/>'s writes as one transaction (one synchronous commit); the caller holds the gate.</summary>
    void InTransaction(Action body)
    {
        using var transaction = _connection.BeginTransaction();
        body();
        try
        {
            transaction.Commit();
        }
        catch (SqliteException e)
        {
            throw Failed(e);
        }
    }

    /// <summary>
    /// The first write that failed (disk full, an I/O error, a file made read-only). The coordinator can no longer keep
    /// its promise that what it acknowledged is on disk, so its host stops and exits non-zero (<see cref="WriteFailed"/>).
    /// </summary>
    public Exception? WriteFailure { get; private set; }

    /// <summary>Raised once, on the first failed write.</summary>
    public event Action<Exception>? WriteFailed;

    IOException Failed(SqliteException e)
    {
        var failure = new IOException($"{Path} could not be written: {e.Message}", e);
        if (WriteFailure is null)
        {
            WriteFailure = failure;
            WriteFailed?.Invoke(failure);
        }
        return failure;
    }

    List<T> Query<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            using var command = Command(sql, parameters);
            using var reader = command.ExecuteReader();
            var rows = new List<T>();
            while (reader.Read()) rows.Add(read(reader));
            return rows;
        }
    }

    SqliteCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    /// <summary>
    /// Copies the database at <paramref name="database"/> into a new file <paramref name="output"/> as one consistent
    /// snapshot (SQLite's VACUUM INTO through a read-only connection), also while a coordinator is writing it: the copy
    /// holds everything committed when it started, the write-ahead log's part included. Returns the runs in the copy.
    /// </summary>
    public static IReadOnlyList<string> Backup(string database, string output)
    {
        database = System.IO.Path.GetFullPath(database);
        output = System.IO.Path.GetFullPath(output);
        if (!File.Exists(database)) throw new FileNotFoundException($"no database {database}", database);
        if (File.Exists(output)) throw new ArgumentException($"{output} exists; a backup never overwrites a file");
        using (var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
        {
            source.Open();
            using var vacuum = source.CreateCommand();
            vacuum.CommandText = "VACUUM INTO $output";
            vacuum.Parameters.AddWithValue("$output", output);
            try { vacuum.ExecuteNonQuery(); }
            catch (SqliteException e) { throw new InvalidDataException($"{database} could not be copied: {e.Message}", e); }
        }
        using var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = output, Pooling = false }.ToString());
        copy.Open();
        using var check = copy.CreateCommand();
        // The copy is complete by construction: it needs no log, whatever the source's mark said.
        check.CommandText = "UPDATE meta SET value = '1' WHERE key = 'closed_cleanly'";
        check.ExecuteNonQuery();
        check.CommandText = "PRAGMA integrity_check";
        if (check.ExecuteScalar() as string != "ok") throw new InvalidDataException($"the copy {output} fails SQLite's integrity check");
        check.CommandText = "SELECT run_id FROM runs ORDER BY created_at";
        using var reader = check.ExecuteReader();
        var runs = new List<string>();
        while (reader.Read()) runs.Add(reader.GetString(0));
        return runs;
    }

    /// <summary>Marks the database closed cleanly and closes it (SQLite then checkpoints the log into it and removes the -wal file).</summary>
    public void Dispose()
    {
        try
        {
            if (WriteFailure is null) SetClosedCleanly(true);
        }
        catch (IOException)
        {
            // The disk filled up at the last moment: the mark stays "in use" and the log stays beside the database.
        }
        _connection.Dispose();
    }
}
