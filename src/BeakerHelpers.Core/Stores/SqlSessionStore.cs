using System.Data;
using System.Data.Common;
using System.Diagnostics;

namespace BeakerHelpers.Core.Stores;

/// <summary>
/// What every SQL backend shares: an ext:database or ext:sqla table (docs/storage.md#tables) with the columns namespace,
/// accessed, created and data, read in accessed order and cleaned in batches. A backend says how to quote,
/// how to pass a cutoff, how to walk the table by key and how to match a batch of ids.
/// </summary>
public abstract partial class SqlSessionStore : ISessionStore
{
    private readonly DbConnection _connection;

    protected SqlSessionStore(DbConnection connection, string description)
    {
        _connection = connection;
        Description = description;
    }

    public string Description { get; }

    /// <summary>The table, quoted and schema-qualified as this backend needs.</summary>
    protected abstract string QualifiedTable { get; }

    private string _keyColumn = "namespace";

    /// <summary>A unique, indexed column to walk the table by in batches: rowid, id (ext:database) or namespace (ext:sqla).</summary>
    protected virtual string KeyColumn => _keyColumn;

    /// <summary>Seconds a listing or count may wait (0: until cancelled; streaming a big table takes long).</summary>
    protected virtual int ReadCommandTimeout => 0;

    /// <summary>Seconds one removal batch may wait for locks the app holds before it fails.</summary>
    protected virtual int BatchCommandTimeout => 120;

    /// <summary>The cutoff as a parameter value the accessed column compares with correctly.</summary>
    protected abstract object CutoffValue(DateTime cutoff);

    protected abstract DateTime ReadTimestamp(DbDataReader reader, int ordinal);

    /// <summary>Starts a removal batch's transaction (SQLite takes the write lock at once).</summary>
    protected virtual DbTransaction BeginBatch() => _connection.BeginTransaction();

    /// <summary>Starts the transaction a listing runs in: a consistent read that changes nothing.</summary>
    protected abstract DbTransaction BeginRead();

    /// <summary>A predicate matching namespace against the ids, with the parameters it needs added to <paramref name="command"/>.</summary>
    protected abstract string NamespaceIn(DbCommand command, IReadOnlyList<string> ids);

    /// <summary>Turns a backend failure into a message about this store; null leaves the exception as it is.</summary>
    protected abstract string? Explain(DbException exception);

    /// <summary>
    /// What to fix when a failure lasts until someone changes something (a read-only file, a full disk, a missing
    /// permission), so that a removal does not say "run again" where running again cannot help; null otherwise.
    /// </summary>
    protected virtual string? LastingFailure(DbException exception) => null;

    /// <summary>
    /// True when the database engine runs in this process (SQLite): its work of sorting and copying rows is then ours,
    /// and a listing reads ahead on a thread of its own while the caller decodes (measured: 1 M sessions listed about
    /// a quarter faster on 2 cores). A server does that work in its own process.
    /// </summary>
    protected virtual bool EngineInProcess => false;

    /// <summary>Rows read ahead at most, when <see cref="EngineInProcess"/>.</summary>
    private const int ReadAheadRows = 256;

    public IEnumerable<StoredSession> ReadSessions(DateTime? accessedSince, CancellationToken cancellationToken)
    {
        var cutoff = accessedSince == null ? null : CutoffValue(accessedSince.Value);
        return EngineInProcess
            ? ReadAhead.Of(token => ReadRows(transaction => ListingCommand(transaction, cutoff), token), ReadAheadRows, cancellationToken)
            : ReadRows(transaction => ListingCommand(transaction, cutoff), cancellationToken);
    }

    /// <summary>Ids per lookup statement (one parameter each, or one JSON array on SQLite).</summary>
    private const int IdsPerLookup = 1000;

    public IEnumerable<StoredSession> ReadIds(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        foreach (var chunk in ids.Chunk(IdsPerLookup))
        {
            foreach (var row in ReadRows(transaction =>
            {
                var command = Command(transaction, string.Empty);
                command.CommandText = $"SELECT namespace, accessed, created, data FROM {QualifiedTable} WHERE {NamespaceIn(command, chunk)} ORDER BY accessed";
                command.CommandTimeout = ReadCommandTimeout;
                return command;
            }, cancellationToken))
            {
                yield return row;
            }
        }
    }

    public bool TimesAreLocal => true;

    /// <summary>The rows with the highest keys (the newest inserted), read through the primary key's index: no full scan.</summary>
    public IEnumerable<StoredSession> SampleSessions(int count, CancellationToken cancellationToken) =>
        ReadRows(transaction =>
        {
            var command = Command(transaction, $"SELECT namespace, accessed, created, data FROM {QualifiedTable} ORDER BY {KeyColumn} DESC LIMIT {count}");
            command.CommandTimeout = ReadCommandTimeout;
            return command;
        }, cancellationToken);

    private IEnumerable<StoredSession> ReadRows(Func<DbTransaction, DbCommand> listing, CancellationToken cancellationToken)
    {
        using var transaction = Guard("reading sessions", BeginRead);
        using var command = Guard("reading sessions", () => listing(transaction));

        using var registration = cancellationToken.Register(() => command.Cancel());
        using var reader = Guard("reading sessions", () => command.ExecuteReader());
        while (Guard("reading sessions", (reader, cancellationToken), static state => Read(state.reader, state.cancellationToken)))
        {
            // One GetValue per column (it tells NULL apart too): this loop runs once per session.
            var id = reader.GetValue(0) switch
            {
                string text => text,
                DBNull => string.Empty,
                var other => Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture)!,
            };
            var blob = reader.GetValue(3);
            var data = blob is DBNull ? Array.Empty<byte>() : (byte[])blob;
            yield return new StoredSession(id, ReadTimestamp(reader, 1), ReadTimestamp(reader, 2), data);
        }
    }

    /// <summary>
    /// The command that lists the rows oldest first (namespace, accessed, created, data), only those accessed at or
    /// after <paramref name="cutoff"/> when it is given (a value from <see cref="CutoffValue"/>).
    /// </summary>
    protected virtual DbCommand ListingCommand(DbTransaction transaction, object? cutoff)
    {
        var command = Command(transaction,
            $"SELECT namespace, accessed, created, data FROM {QualifiedTable}" +
            (cutoff == null ? string.Empty : " WHERE accessed >= @cutoff") +
            " ORDER BY accessed");
        command.CommandTimeout = ReadCommandTimeout;
        if (cutoff != null)
        {
            Add(command, "@cutoff", cutoff);
        }

        return command;
    }

    public long CountAccessedBefore(DateTime cutoff, CancellationToken cancellationToken)
    {
        using var transaction = Guard("counting sessions", BeginRead);
        using var command = Command(transaction, $"SELECT count(*) FROM {QualifiedTable} WHERE accessed < @cutoff");
        command.CommandTimeout = ReadCommandTimeout;
        Add(command, "@cutoff", CutoffValue(cutoff));
        using var registration = cancellationToken.Register(() => command.Cancel());
        var count = Guard("counting sessions", () =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        });
        transaction.Commit();
        return count;
    }

    /// <summary>
    /// Walks the table once in key order (Beaker's tables have no index on accessed, so a query per batch that
    /// searched the whole table would cost a scan per batch). Each batch finds the key of the batchSize-th old
    /// row after the previous batch and deletes the old rows up to it, re-checking the age, in its own
    /// transaction. With an integer key the search looks at most <see cref="ScanWindow"/> keys ahead, so a long
    /// run of live sessions never makes one long batch, and nothing is locked while it only reads.
    /// With <paramref name="adaptive"/> the batch size follows the time batches take (see <see cref="BatchPacing.NextBatchSize"/>).
    /// </summary>
    public RemovalResult RemoveAccessedBefore(DateTime cutoff, int batchSize, CancellationToken cancellationToken, Action<long>? progress = null, bool adaptive = false)
    {
        CheckBatchSize(batchSize);
        var cutoffValue = CutoffValue(cutoff);
        var integerKey = KeyIsInteger;
        if (adaptive && integerKey && DeleteLocksOnlyDeletedRows)
        {
            return RemoveByKeyWindows(cutoffValue, batchSize, cancellationToken, progress);
        }

        // The key of the last row looked at (null: none yet, for a string key). Rows added later have higher
        // keys and are new sessions, so an integer walk can stop at today's highest key.
        object? last = integerKey ? KeyBound("min") - 1 : null;
        var highest = integerKey ? KeyBound("max") : 0;
        var tally = new BatchTally();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var after = last == null ? string.Empty : $"{KeyColumn} > @last AND ";
            object? upTo;
            try
            {
                upTo = FindBatchEnd();
            }
            catch (Exception ex) when (IsLostConnection(ex))
            {
                // Between two batches: what was removed so far is said all the same.
                throw RemovalFailed(tally, ex);
            }

            object? FindBatchEnd()
            {
                using var bound = Command(null, $"SELECT max(k) FROM (SELECT {KeyColumn} AS k FROM {QualifiedTable} WHERE {after}" +
                    (integerKey ? $"{KeyColumn} <= @window AND " : string.Empty) +
                    $"accessed < @cutoff ORDER BY {KeyColumn} LIMIT {batchSize}) batch");
                AddLast(bound, last);
                if (integerKey)
                {
                    Add(bound, "@window", (long)last! + ScanWindow);
                }

                Add(bound, "@cutoff", cutoffValue);
                var value = bound.ExecuteScalar();
                return value is null or DBNull ? null : value;
            }

            if (upTo == null)
            {
                if (integerKey && (long)last! + ScanWindow < highest)
                {
                    // Nothing old in this window of keys: move on without taking any lock.
                    last = (long)last + ScanWindow;
                    continue;
                }

                break;
            }

            try
            {
                using var transaction = BeginBatch();
                tally.Start();
                using var delete = Command(transaction, $"DELETE FROM {QualifiedTable} WHERE {after}{KeyColumn} <= @upTo AND accessed < @cutoff");
                AddLast(delete, last);
                Add(delete, "@upTo", upTo);
                Add(delete, "@cutoff", cutoffValue);
                var deleted = delete.ExecuteNonQuery();
                tally.Committing(deleted);
                transaction.Commit();
                tally.Finish(deleted);
            }
            catch (Exception ex) when (IsLostConnection(ex))
            {
                throw RemovalFailed(tally, ex);
            }

            last = integerKey ? Convert.ToInt64(upTo, System.Globalization.CultureInfo.InvariantCulture) : upTo;
            if (adaptive)
            {
                batchSize = Pacing.NextBatchSize(batchSize, tally.LastBatch);
            }

            progress?.Invoke(tally.Removed);
            StepAside(tally.LastBatch, cancellationToken);
        }

        return tally.Result();
    }

    /// <summary>
    /// True when a DELETE takes locks only on the rows it deletes (PostgreSQL), so that scanning live rows in a batch
    /// blocks no request. An adaptive removal then deletes window after window of integer keys straight away, instead
    /// of first searching each batch's last old row (which read every row twice).
    /// </summary>
    protected virtual bool DeleteLocksOnlyDeletedRows => false;

    /// <summary>
    /// Deletes the old rows of one window of keys per batch, the window starting at <paramref name="width"/> keys and
    /// following the time batches take (see <see cref="BatchPacing.NextBatchSize"/>, up to <see cref="MaxKeyWindow"/> keys).
    /// </summary>
    private RemovalResult RemoveByKeyWindows(object cutoffValue, int width, CancellationToken cancellationToken, Action<long>? progress)
    {
        var last = KeyBound("min") - 1;
        var highest = KeyBound("max");
        var tally = new BatchTally();
        while (last < highest)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var upTo = Math.Min(last + width, highest);
            try
            {
                using var transaction = BeginBatch();
                tally.Start();
                using var delete = Command(transaction, $"DELETE FROM {QualifiedTable} WHERE {KeyColumn} > @last AND {KeyColumn} <= @upTo AND accessed < @cutoff");
                Add(delete, "@last", last);
                Add(delete, "@upTo", upTo);
                Add(delete, "@cutoff", cutoffValue);
                var deleted = delete.ExecuteNonQuery();
                tally.Committing(deleted);
                transaction.Commit();
                tally.Finish(deleted);
            }
            catch (Exception ex) when (IsLostConnection(ex))
            {
                throw RemovalFailed(tally, ex);
            }

            last = upTo;
            width = Pacing.NextBatchSize(width, tally.LastBatch, MaxKeyWindow);
            progress?.Invoke(tally.Removed);
            StepAside(tally.LastBatch, cancellationToken);
        }

        return tally.Result();
    }

    private static void AddLast(DbCommand command, object? last)
    {
        if (last != null)
        {
            Add(command, "@last", last);
        }
    }

    private long KeyBound(string function) => Convert.ToInt64(
        Guard("finding the table's keys", () => Scalar($"SELECT coalesce({function}({KeyColumn}), 0) FROM {QualifiedTable}")),
        System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>How many keys one search looks ahead at most.</summary>
    protected const long ScanWindow = 100_000;

    /// <summary>A key window holds live rows too, which cost less than old ones: it may grow wider than a batch of rows.</summary>
    public const int MaxKeyWindow = 1_000_000;

    /// <summary>Whether <see cref="KeyColumn"/> is an integer, so that key windows can be counted.</summary>
    protected virtual bool KeyIsInteger => KeyColumn is "rowid" or "id";

    /// <summary>How batches share the database with the app (docs/removal.md#pacing).</summary>
    protected virtual BatchPacing Pacing => BatchPacing.RowLocks;

    /// <summary>After a batch that took <paramref name="lastBatch"/>: the pause <see cref="Pacing"/> asks for, which Ctrl+C cuts short.</summary>
    protected virtual void StepAside(TimeSpan lastBatch, CancellationToken cancellationToken)
    {
        var pause = Pacing.PauseAfter(lastBatch);
        if (pause > TimeSpan.Zero && cancellationToken.WaitHandle.WaitOne(pause))
        {
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    public RemovalResult RemoveIds(IEnumerable<string> ids, int batchSize, CancellationToken cancellationToken, Action<long>? progress = null, DateTime? accessedBefore = null, bool adaptive = false)
    {
        CheckBatchSize(batchSize);
        using var next = ids.GetEnumerator();
        var cutoff = accessedBefore is { } before ? CutoffValue(before) : null;
        Action<TimeSpan>? resize = adaptive ? took => batchSize = Pacing.NextBatchSize(batchSize, took) : null;
        return RunBatches(cancellationToken, progress, resize, transaction =>
        {
            var batch = new List<string>(Math.Min(batchSize, 10_000));
            while (batch.Count < batchSize && next.MoveNext())
            {
                batch.Add(next.Current);
            }

            if (batch.Count == 0)
            {
                return null;
            }

            using var delete = Command(transaction, string.Empty);
            delete.CommandText = $"DELETE FROM {QualifiedTable} WHERE {NamespaceIn(delete, batch)}" + (cutoff == null ? string.Empty : " AND accessed < @cutoff");
            if (cutoff != null)
            {
                Add(delete, "@cutoff", cutoff);
            }

            return delete.ExecuteNonQuery();
        });
    }

    public void Dispose()
    {
        _connection.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// What every server backend does to open a store: connect (a failure is StoreConnectFailed naming the server and
    /// where the password came from, never the password), then <paramref name="create"/> the store and check its
    /// table (a driver failure there is StoreOpenFailed). The connection is closed on any failure.
    /// </summary>
    protected static TStore OpenServer<TStore>(DbConnection connection, string where, string passwordNote,
        Func<Exception, bool> isDriverFailure, Func<Exception, string> reason, Func<TStore> create)
        where TStore : SqlSessionStore
    {
        try
        {
            connection.Open();
        }
        catch (Exception ex) when (isDriverFailure(ex))
        {
            connection.Dispose();
            throw new BeakerException("StoreConnectFailed", BeakerErrorKind.ConnectionError, $"Cannot connect to {where}{passwordNote}: {reason(ex)}", ex);
        }

        try
        {
            return create();
        }
        catch (Exception ex) when (isDriverFailure(ex))
        {
            connection.Dispose();
            throw new BeakerException("StoreOpenFailed", BeakerErrorKind.ConnectionError, $"{where}: {reason(ex)}", ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The table quoted by the provider's own rules, with its schema when there is one.</summary>
    protected static string Qualify(DbCommandBuilder quote, string table, string? schema) =>
        (schema == null ? string.Empty : quote.QuoteIdentifier(schema) + ".") + quote.QuoteIdentifier(table);

    /// <summary>ext:database has an id column; ext:sqla's key is the namespace itself (docs/storage.md#tables).</summary>
    protected void UseKeyOf(HashSet<string> columns) => _keyColumn = columns.Contains("id") ? "id" : "namespace";

    /// <summary>Where a password came from, for connection errors: it is never shown itself.</summary>
    protected static string PasswordNote(string? password, string urlSource) =>
        string.IsNullOrEmpty(password) ? " (no password given)" : $" (password from {urlSource})";

    protected static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    protected DbCommand Command(DbTransaction? transaction, string text)
    {
        var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        command.CommandTimeout = BatchCommandTimeout;
        return command;
    }

    /// <summary>Runs a statement outside any transaction (session settings, metadata queries).</summary>
    protected object? Scalar(string text, params (string Name, object Value)[] parameters)
    {
        using var command = Command(null, text);
        foreach (var (name, value) in parameters)
        {
            Add(command, name, value);
        }

        return command.ExecuteScalar();
    }

    /// <summary>The column names of a table, lowercase; empty when the table does not exist.</summary>
    protected HashSet<string> Columns(string text, params (string Name, object Value)[] parameters)
    {
        using var command = Command(null, text);
        foreach (var (name, value) in parameters)
        {
            Add(command, name, value);
        }

        var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            columns.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!.ToLowerInvariant());
        }

        return columns;
    }

    /// <summary>Checks that a table has Beaker's columns; says which table and where when it does not.</summary>
    protected static void CheckColumns(HashSet<string> columns, string table, string where)
    {
        if (columns.Count == 0)
        {
            throw new BeakerException("TableNotFound", BeakerErrorKind.NotFound,
                $"{where} has no table {table}. Set <prefix>.table_name (and schema_name), or -TableName and -SchemaName, to the table Beaker writes sessions into.");
        }

        var missing = new[] { "namespace", "accessed", "created", "data" }.Where(c => !columns.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new BeakerException("TableNotBeaker", BeakerErrorKind.InvalidData,
                $"The table {table} in {where} lacks the column(s) {string.Join(", ", missing)} that Beaker's ext:database and ext:sqla tables have. Is it the right table?");
        }
    }

    private static bool Read(DbDataReader reader, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return reader.Read();
    }

    private static void CheckBatchSize(int batchSize)
    {
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A batch holds at least one row.");
        }
    }

    /// <summary>
    /// A driver error, a connection the server cut off mid-response (MySqlConnector reports that as an end of stream,
    /// not as a DbException), or the driver's refusal to use a connection the server closed.
    /// </summary>
    private bool IsLostConnection(Exception ex) =>
        ex is DbException or IOException or System.Net.Sockets.SocketException || (ex is InvalidOperationException && _connection.State != ConnectionState.Open);

    private BeakerException RemovalFailed(BatchTally tally, Exception ex)
    {
        var lasting = ex is DbException failure ? LastingFailure(failure) : null;
        var locked = ex is DbException db && IsLockTimeout(db);
        var inDoubt = tally.InDoubt > 0
            ? $" (and perhaps the {tally.InDoubt} of the batch whose commit was under way: the connection was lost before the server said whether it committed)"
            : string.Empty;
        var done = tally.Removed == 0 && tally.InDoubt == 0
            ? $"Nothing was removed from {Description}"
            : $"Removing sessions from {Description} stopped after {tally.Removed} session(s) were removed in {tally.Batches} batch(es){inDoubt}";
        var reason = locked
            ? "another connection held the database's write lock the whole time a batch waited for it (the app in a long transaction, a stuck process, or another cleanup)"
            : (ex is DbException known ? Explain(known) ?? known.Message : $"the connection was lost ({ex.Message})").TrimEnd('.');
        return new(locked ? "StoreLocked" : "RemovalFailed", lasting == null ? BeakerErrorKind.ConnectionError : BeakerErrorKind.PermissionDenied,
            $"{done}: {reason}. The store is consistent (a batch is committed whole or not at all); " +
            (lasting == null ? "running the command again is safe and finishes the job." : $"running the command again will not help until {lasting}."), ex);
    }

    /// <summary>Told while a batch waits long for a lock (SQLite's write lock: <see cref="ISessionStore.LockWaitNotice"/>).</summary>
    public Action<string>? LockWaitNotice { get; set; }

    /// <summary>Whether a failure is the end of a wait for a lock that never came (SQLite's busy timeout).</summary>
    protected virtual bool IsLockTimeout(DbException exception) => false;

    /// <summary>Counts a removal's rows and batches and times the batches.</summary>
    private sealed class BatchTally
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _batchStarted;

        public long Removed { get; private set; }

        public int Batches { get; private set; }

        public TimeSpan Longest { get; private set; }

        public TimeSpan LastBatch { get; private set; }

        /// <summary>Called once a batch's transaction has begun (SQLite: holds the write lock), so that a batch's time is the time it holds the app up, not the wait for the lock.</summary>
        public void Start()
        {
            _batchStarted = _clock.Elapsed;
            InDoubt = 0;
        }

        /// <summary>
        /// Rows the batch under way deleted and is committing: if the connection is lost now, the server may have
        /// committed them or not, and the client cannot tell.
        /// </summary>
        public long InDoubt { get; private set; }

        public void Committing(long deleted) => InDoubt = deleted;

        public void Finish(long removed)
        {
            InDoubt = 0;
            Removed += removed;
            Batches++;
            LastBatch = _clock.Elapsed - _batchStarted;
            Longest = LastBatch > Longest ? LastBatch : Longest;
        }

        public RemovalResult Result() => new(Removed, Batches, Longest, _clock.Elapsed);
    }

    private T Guard<T>(string doing, Func<T> action) => Guard(doing, action, static a => a());

    /// <summary><see cref="Guard{T}(string, Func{T})"/> for a static lambda and its state, which allocates nothing per call.</summary>
    private T Guard<TState, T>(string doing, TState state, Func<TState, T> action)
    {
        try
        {
            return action(state);
        }
        catch (DbException ex) when (Explain(ex) is { } reason)
        {
            throw new BeakerException("StoreReadFailed", BeakerErrorKind.ConnectionError, $"{Description}: {doing} failed: {reason}", ex);
        }
    }

    /// <summary>
    /// Runs <paramref name="batch"/> in one transaction after another until it returns null. A failing batch
    /// rolls back alone; the error says how much the earlier batches removed.
    /// </summary>
    private RemovalResult RunBatches(CancellationToken cancellationToken, Action<long>? progress, Action<TimeSpan>? afterBatch, Func<DbTransaction, int?> batch)
    {
        var tally = new BatchTally();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var transaction = BeginBatch();
                tally.Start();
                var count = batch(transaction);
                tally.Committing(count ?? 0);
                transaction.Commit();
                if (count is not { } done)
                {
                    break;
                }

                tally.Finish(done);
            }
            catch (Exception ex) when (IsLostConnection(ex))
            {
                throw RemovalFailed(tally, ex);
            }

            afterBatch?.Invoke(tally.LastBatch);
            progress?.Invoke(tally.Removed);
            StepAside(tally.LastBatch, cancellationToken);
        }

        return tally.Result();
    }
}
