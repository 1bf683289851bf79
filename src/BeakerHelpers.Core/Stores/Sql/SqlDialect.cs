using System.Data.Common;
using System.Globalization;

namespace BeakerHelpers.Core.Stores.Sql;

/// <summary>
/// One database's side of <see cref="SqlSessionStore"/> (docs/storage.md#tables): the connection it opened and checked,
/// how it quotes the table, passes a cutoff and reads a timestamp, starts transactions, matches a batch of ids, paces
/// removal batches and words its failures. A new database is one dialect file.
/// </summary>
public abstract class SqlDialect
{
    /// <summary>The columns of Beaker's ext:database and ext:sqla tables (docs/storage.md#tables).</summary>
    private static readonly string[] BeakerColumns = { "namespace", "accessed", "created", "data" };

    private string _keyColumn = "namespace";

    private protected SqlDialect(DbConnection connection, string description, string qualifiedTable)
    {
        Connection = connection;
        Description = description;
        QualifiedTable = qualifiedTable;
    }

    /// <summary>The store as every message names it: database, where, table.</summary>
    public string Description { get; }

    internal DbConnection Connection { get; }

    /// <summary>The table, quoted and schema-qualified as this database needs.</summary>
    internal string QualifiedTable { get; }

    /// <summary>A unique, indexed column to walk the table by in batches: rowid, id (ext:database) or namespace (ext:sqla).</summary>
    internal virtual string KeyColumn => _keyColumn;

    /// <summary>Whether <see cref="KeyColumn"/> is an integer, so that key windows can be counted.</summary>
    internal bool KeyIsInteger => KeyColumn is "rowid" or "id";

    /// <summary>Seconds a listing or count may wait (0: until cancelled; streaming a big table takes long).</summary>
    internal virtual int ReadCommandTimeout => 0;

    /// <summary>Seconds one removal batch may wait for locks the app holds before it fails.</summary>
    internal virtual int BatchCommandTimeout => 120;

    /// <summary>
    /// True when a DELETE takes locks only on the rows it deletes (PostgreSQL), so that scanning live rows in a batch
    /// blocks no request: an adaptive removal then deletes window after window of keys straight away.
    /// </summary>
    internal virtual bool DeleteLocksOnlyDeletedRows => false;

    /// <summary>How batches share the database with the app (docs/removal.md#pacing).</summary>
    internal virtual BatchPacing Pacing => BatchPacing.RowLocks;

    /// <summary>The cutoff as a parameter value the accessed column compares with correctly.</summary>
    internal abstract object CutoffValue(DateTime cutoff);

    internal virtual DateTime ReadTimestamp(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? default : reader.GetDateTime(ordinal);

    /// <summary>
    /// The rows of a command that selects namespace, accessed, created and data, as sessions, through the driver's
    /// data reader (a dialect may read them a faster way). Lazy: the command runs at the first MoveNext.
    /// </summary>
    internal virtual IEnumerable<StoredSession> Rows(DbCommand command, CancellationToken cancellationToken)
    {
        using var reader = command.ExecuteReader();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!reader.Read())
            {
                yield break;
            }

            // One GetValue per column (it tells NULL apart too): this loop runs once per session.
            yield return new StoredSession(IdOf(reader.GetValue(0)), ReadTimestamp(reader, 1), ReadTimestamp(reader, 2), PayloadOf(reader.GetValue(3)));
        }
    }

    /// <summary>A session id as the namespace column holds it: its text, empty for NULL.</summary>
    private protected static string IdOf(object value) => value switch
    {
        string text => text,
        DBNull => string.Empty,
        var other => Convert.ToString(other, CultureInfo.InvariantCulture)!,
    };

    /// <summary>
    /// A payload as the data column holds it. Beaker's column is binary; a value of another type (SQLite keeps any) is
    /// read as its text, which then fails to decode as that session's error instead of ending the listing.
    /// </summary>
    private protected static byte[] PayloadOf(object value) => value switch
    {
        byte[] bytes => bytes,
        DBNull => Array.Empty<byte>(),
        var other => System.Text.Encoding.UTF8.GetBytes(Convert.ToString(other, CultureInfo.InvariantCulture)!),
    };

    /// <summary>Starts the transaction a listing runs in: a consistent read that changes nothing.</summary>
    internal abstract DbTransaction BeginRead();

    /// <summary>Starts a removal batch's transaction (SQLite: waiting for the write lock in steps, saying a long wait).</summary>
    internal virtual DbTransaction BeginBatch(CancellationToken cancellationToken) => Connection.BeginTransaction();

    /// <summary>
    /// Runs a batch's DELETE. Ctrl+C cancels it where it waits: the server cancels the statement (PostgreSQL's cancel
    /// request, MariaDB's KILL QUERY), a wait for another transaction's row locks included (docs/removal.md#stopping).
    /// </summary>
    internal virtual int ExecuteBatch(DbCommand delete, CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(static command => ((DbCommand)command!).Cancel(), delete);
        return delete.ExecuteNonQuery();
    }

    /// <summary>Commits a batch (SQLite: waiting in steps that Ctrl+C ends).</summary>
    internal virtual void CommitBatch(DbTransaction transaction, CancellationToken cancellationToken) => transaction.Commit();

    /// <summary>After a batch that took <paramref name="lastBatch"/>: the pause <see cref="Pacing"/> asks for, which Ctrl+C cuts short.</summary>
    internal virtual void StepAside(TimeSpan lastBatch, CancellationToken cancellationToken)
    {
        var pause = Pacing.PauseAfter(lastBatch);
        if (pause > TimeSpan.Zero && cancellationToken.WaitHandle.WaitOne(pause))
        {
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>A predicate matching namespace against the ids, with the parameters it needs added to <paramref name="command"/>.</summary>
    internal abstract string NamespaceIn(DbCommand command, IReadOnlyList<string> ids);

    /// <summary>A predicate: the first 64 bytes of the payload column hold these bytes (given as hex).</summary>
    internal abstract string PayloadHeadHolds(string hexBytes);

    /// <summary>
    /// Whether a listing reads the table in the database's own order and puts it in access order itself
    /// (AccessOrderSort), where the database's sort of whole rows is the slower (docs/listing-order.md).
    /// </summary>
    internal virtual bool SortsListing => false;

    /// <summary>
    /// The command that lists the rows oldest first (namespace, accessed, created, data), only those accessed at or
    /// after <paramref name="cutoff"/> when it is given (a value from <see cref="CutoffValue"/>).
    /// </summary>
    internal virtual DbCommand ListingCommand(DbTransaction transaction, object? cutoff) => RowsCommand(transaction, cutoff, " ORDER BY accessed");

    /// <summary>
    /// Like <see cref="ListingCommand"/>, in whatever order the database reads the table (for AccessOrderSort); with
    /// <paramref name="part"/>, only the rows of that part of the table (<see cref="ListingParts"/>).
    /// </summary>
    internal DbCommand UnorderedListingCommand(DbTransaction transaction, object? cutoff, ListingPart? part = null) => RowsCommand(transaction, cutoff, string.Empty, part);

    /// <summary>
    /// Where a table read in its own order and sorted here may be read in two parts at once, on two connections: opens
    /// the second connection. Null where the database reads one part as fast as two (docs/listing-order.md#parts).
    /// </summary>
    internal Func<SqlSessionStore>? OpenSecondReader { get; init; }

    /// <summary>The database's estimate of the table's size in bytes, without reading it; null where it has none.</summary>
    internal virtual long? TableBytes() => null;

    /// <summary>
    /// The two halves of the table by its key, each read in the key's own order: ext:database's integer id split at the
    /// middle of its range, ext:sqla's namespace (Beaker's hex ids) at '8'. Every row is in exactly one of them. Null
    /// when the key is called id but its values are not integers (a table of the app's own making).
    /// </summary>
    internal (ListingPart Lower, ListingPart Upper)? ListingParts(DbTransaction transaction)
    {
        object split = "8";
        if (KeyIsInteger)
        {
            using var bounds = Command(transaction, $"SELECT MIN({KeyColumn}), MAX({KeyColumn}) FROM {QualifiedTable}");
            bounds.CommandTimeout = ReadCommandTimeout;
            using var reader = bounds.ExecuteReader();
            reader.Read();
            var (low, high) = (reader.GetValue(0), reader.GetValue(1));
            static bool Integer(object value) => value is long or int or uint or ulong or short or ushort or byte or sbyte or decimal;
            if (low is DBNull)
            {
                split = 0L;
            }
            else if (Integer(low) && Integer(high))
            {
                split = (long)decimal.Floor((Convert.ToDecimal(low, CultureInfo.InvariantCulture) + Convert.ToDecimal(high, CultureInfo.InvariantCulture)) / 2);
            }
            else
            {
                return null;
            }
        }

        return (new ListingPart($"{KeyColumn} <= @part", split), new ListingPart($"{KeyColumn} > @part", split));
    }

    private DbCommand RowsCommand(DbTransaction transaction, object? cutoff, string order, ListingPart? part = null)
    {
        var conditions = new List<string>(2);
        if (cutoff != null)
        {
            conditions.Add("accessed >= @cutoff");
        }

        if (part != null)
        {
            conditions.Add(part.Condition);
        }

        var command = Command(transaction,
            $"SELECT namespace, accessed, created, data FROM {QualifiedTable}" +
            (conditions.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", conditions)) +
            order);
        command.CommandTimeout = ReadCommandTimeout;
        if (cutoff != null)
        {
            Add(command, "@cutoff", cutoff);
        }

        if (part != null)
        {
            Add(command, "@part", part.Split);
        }

        return command;
    }

    /// <summary>Turns a database failure into a message about this store; null leaves the exception as it is.</summary>
    internal abstract string? Explain(DbException exception);

    /// <summary>
    /// What to fix when a failure lasts until someone changes something (a read-only file, a full disk, a missing
    /// permission), so that a removal does not say "run again" where running again cannot help; null otherwise.
    /// </summary>
    internal virtual string? LastingFailure(DbException exception) => null;

    /// <summary>Whether a failure is the end of a wait for a lock that never came (SQLite's busy timeout).</summary>
    internal virtual bool IsLockTimeout(DbException exception) => false;

    internal static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    internal DbCommand Command(DbTransaction? transaction, string text)
    {
        var command = Connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        command.CommandTimeout = BatchCommandTimeout;
        return command;
    }

    /// <summary>Runs a statement outside any transaction (session settings, metadata queries).</summary>
    internal object? Scalar(string text, params (string Name, object Value)[] parameters)
    {
        using var command = Command(null, text);
        foreach (var (name, value) in parameters)
        {
            Add(command, name, value);
        }

        return command.ExecuteScalar();
    }

    /// <summary>The column names of a table, lowercase; empty when the table does not exist.</summary>
    private protected HashSet<string> Columns(string text, params (string Name, object Value)[] parameters)
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

    /// <summary>Checks that a table has Beaker's columns (saying which table and where when it does not), and picks the key.</summary>
    private protected void CheckColumns(HashSet<string> columns, string table, string where)
    {
        if (columns.Count == 0)
        {
            throw new BeakerException("TableNotFound", BeakerErrorKind.NotFound,
                $"{where} has no table {table}. Set <prefix>.table_name (and schema_name), or -TableName and -SchemaName, to the table Beaker writes sessions into.");
        }

        var missing = BeakerColumns.Where(c => !columns.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new BeakerException("TableNotBeaker", BeakerErrorKind.InvalidData,
                $"The table {table} in {where} lacks the column(s) {string.Join(", ", missing)} that Beaker's ext:database and ext:sqla tables have. Is it the right table?");
        }

        // ext:database has an id column; ext:sqla's key is the namespace itself (docs/storage.md#tables).
        _keyColumn = columns.Contains("id") ? "id" : "namespace";
    }

    /// <summary>The table quoted by the provider's own rules, with its schema when there is one.</summary>
    private protected static string Qualify(DbCommandBuilder quote, string table, string? schema) =>
        (schema == null ? string.Empty : quote.QuoteIdentifier(schema) + ".") + quote.QuoteIdentifier(table);

    /// <summary>Where a password came from, for connection errors: it is never shown itself.</summary>
    private protected static string PasswordNote(string? password, string urlSource) =>
        string.IsNullOrEmpty(password) ? " (no password given)" : $" (password from {urlSource})";

    /// <summary>
    /// What every server does to open a store: connect (a failure is StoreConnectFailed naming the server and where
    /// the password came from, never the password), then <paramref name="create"/> the dialect and check its table (a
    /// driver failure there is StoreOpenFailed). The connection is closed on any failure.
    /// </summary>
    private protected static SqlSessionStore OpenServer(DbConnection connection, string where, string passwordNote,
        Func<Exception, bool> isDriverFailure, Func<Exception, string> reason, Func<SqlDialect> create)
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
            return new SqlSessionStore(create());
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
}

/// <summary>One part of a table read in two at once: a condition on its key, and the key where the parts meet.</summary>
internal sealed record ListingPart(string Condition, object Split);
