using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace BeakerHelpers.Core.Stores;

/// <summary>
/// An ext:database or ext:sqla table in a SQLite file (spec §2.1). The file is opened read-only:
/// nothing is ever created. SQLAlchemy stores DATETIME as text 'YYYY-MM-DD HH:MM:SS.ffffff', so
/// cutoffs are compared in that same form.
/// </summary>
public sealed class SqliteSessionStore : ISessionStore
{
    internal const string TimestampFormat = "yyyy-MM-dd HH:mm:ss.ffffff";

    private static readonly string[] TimestampFormats =
    {
        "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-dd",
    };

    private readonly SqliteConnection _connection;
    private readonly string _qualifiedTable;
    private readonly string? _schema;

    private SqliteSessionStore(SqliteConnection connection, string path, string table, string? schema)
    {
        _connection = connection;
        FilePath = path;
        TableName = table;
        _schema = schema;
        _qualifiedTable = (schema == null ? string.Empty : QuoteIdentifier(schema) + ".") + QuoteIdentifier(table);
        Description = $"sqlite '{path}' table {(schema == null ? string.Empty : schema + ".")}{table}";
    }

    public string FilePath { get; }

    public string TableName { get; }

    public string Description { get; }

    /// <summary>
    /// Opens an existing SQLite file and checks that the table has Beaker's columns: read-only unless
    /// <paramref name="writable"/>, and never creating anything either way.
    /// </summary>
    public static SqliteSessionStore Open(string path, string table, string? schema, bool writable = false)
    {
        if (Directory.Exists(path))
        {
            throw new BeakerException("StoreNotFound", BeakerErrorKind.NotFound,
                $"The SQLite database '{path}' is a folder, not a file. Check the sqlite:/// URL.");
        }

        if (!File.Exists(path))
        {
            throw new BeakerException("StoreNotFound", BeakerErrorKind.NotFound,
                $"The SQLite database '{path}' does not exist. Check the sqlite:/// URL (a relative path is taken from the current location).");
        }

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = writable ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 30,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            var store = new SqliteSessionStore(connection, path, table, schema);
            store.CheckTable();
            return store;
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw new BeakerException("StoreOpenFailed", BeakerErrorKind.ConnectionError,
                $"The SQLite database '{path}' cannot be read: {ex.Message}", ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public IEnumerable<StoredSession> ReadSessions(DateTime? accessedSince, CancellationToken cancellationToken)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT namespace, accessed, created, data FROM {_qualifiedTable}" +
            (accessedSince == null ? string.Empty : " WHERE accessed >= $cutoff") +
            " ORDER BY accessed";
        if (accessedSince != null)
        {
            command.Parameters.AddWithValue("$cutoff", accessedSince.Value.ToString(TimestampFormat, CultureInfo.InvariantCulture));
        }

        using var registration = cancellationToken.Register(() => command.Cancel());
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = reader.IsDBNull(0) ? string.Empty : reader.GetString(0);
            var data = reader.IsDBNull(3) ? Array.Empty<byte>() : (byte[])reader.GetValue(3);
            yield return new StoredSession(id, ParseTimestamp(reader, 1), ParseTimestamp(reader, 2), data);
        }
    }

    public long CountAccessedBefore(DateTime cutoff, CancellationToken cancellationToken)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {_qualifiedTable} WHERE accessed < $cutoff";
        command.Parameters.AddWithValue("$cutoff", cutoff.ToString(TimestampFormat, CultureInfo.InvariantCulture));
        using var registration = cancellationToken.Register(() => command.Cancel());
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Walks the table once in rowid order (Beaker's tables have no index on accessed, so a query per batch
    /// that searched the whole table would cost a scan per batch). Each batch finds the rowid of the
    /// batchSize-th old row after the previous batch and deletes the old rows up to it, re-checking the age,
    /// in one IMMEDIATE transaction; the connection's busy timeout waits for the app's write lock instead of failing.
    /// </summary>
    public RemovalResult RemoveAccessedBefore(DateTime cutoff, int batchSize, CancellationToken cancellationToken, Action<long>? progress = null)
    {
        CheckBatchSize(batchSize);
        var cutoffText = cutoff.ToString(TimestampFormat, CultureInfo.InvariantCulture);
        var last = long.MinValue;
        return RunBatches(cancellationToken, progress, transaction =>
        {
            using var bound = Command(transaction,
                $"SELECT max(rowid) FROM (SELECT rowid FROM {_qualifiedTable} WHERE rowid > $last AND accessed < $cutoff ORDER BY rowid LIMIT $limit)");
            bound.Parameters.AddWithValue("$last", last);
            bound.Parameters.AddWithValue("$cutoff", cutoffText);
            bound.Parameters.AddWithValue("$limit", batchSize);
            if (bound.ExecuteScalar() is not long upTo)
            {
                return null;
            }

            using var delete = Command(transaction,
                $"DELETE FROM {_qualifiedTable} WHERE rowid > $last AND rowid <= $upTo AND accessed < $cutoff");
            delete.Parameters.AddWithValue("$last", last);
            delete.Parameters.AddWithValue("$upTo", upTo);
            delete.Parameters.AddWithValue("$cutoff", cutoffText);
            var removed = delete.ExecuteNonQuery();
            last = upTo;
            return removed;
        });
    }

    public RemovalResult RemoveIds(IReadOnlyList<string> ids, int batchSize, CancellationToken cancellationToken, Action<long>? progress = null)
    {
        CheckBatchSize(batchSize);
        var next = 0;
        return RunBatches(cancellationToken, progress, transaction =>
        {
            if (next >= ids.Count)
            {
                return null;
            }

            var batch = ids.Skip(next).Take(batchSize).ToArray();
            next += batch.Length;

            // One JSON parameter instead of one parameter per id: binding thousands of named parameters is quadratic.
            using var delete = Command(transaction,
                $"DELETE FROM {_qualifiedTable} WHERE namespace IN (SELECT value FROM json_each($ids))");
            delete.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(batch));
            return delete.ExecuteNonQuery();
        });
    }

    public void Dispose()
    {
        _connection.Dispose();
    }

    internal static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    private static void CheckBatchSize(int batchSize)
    {
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A batch holds at least one row.");
        }
    }

    private SqliteCommand Command(SqliteTransaction transaction, string text)
    {
        var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        return command;
    }

    /// <summary>
    /// Runs <paramref name="batch"/> in one IMMEDIATE transaction after another until it returns null. A failing
    /// batch rolls back alone; the error says how much the earlier batches removed.
    /// </summary>
    private RemovalResult RunBatches(CancellationToken cancellationToken, Action<long>? progress, Func<SqliteTransaction, int?> batch)
    {
        var started = Stopwatch.StartNew();
        var longest = TimeSpan.Zero;
        long removed = 0;
        var batches = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batchStarted = started.Elapsed;
            try
            {
                using var transaction = _connection.BeginTransaction(deferred: false);
                var count = batch(transaction);
                transaction.Commit();
                if (count is not { } done)
                {
                    break;
                }

                removed += done;
            }
            catch (SqliteException ex)
            {
                throw new BeakerException("RemovalFailed", BeakerErrorKind.ConnectionError,
                    $"Removing sessions from {Description} failed after {removed} session(s) were removed in {batches} batch(es): {ex.Message}. " +
                    "The store is consistent (the failed batch was rolled back); run the command again to finish.", ex);
            }

            batches++;
            var took = started.Elapsed - batchStarted;
            if (took > longest)
            {
                longest = took;
            }

            progress?.Invoke(removed);
        }

        return new RemovalResult(removed, batches, longest, started.Elapsed);
    }

    private static DateTime ParseTimestamp(SqliteDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            return default;
        }

        var text = reader.GetValue(ordinal) as string;
        if (text != null && DateTime.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var value))
        {
            return value;
        }

        return DateTime.TryParse(Convert.ToString(reader.GetValue(ordinal), CultureInfo.InvariantCulture), CultureInfo.InvariantCulture, DateTimeStyles.None, out value)
            ? value
            : default;
    }

    private void CheckTable()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT name FROM pragma_table_info($table" + (_schema == null ? ")" : ", $schema)");
        command.Parameters.AddWithValue("$table", TableName);
        if (_schema != null)
        {
            command.Parameters.AddWithValue("$schema", _schema);
        }

        var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                columns.Add(reader.GetString(0));
            }
        }

        if (columns.Count == 0)
        {
            throw new BeakerException("TableNotFound", BeakerErrorKind.NotFound,
                $"The SQLite database '{FilePath}' has no table '{TableName}'. Set <prefix>.table_name (or -TableName) to the table Beaker writes sessions into.");
        }

        var missing = new[] { "namespace", "accessed", "created", "data" }.Where(c => !columns.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new BeakerException("TableNotBeaker", BeakerErrorKind.InvalidData,
                $"The table '{TableName}' in '{FilePath}' lacks the column(s) {string.Join(", ", missing)} that Beaker's ext:database and ext:sqla tables have. Is it the right table?");
        }
    }
}
