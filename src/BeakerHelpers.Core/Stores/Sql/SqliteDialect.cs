using System.Diagnostics;
using System.Data.Common;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace BeakerHelpers.Core.Stores.Sql;

/// <summary>
/// SQLite's side of an ext:database or ext:sqla table in a file (docs/storage.md#tables). Nothing is ever created: the file is opened
/// read-only unless for removal. SQLAlchemy stores DATETIME as text 'YYYY-MM-DD HH:MM:SS.ffffff', so cutoffs
/// are compared in that same form.
/// </summary>
public sealed class SqliteDialect : SqlDialect
{
    internal const string TimestampFormat = "yyyy-MM-dd HH:mm:ss.ffffff";

    /// <summary>Seconds a batch waits for the write lock the app holds, and a read for a lock another process holds.</summary>
    private const int BusyTimeoutSeconds = 30;

    /// <summary>One step of a removal batch's wait for a lock (SQLite's busy timeout on that connection).</summary>
    private const int LockStepMilliseconds = 1000;

    /// <summary>
    /// The page cache of a removal connection (SQLite's default is 2 MiB). A batch changes the pages of its rows and
    /// most of the namespace index; when they do not fit, SQLite spills them mid-transaction, syncing the journal each time.
    /// </summary>
    private const int RemovalCacheKiB = 64 * 1024;

    private static readonly string[] TimestampFormats =
    {
        "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-dd",
    };

    private SqliteDialect(SqliteConnection connection, string path, string table, string? schema)
        : base(connection, $"sqlite '{path}' table {(schema == null ? string.Empty : schema + ".")}{table}",
            (schema == null ? string.Empty : QuoteIdentifier(schema) + ".") + QuoteIdentifier(table))
    {
        FilePath = path;
        TableName = table;
        SchemaName = schema;
    }

    public string FilePath { get; }

    private SqliteConnection Sqlite => (SqliteConnection)Connection;

    public string TableName { get; }

    public string? SchemaName { get; }

    internal override string KeyColumn => "rowid";

    internal override int ReadCommandTimeout => BusyTimeoutSeconds;

    internal override int BatchCommandTimeout => BusyTimeoutSeconds;

    /// <summary>Whether the app committed anything during the last pause between batches; assumed at first.</summary>
    private bool _appWrites = true;

    /// <summary>A batch holds the write lock of the whole database: short batches and a real pause while the app writes.</summary>
    internal override BatchPacing Pacing => _appWrites ? BatchPacing.SharedDatabaseLock : BatchPacing.QuietDatabaseLock;

    /// <summary>Pauses, and looks whether the app wrote meanwhile: SQLite's data_version changes when another connection commits.</summary>
    internal override void StepAside(TimeSpan lastBatch, CancellationToken cancellationToken)
    {
        var before = Scalar("PRAGMA data_version");
        base.StepAside(lastBatch, cancellationToken);
        _appWrites = !Equals(before, Scalar("PRAGMA data_version"));
    }

    /// <summary>
    /// Opens an existing SQLite file and checks that the table has Beaker's columns: read-only unless
    /// <paramref name="writable"/>, and never creating anything either way.
    /// </summary>
    public static SqlSessionStore Open(string path, string table, string? schema, bool writable = false,
        Action<string>? lockWaits = null, TimeSpan? lockWaitLimit = null, CancellationToken cancellationToken = default)
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

        var mode = writable ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadOnly;
        var immutable = false;
        if (!writable && IsWalDatabase(path) && !File.Exists(path + "-wal"))
        {
            // Nobody has the WAL database open (the last connection removes its -wal file). A read-only connection would
            // leave -wal and -shm files behind, or fail in a folder it may not write; docs/sqlite.md#wal.
            mode = SqliteOpenMode.ReadWrite;
        }

        while (true)
        {
            var connection = Connect(path, mode, immutable);
            try
            {
                connection.Open();
                using (var threads = connection.CreateCommand())
                {
                    // The listing's sort of the rowids by accessed (ListingCommand) is the wait for its first session,
                    // during which the pipeline's thread has nothing to do: SQLite may sort on helper threads
                    // (1 M rows: 0.64 s -> 0.42 s; docs/listing-order.md).
                    threads.CommandText = $"PRAGMA threads = {SortThreads}";
                    threads.ExecuteNonQuery();
                }

                if (writable)
                {
                    // SQLite's own busy handler retries within milliseconds of the app's commit; without it the driver
                    // sleeps 150 ms between tries, and a batch that met a save would lose that much each time.
                    using var pragmas = connection.CreateCommand();
                    pragmas.CommandText = $"PRAGMA cache_size = -{RemovalCacheKiB}; PRAGMA busy_timeout = {LockStepMilliseconds}";
                    pragmas.ExecuteNonQuery();

                    // A batch's waits for the app's locks go in steps of a second (WaitingForLock), between which Ctrl+C is seen.
                    connection.DefaultTimeout = 1;
                }

                var dialect = new SqliteDialect(connection, path, table, schema)
                {
                    LockWaits = lockWaits,
                    LockWaitLimit = lockWaitLimit ?? TimeSpan.FromSeconds(BusyTimeoutSeconds),
                };
                dialect.WaitUntilReadable(cancellationToken);
                dialect.CheckTable();
                dialect._textIsUtf8 = dialect.Scalar("PRAGMA encoding") is "UTF-8";
                return new SqlSessionStore(dialect);
            }
            catch (SqliteException ex) when (!writable && !immutable && ex.SqliteErrorCode is 8 or 14 && IsWalDatabase(path) && !File.Exists(path + "-wal"))
            {
                // The folder or the file is not writable for this user, and nobody writes the database: read it as it is.
                connection.Dispose();
                (mode, immutable) = (SqliteOpenMode.ReadOnly, true);
            }
            catch (SqliteException ex) when (!writable && ex.SqliteErrorCode is 8 or 14 && IsWalDatabase(path))
            {
                connection.Dispose();
                throw new BeakerException("StoreOpenFailed", BeakerErrorKind.PermissionDenied,
                    $"The SQLite database '{path}' is in WAL mode and in use (its '-wal' file exists), and reading it needs its '-shm' file " +
                    "or, when that is missing, its folder to be writable for this user (SQLite shares its index of the log there). " +
                    $"Run as the app's user, or give this user write access to '{path}-shm'.", ex);
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == SqliteBusy)
            {
                connection.Dispose();
                throw new BeakerException("StoreLocked", BeakerErrorKind.ConnectionError,
                    $"Nothing was read from the SQLite database '{path}': another process held it locked for {BusyTimeoutSeconds} s (an exclusive transaction, " +
                    "a migration or a backup holding the file, or a stuck process). Run the command again once it is released (fuser or lsof shows who holds it).", ex);
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
    }

    private static SqliteConnection Connect(string path, SqliteOpenMode mode, bool immutable)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = immutable ? "file:" + Uri.EscapeDataString(path).Replace("%2F", "/") + "?immutable=1" : path,
            Mode = mode,
            Pooling = false,
            DefaultTimeout = BusyTimeoutSeconds,
        };
        return new SqliteConnection(builder.ToString());
    }

    /// <summary>Whether the file's header says WAL (its bytes 18 and 19, the read and write versions, are 2).</summary>
    private static bool IsWalDatabase(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Span<byte> header = stackalloc byte[20];
            return file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) == header.Length && header[18] == 2 && header[19] == 2;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Helper threads SQLite's sorter may use: none on one processor, else up to one for each, at most 4.</summary>
    private static int SortThreads => Environment.ProcessorCount <= 1 ? 0 : Math.Min(Environment.ProcessorCount, 4);

    /// <summary>The temporary table (in the connection's own temp database) that holds a listing's order.</summary>
    private const string ListingOrder = "beakerhelpers_listing_order";

    /// <summary>
    /// With no index on accessed, ORDER BY accessed makes SQLite sort whole rows, payloads and all. The listing sorts only
    /// the rowids by accessed, into a temporary table numbered in that order, then reads the rows by rowid in that
    /// numbering (1 M sessions: the first row after 0.4 s instead of 0.8 s, all of them in 1.1 s instead of 2.0 s).
    /// Both statements run in the listing's read transaction, so they see the same rows.
    /// </summary>
    internal override DbCommand ListingCommand(DbTransaction transaction, object? cutoff)
    {
        using (var order = Command(transaction,
            $"DROP TABLE IF EXISTS temp.{ListingOrder}; CREATE TEMP TABLE {ListingOrder} (seq INTEGER PRIMARY KEY, r INTEGER NOT NULL); " +
            $"INSERT INTO temp.{ListingOrder} (r) SELECT rowid FROM {QualifiedTable}" +
            (cutoff == null ? string.Empty : " WHERE accessed >= @cutoff") + " ORDER BY accessed"))
        {
            order.CommandTimeout = ReadCommandTimeout;
            if (cutoff != null)
            {
                Add(order, "@cutoff", cutoff);
            }

            order.ExecuteNonQuery();
        }

        var command = Command(transaction,
            $"SELECT t.namespace, t.accessed, t.created, t.data FROM temp.{ListingOrder} AS o CROSS JOIN {QualifiedTable} AS t ON t.rowid = o.r ORDER BY o.seq");
        command.CommandTimeout = ReadCommandTimeout;
        return command;
    }

    internal static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    internal override object CutoffValue(DateTime cutoff) => cutoff.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    /// <summary>How long a batch waits for the write lock another connection holds before the removal gives up.</summary>
    private TimeSpan LockWaitLimit { get; init; }

    /// <summary>Told while a wait for another connection's lock lasts, and when it ends (the cmdlets' warnings).</summary>
    private Action<string>? LockWaits { get; init; }

    /// <summary>Takes the write lock for a batch (BEGIN IMMEDIATE), waiting for it as <see cref="WaitingForLock{T}"/> does.</summary>
    internal override DbTransaction BeginBatch(CancellationToken cancellationToken) =>
        WaitingForLock(() => Sqlite.BeginTransaction(deferred: false), cancellationToken);

    /// <summary>The DELETE, which waits only when spilling changed pages needs the readers gone: a BUSY statement is retried in the same transaction.</summary>
    internal override int ExecuteBatch(DbCommand delete, CancellationToken cancellationToken)
    {
        delete.CommandTimeout = 1;
        return WaitingForLock(delete.ExecuteNonQuery, cancellationToken);
    }

    /// <summary>The commit, which waits for readers that still see the old rows (a journal-mode database); a BUSY commit leaves the transaction open and is retried.</summary>
    internal override void CommitBatch(DbTransaction transaction, CancellationToken cancellationToken) =>
        WaitingForLock(() =>
        {
            transaction.Commit();
            return true;
        }, cancellationToken);

    /// <summary>
    /// Runs a step of a batch that may wait for another connection's lock, in waits of a second (the removal
    /// connection's busy timeout) with Ctrl+C looked at between them, so that a stop is never held up longer; a wait
    /// that lasts is said while it lasts, and given up after <see cref="LockWaitLimit"/> (docs/removal.md#lock-wait).
    /// </summary>
    private T WaitingForLock<T>(Func<T> step, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var said = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var result = step();
                if (said)
                {
                    LockWaits?.Invoke($"Got the write lock on '{FilePath}' after {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s; removing goes on.");
                }

                return result;
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == SqliteBusy && Stopwatch.GetElapsedTime(started) < LockWaitLimit)
            {
                if (!said)
                {
                    said = true;
                    LockWaits?.Invoke($"Waiting for the write lock on '{FilePath}': another connection holds it (the app saving, a long transaction, or another cleanup). " +
                        $"Giving up after {LockWaitLimit.TotalSeconds:0} s.");
                }
            }
        }
    }

    private const int SqliteBusy = 5;

    internal override bool IsLockTimeout(DbException exception) => (exception as SqliteException)?.SqliteErrorCode == SqliteBusy;

    internal override DbTransaction BeginRead() => Sqlite.BeginTransaction(deferred: true);

    internal override string PayloadHeadHolds(string hexBytes) => $"instr(substr(data, 1, 64), X'{hexBytes}') > 0";

    /// <summary>One JSON parameter instead of one parameter per id: binding thousands of named parameters is quadratic.</summary>
    internal override string NamespaceIn(DbCommand command, IReadOnlyList<string> ids)
    {
        Add(command, "@ids", JsonSerializer.Serialize(ids));
        return "namespace IN (SELECT value FROM json_each(@ids))";
    }

    internal override string? Explain(DbException exception) => exception.Message;

    internal override string? LastingFailure(DbException exception) => (exception as SqliteException)?.SqliteErrorCode switch
    {
        // SQLITE_READONLY, SQLITE_CANTOPEN (its journal beside the file), SQLITE_FULL, SQLITE_PERM.
        8 or 14 => WhatMustBeWritable(FilePath),
        13 => "the disk holding the database has free space",
        3 => $"this user may write '{FilePath}'",
        _ => null,
    };

    /// <summary>
    /// Which of the files SQLite writes for a database this user may not write: the database, its -wal, -shm or
    /// -journal file (each opened for writing, which changes nothing), else its folder, where SQLite creates them.
    /// </summary>
    internal static string WhatMustBeWritable(string path)
    {
        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
        {
            if (File.Exists(file) && !MayWrite(file))
            {
                return $"'{file}' is writable for this user (run as the app's user, or give this user write access to it)";
            }
        }

        return $"the folder '{Path.GetDirectoryName(path)}' is writable for this user (SQLite creates its journal or -wal file beside the database; run as the app's user)";
    }

    private static bool MayWrite(string file)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
        catch (IOException)
        {
            // Held or gone: not a matter of permissions.
            return true;
        }
    }

    internal override DateTime ReadTimestamp(DbDataReader reader, int ordinal) => TimestampOf(reader.GetValue(ordinal));

    /// <summary>A time as the accessed and created columns hold it: SQLAlchemy's text, other text forms, or anything that parses.</summary>
    private static DateTime TimestampOf(object value)
    {
        if (value is DBNull)
        {
            return default;
        }

        if (value is string text && (SqlAlchemyTimestamp(text.AsSpan()) is { } exact || DateTime.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out exact)))
        {
            return exact;
        }

        DateTime parsed;
        return DateTime.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture, DateTimeStyles.None, out parsed)
            ? parsed
            : default;
    }

    /// <summary>
    /// The text SQLAlchemy writes for a DateTime in SQLite, 'YYYY-MM-DD HH:MM:SS.ffffff' or without the fraction, read
    /// digit by digit from its characters or from its UTF-8 bytes: the general parser cost more than the rest of reading
    /// a row. Anything else returns null.
    /// </summary>
    internal static DateTime? SqlAlchemyTimestamp<T>(ReadOnlySpan<T> text)
        where T : unmanaged, IBinaryInteger<T>
    {
        static int At(ReadOnlySpan<T> text, int i) => int.CreateTruncating(text[i]);

        static int Digits(ReadOnlySpan<T> text, int at, int count)
        {
            var n = 0;
            for (var i = at; i < at + count; i++)
            {
                var d = At(text, i) - '0';
                if ((uint)d > 9)
                {
                    return -1;
                }

                n = (n * 10) + d;
            }

            return n;
        }

        if ((text.Length != 19 && text.Length != 26) || At(text, 4) != '-' || At(text, 7) != '-' || At(text, 10) != ' ' || At(text, 13) != ':' || At(text, 16) != ':' || (text.Length == 26 && At(text, 19) != '.'))
        {
            return null;
        }

        var (year, month, day, hour, minute, second) = (Digits(text, 0, 4), Digits(text, 5, 2), Digits(text, 8, 2), Digits(text, 11, 2), Digits(text, 14, 2), Digits(text, 17, 2));
        var micro = text.Length == 26 ? Digits(text, 20, 6) : 0;
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour is < 0 or > 23 || minute is < 0 or > 59 || second is < 0 or > 59 || micro < 0)
        {
            return null;
        }

        return new DateTime(year, month, day, hour, minute, second).AddTicks(micro * 10L);
    }

    /// <summary>Whether the database keeps its text in UTF-8 (PRAGMA encoding; SQLite's default), which the direct reading of rows needs.</summary>
    private bool _textIsUtf8;

    /// <summary>
    /// A listing's rows read through SQLite's own interface on this connection's handle, in the listing's transaction
    /// (the statement is the command's; it runs at the first MoveNext). The driver's data reader cost about as much
    /// again as SQLite's own work for each row (docs/sqlite.md#reading). A command with parameters, and a database in
    /// UTF-16, are read through the data reader.
    /// </summary>
    internal override IEnumerable<StoredSession> Rows(DbCommand command, CancellationToken cancellationToken) =>
        command.Parameters.Count == 0 && _textIsUtf8 ? RowsDirectly(command.CommandText, command.CommandTimeout, cancellationToken) : base.Rows(command, cancellationToken);

    /// <summary>How long the direct reading sleeps before it tries again a statement another process's lock held up.</summary>
    private const int BusyRetryMilliseconds = 50;

    private IEnumerable<StoredSession> RowsDirectly(string sql, int timeoutSeconds, CancellationToken cancellationToken)
    {
        var database = Sqlite.Handle!;
        var rc = raw.sqlite3_prepare_v2(database, sql, out var row);
        using (row)
        {
            SqliteException.ThrowExceptionForRC(rc, database);
            var started = Stopwatch.GetTimestamp();
            var first = true;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rc = raw.sqlite3_step(row);

                // The statement that takes the transaction's read lock may meet a writer's commit (a journal-mode database):
                // it is tried again until the command's timeout, as the data reader does. Once rows came, the lock is held.
                while (first && (rc is raw.SQLITE_BUSY or raw.SQLITE_LOCKED) && (timeoutSeconds == 0 || Stopwatch.GetElapsedTime(started).TotalSeconds < timeoutSeconds))
                {
                    raw.sqlite3_reset(row);
                    Thread.Sleep(BusyRetryMilliseconds);
                    cancellationToken.ThrowIfCancellationRequested();
                    rc = raw.sqlite3_step(row);
                }

                first = false;
                if (rc == raw.SQLITE_DONE)
                {
                    yield break;
                }

                if (rc != raw.SQLITE_ROW)
                {
                    // Ctrl+C interrupts the statement (SqlSessionStore cancels the command): that is a cancellation, not a failure.
                    cancellationToken.ThrowIfCancellationRequested();
                    SqliteException.ThrowExceptionForRC(rc, database);
                }

                // The usual types read straight from SQLite's bytes; any other as the data reader's value would be.
                var id = raw.sqlite3_column_type(row, 0) is var idType && idType == raw.SQLITE_TEXT
                    ? Encoding.UTF8.GetString(raw.sqlite3_column_blob(row, 0))
                    : IdOf(ValueOf(row, 0, idType));
                var data = raw.sqlite3_column_type(row, 3) is var dataType && dataType == raw.SQLITE_BLOB
                    ? raw.sqlite3_column_blob(row, 3).ToArray()
                    : PayloadOf(ValueOf(row, 3, dataType));
                yield return new StoredSession(id, TimestampOf(row, 1), TimestampOf(row, 2), data);
            }
        }
    }

    private static DateTime TimestampOf(sqlite3_stmt row, int column)
    {
        var type = raw.sqlite3_column_type(row, column);
        return type == raw.SQLITE_TEXT && SqlAlchemyTimestamp(raw.sqlite3_column_blob(row, column)) is { } exact ? exact : TimestampOf(ValueOf(row, column, type));
    }

    /// <summary>A column's value as the data reader gives it (GetValue): DBNull for NULL.</summary>
    private static object ValueOf(sqlite3_stmt row, int column, int type) => type switch
    {
        raw.SQLITE_INTEGER => raw.sqlite3_column_int64(row, column),
        raw.SQLITE_FLOAT => raw.sqlite3_column_double(row, column),
        raw.SQLITE_TEXT => Encoding.UTF8.GetString(raw.sqlite3_column_blob(row, column)),
        raw.SQLITE_BLOB => raw.sqlite3_column_blob(row, column).ToArray(),
        _ => DBNull.Value,
    };

    /// <summary>
    /// Waits, in steps of a second that Ctrl+C ends, while another process holds the database so that it cannot be read
    /// (BEGIN EXCLUSIVE in a journal-mode database, or a writer's commit): said once to <see cref="LockWaits"/>
    /// while it lasts, and given up after 30 s as SQLITE_BUSY, which Open turns into StoreLocked.
    /// </summary>
    private void WaitUntilReadable(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var said = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var probe = Command(null, "SELECT count(*) FROM sqlite_master");
                probe.CommandTimeout = 1;
                probe.ExecuteScalar();
                if (said)
                {
                    LockWaits?.Invoke($"'{FilePath}' can be read again after {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s.");
                }

                return;
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == SqliteBusy && Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(BusyTimeoutSeconds))
            {
                if (!said)
                {
                    said = true;
                    LockWaits?.Invoke($"Waiting to read '{FilePath}': another process holds the database locked (an exclusive transaction, or a writer committing). " +
                        $"Giving up after {BusyTimeoutSeconds} s.");
                }
            }
        }
    }

    private void CheckTable()
    {
        var columns = Columns("SELECT name FROM pragma_table_info(@table" + (SchemaName == null ? ")" : ", @schema)"),
            SchemaName == null ? new[] { ("@table", (object)TableName) } : new[] { ("@table", (object)TableName), ("@schema", (object)SchemaName) });
        CheckColumns(columns, $"'{TableName}'", $"The SQLite database '{FilePath}'");
    }
}
