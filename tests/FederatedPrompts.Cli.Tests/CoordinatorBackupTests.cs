using FederatedPrompts.Coordinator.Storage;
using Microsoft.Data.Sqlite;

namespace FederatedPrompts.Cli.Tests;

/// <summary>`fedprompt coordinator --backup-to`: a consistent copy of a database a coordinator holds open, its log included.</summary>
public class CoordinatorBackupTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_backup_of_a_database_in_use_holds_what_is_only_in_its_write_ahead_log()
    {
        string db = _dir.Combine("coordinator.db");
        using var store = new CoordinatorStore(db);   // stays open, as a serving coordinator's does
        using (var writer = Open(db, SqliteOpenMode.ReadWrite))
            foreach (var (id, at) in new[] { ("run-a", "2026-01-01T00:00:00Z"), ("run-b", "2026-01-02T00:00:00Z") })
                Execute(writer, $"INSERT INTO runs (run_id, config_json, state, current_round, created_at) VALUES ('{id}', '{{}}', 'Running', 1, '{at}')");
        Assert.True(new FileInfo(db + "-wal").Length > 0);   // the runs are in the log, not yet in the database file

        string copy = _dir.Combine("backup.db");
        var run = Fedprompt.Run("coordinator", "--db", db, "--backup-to", copy);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("2 runs (run-a, run-b)", run.Stdout);
        Assert.False(File.Exists(copy + "-wal"));   // one self-contained file
        using (var restored = Open(copy, SqliteOpenMode.ReadOnly))
        using (var query = restored.CreateCommand())
        {
            query.CommandText = "SELECT group_concat(run_id) FROM runs";
            Assert.Equal("run-a,run-b", query.ExecuteScalar());
        }

        BadInputTests.AssertOneLineError(Fedprompt.Run("coordinator", "--db", db, "--backup-to", copy), "backup.db exists; a backup never overwrites a file");
        BadInputTests.AssertOneLineError(Fedprompt.Run("coordinator", "--db", _dir.Combine("none.db"), "--backup-to", _dir.Combine("b2.db")), "no database");
    }

    static SqliteConnection Open(string path, SqliteOpenMode mode)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
