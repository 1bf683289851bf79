using System.Data;
using System.Data.Common;

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

    /// <summary>
    /// A driver error, a connection the server cut off mid-response (MySqlConnector reports that as an end of stream,
    /// not as a DbException), or the driver's refusal to use a connection the server closed.
    /// </summary>
    private bool IsLostConnection(Exception ex) =>
        ex is DbException or IOException or System.Net.Sockets.SocketException || (ex is InvalidOperationException && _connection.State != ConnectionState.Open);

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
}
