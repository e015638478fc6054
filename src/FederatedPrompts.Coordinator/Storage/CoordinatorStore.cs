using System.Text.Json;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;
using Microsoft.Data.Sqlite;

namespace FederatedPrompts.Coordinator.Storage;

/// <summary>
/// The coordinator's durable state in one SQLite file: runs, enrolled clients, rounds (with the global prompt each
/// started from and produced, per mode), accepted updates, inference queries per client and round, and final results.
/// Every write commits before the caller acknowledges anything, so a killed coordinator restarts from exactly what it
/// confirmed. The format is the coordinator's own, independent of the wire: prompts in <see cref="PromptCodec"/>'s
/// encoding, metrics and privacy spend as JSON, modes and states as words. It is versioned
/// (<see cref="StoreSchema"/>): a database written by an older version is migrated forward when it is opened.
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
            Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);");
            // Whatever was written since the last checkpoint (at most the current round; a run created since, whole) is only in
            // the log, so the database alone cannot say what is missing: the mark says that something may be.
            if (!acceptLostLog && !logPresent && ClosedCleanly() == false)
                throw new InvalidDataException(
                    $"{Path} was not closed cleanly and its write-ahead log {LogPath} is missing: the state written since the last " +
                    "checkpoint is in that log. Put the -wal file back beside the database (always copy both, or use --backup-to), " +
                    "or start with --accept-lost-state to continue from the older state the database holds");
            // Migrated only once the state is known to be whole: a migration of what a lost log left behind would be stored as the truth.
            StoreSchema.Upgrade(_connection);
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

    public string Path { get; }

    /// <summary>Bytes on disk: the database and its write-ahead log.</summary>
    public long SizeOnDisk() => new[] { Path, LogPath }.Sum(file => File.Exists(file) ? new FileInfo(file).Length : 0);

    /// <summary>
    /// Why the database file cannot be opened for writing now (a read-only file system, permissions, a missing file),
    /// or null. A failed write is caught when it happens (<see cref="WriteFailure"/>); this finds the cause before one.
    /// </summary>
    public string? WriteProblem()
    {
        if (WriteFailure is { } failure) return failure.Message;
        try
        {
            using var probe = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{Path} cannot be opened for writing: {e.Message}";
        }
    }

    // ------------------------------------------------------------------ runs

    public RunRecord CreateRun(string runId, RunConfig config, DateTimeOffset now)
    {
        Execute("INSERT INTO runs (run_id, config_json, state, current_round, created_at) VALUES ($id, $config, $state, 0, $now)",
            ("$id", runId), ("$config", config.ToJson()), ("$state", Word(RunState.Created)), ("$now", Time(now)));
        return GetRun(runId)!;
    }

    public RunRecord? GetRun(string runId) =>
        Query("SELECT * FROM runs WHERE run_id = $id", ReadRun, ("$id", runId)).SingleOrDefault();

    /// <summary>The newest run, finished or not: what a restarted coordinator resumes or reports.</summary>
    public RunRecord? LatestRun() => Query("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1", ReadRun).SingleOrDefault();

    public void SetRunState(string runId, RunState state, int currentRound, string? error = null) =>
        Execute("UPDATE runs SET state = $state, current_round = $round, error = $error WHERE run_id = $id",
            ("$id", runId), ("$state", Word(state)), ("$round", currentRound), ("$error", error));

    /// <summary>Stores (or replaces) the published prompt of one mode.</summary>
    public void SetResult(string runId, RunResult result) =>
        Execute("""
            INSERT INTO run_results (run_id, mode, prompt, transfer_json) VALUES ($id, $mode, $prompt, $transfer)
            ON CONFLICT (run_id, mode) DO UPDATE SET prompt = $prompt, transfer_json = $transfer
            """, ("$id", runId), ("$mode", Word(result.Mode)), ("$prompt", PromptCodec.Encode(result.Prompt)), ("$transfer", result.TransferJson));

    /// <summary>The published prompts of a run, soft first; empty until it finishes.</summary>
    public IReadOnlyList<RunResult> Results(string runId) =>
        Query("SELECT mode, prompt, transfer_json FROM run_results WHERE run_id = $id", r =>
                new RunResult(ModeOf(r.GetString(0)), PromptCodec.Decode((byte[])r[1]), r.IsDBNull(2) ? null : r.GetString(2)), ("$id", runId))
            .OrderBy(r => r.Mode).ToList();

    static RunRecord ReadRun(SqliteDataReader r) => new(
        r.GetString(r.GetOrdinal("run_id")),
        RunConfig.FromStored(r.GetString(r.GetOrdinal("config_json"))),
        Enum.Parse<RunState>(r.GetString(r.GetOrdinal("state")), ignoreCase: true),
        r.GetInt32(r.GetOrdinal("current_round")),
        DateTimeOffset.Parse(r.GetString(r.GetOrdinal("created_at"))),
        r.IsDBNull(r.GetOrdinal("error")) ? null : r.GetString(r.GetOrdinal("error")));

    // ------------------------------------------------------------------ clients

    /// <summary>Enrols a client, or refreshes an enrolled one (a restarted client enrols again with the same identity).</summary>
    public ClientRecord UpsertClient(string runId, string clientId, PromptMode mode, int exampleCount, DateTimeOffset now)
    {
        Execute("""
            INSERT INTO clients (run_id, client_id, mode, example_count, enrolled_at, last_seen, activity)
            VALUES ($run, $client, $mode, $count, $now, $now, 'enrolled')
            ON CONFLICT (run_id, client_id) DO UPDATE SET mode = $mode, example_count = $count, last_seen = $now, activity = 'enrolled'
            """, ("$run", runId), ("$client", clientId), ("$mode", Word(mode)), ("$count", exampleCount), ("$now", Time(now)));
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
        r.GetString(r.GetOrdinal("client_id")), ModeOf(r.GetString(r.GetOrdinal("mode"))), r.GetInt32(r.GetOrdinal("example_count")),
        DateTimeOffset.Parse(r.GetString(r.GetOrdinal("enrolled_at"))), DateTimeOffset.Parse(r.GetString(r.GetOrdinal("last_seen"))),
        r.GetString(r.GetOrdinal("activity")));

    // ------------------------------------------------------------------ rounds

    /// <summary>Opens a round from each mode's global prompt and makes it the run's current one, in one transaction.</summary>
    public void OpenRound(string runId, int round, IReadOnlyDictionary<PromptMode, Prompt> promptsIn, DateTimeOffset now)
    {
        lock (_gate)
        {
            InTransaction(() =>
            {
                Execute("INSERT INTO rounds (run_id, round, state, sampled, opened_at) VALUES ($run, $round, $state, '', $now)",
                    ("$run", runId), ("$round", round), ("$state", Word(RoundState.Open)), ("$now", Time(now)));
                foreach (var (mode, prompt) in promptsIn)
                    Execute("INSERT INTO round_prompts (run_id, round, mode, prompt_in) VALUES ($run, $round, $mode, $prompt)",
                        ("$run", runId), ("$round", round), ("$mode", Word(mode)), ("$prompt", PromptCodec.Encode(prompt)));
                Execute("UPDATE runs SET state = $state, current_round = $round WHERE run_id = $run",
                    ("$run", runId), ("$round", round), ("$state", Word(RunState.Running)));
            });
        }
    }

    public void StartCollecting(string runId, int round, IReadOnlyList<string> sampled, DateTimeOffset deadline) =>
        Execute("UPDATE rounds SET state = $state, sampled = $sampled, deadline = $deadline WHERE run_id = $run AND round = $round",
            ("$run", runId), ("$round", round), ("$state", Word(RoundState.Collecting)), ("$sampled", string.Join('\n', sampled)),
            ("$deadline", Time(deadline)));

    public void SetRoundState(string runId, int round, RoundState state) =>
        Execute("UPDATE rounds SET state = $state WHERE run_id = $run AND round = $round",
            ("$run", runId), ("$round", round), ("$state", Word(state)));

    /// <summary>Stores the round's results (one per mode) in one transaction, then moves the log into the database file (a passive checkpoint, which never waits for readers).</summary>
    public void CloseRound(string runId, int round, IReadOnlyList<ModeOutcome> outcomes, DateTimeOffset now)
    {
        lock (_gate)
        {
            InTransaction(() =>
            {
                foreach (var outcome in outcomes)
                    Execute("""
                        UPDATE round_prompts SET prompt_out = $prompt, accuracy = $accuracy, notes_json = $notes
                        WHERE run_id = $run AND round = $round AND mode = $mode
                        """, ("$run", runId), ("$round", round), ("$mode", Word(outcome.Mode)), ("$prompt", PromptCodec.Encode(outcome.PromptOut)),
                        ("$accuracy", outcome.Accuracy), ("$notes", outcome.NotesJson));
                Execute("UPDATE rounds SET state = $state, closed_at = $now WHERE run_id = $run AND round = $round",
                    ("$run", runId), ("$round", round), ("$state", Word(RoundState.Closed)), ("$now", Time(now)));
            });
        }
        // Until a checkpoint, acknowledged state lives only in the -wal file beside the database: after every round the
        // database file alone holds every closed round.
        Execute("PRAGMA wal_checkpoint(PASSIVE)");
    }

    public RoundRecord? GetRound(string runId, int round) => ReadRounds("AND round = $round", ("$run", runId), ("$round", round)).SingleOrDefault();

    public IReadOnlyList<RoundRecord> Rounds(string runId) => ReadRounds("", ("$run", runId));

    List<RoundRecord> ReadRounds(string filter, params (string Name, object? Value)[] parameters)
    {
        var prompts = Query($"SELECT * FROM round_prompts WHERE run_id = $run {filter}", r => (
            Round: r.GetInt32(r.GetOrdinal("round")), Mode: ModeOf(r.GetString(r.GetOrdinal("mode"))),
            Part: new ModeRound(
                PromptCodec.Decode((byte[])r["prompt_in"]),
                r.IsDBNull(r.GetOrdinal("prompt_out")) ? null : PromptCodec.Decode((byte[])r["prompt_out"]),
                r.IsDBNull(r.GetOrdinal("accuracy")) ? null : r.GetDouble(r.GetOrdinal("accuracy")),
                r.IsDBNull(r.GetOrdinal("notes_json")) ? null : r.GetString(r.GetOrdinal("notes_json")))), parameters).ToLookup(p => p.Round);
        return Query($"SELECT * FROM rounds WHERE run_id = $run {filter} ORDER BY round", r =>
        {
            int round = r.GetInt32(r.GetOrdinal("round"));
            string sampled = r.GetString(r.GetOrdinal("sampled"));
            DateTimeOffset? OptionalTime(string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : DateTimeOffset.Parse(r.GetString(r.GetOrdinal(column)));
            return new RoundRecord(
                round, Enum.Parse<RoundState>(r.GetString(r.GetOrdinal("state")), ignoreCase: true),
                sampled.Length == 0 ? [] : sampled.Split('\n'),
                DateTimeOffset.Parse(r.GetString(r.GetOrdinal("opened_at"))), OptionalTime("deadline"), OptionalTime("closed_at"),
                prompts[round].OrderBy(p => p.Mode).ToDictionary(p => p.Mode, p => p.Part));
        }, parameters);
    }

    // ------------------------------------------------------------------ updates

    /// <summary>Stores an accepted update; false (and nothing changed) when this client already has one in this round.</summary>
    public bool TryAddUpdate(string runId, UpdateRecord update) =>
        Execute("""
            INSERT INTO updates (run_id, round, client_id, prompt, example_count, metrics_json, privacy_json, received_at, bytes)
            VALUES ($run, $round, $client, $prompt, $count, $metrics, $privacy, $now, $bytes) ON CONFLICT DO NOTHING
            """, ("$run", runId), ("$round", update.Round), ("$client", update.ClientId), ("$prompt", PromptCodec.Encode(update.Prompt)),
            ("$count", update.ExampleCount), ("$metrics", JsonSerializer.Serialize(update.Metrics, StoreSchema.Json)),
            ("$privacy", update.Privacy is null ? null : JsonSerializer.Serialize(update.Privacy, StoreSchema.Json)),
            ("$now", Time(update.ReceivedAt)), ("$bytes", update.Bytes)) == 1;

    public IReadOnlyList<UpdateRecord> Updates(string runId, int round) =>
        Query("SELECT * FROM updates WHERE run_id = $run AND round = $round ORDER BY client_id", ReadUpdate, ("$run", runId), ("$round", round));

    public IReadOnlyList<UpdateRecord> AllUpdates(string runId) =>
        Query("SELECT * FROM updates WHERE run_id = $run ORDER BY round, client_id", ReadUpdate, ("$run", runId));

    /// <summary>Per round and mode: the updates accepted, counted without reading a prompt.</summary>
    public IReadOnlyList<RoundUploads> UploadsPerRound(string runId) =>
        Query("""
            SELECT u.round, c.mode, COUNT(*) FROM updates u JOIN clients c ON c.run_id = u.run_id AND c.client_id = u.client_id
            WHERE u.run_id = $run GROUP BY u.round, c.mode ORDER BY u.round, c.mode
            """, r => new RoundUploads(r.GetInt32(0), ModeOf(r.GetString(1)), r.GetInt32(2)), ("$run", runId));

    /// <summary>Per client with an accepted update: how many, and the privacy spend its last update reported.</summary>
    public IReadOnlyList<ClientUploads> UploadsPerClient(string runId) =>
        Query("""
            SELECT u.client_id, COUNT(*),
                   (SELECT l.privacy_json FROM updates l WHERE l.run_id = u.run_id AND l.client_id = u.client_id ORDER BY l.round DESC LIMIT 1)
            FROM updates u WHERE u.run_id = $run GROUP BY u.client_id ORDER BY u.client_id
            """, r => new ClientUploads(r.GetString(0), r.GetInt32(1),
                r.IsDBNull(2) ? null : JsonSerializer.Deserialize<DpSpend>(r.GetString(2), StoreSchema.Json)), ("$run", runId));

    static UpdateRecord ReadUpdate(SqliteDataReader r) => new(
        r.GetString(r.GetOrdinal("client_id")), r.GetInt32(r.GetOrdinal("round")), PromptCodec.Decode((byte[])r["prompt"]),
        r.GetInt32(r.GetOrdinal("example_count")), JsonSerializer.Deserialize<LocalWorkMetrics>(r.GetString(r.GetOrdinal("metrics_json")), StoreSchema.Json)!,
        r.IsDBNull(r.GetOrdinal("privacy_json")) ? null : JsonSerializer.Deserialize<DpSpend>(r.GetString(r.GetOrdinal("privacy_json")), StoreSchema.Json),
        DateTimeOffset.Parse(r.GetString(r.GetOrdinal("received_at"))), r.GetInt64(r.GetOrdinal("bytes")));

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

    /// <summary>States and modes are stored as lowercase words ("collecting", "soft").</summary>
    static string Word<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    static PromptMode ModeOf(string word) => Enum.Parse<PromptMode>(word, ignoreCase: true);

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
