using System.Data;
using System.Data.Common;

namespace BeakerHelpers.Core.Stores.Sql;

/// <summary>
/// An ext:database or ext:sqla table (docs/storage.md#tables) with the columns namespace, accessed, created and data,
/// read in accessed order and cleaned in batches, in any database: its <see cref="SqlDialect"/> says how to quote, how
/// to pass a cutoff, how to start transactions, how to match a batch of ids and how to word its failures.
/// </summary>
public sealed partial class SqlSessionStore : ISessionStore
{
    private readonly SqlDialect _dialect;

    internal SqlSessionStore(SqlDialect dialect) => _dialect = dialect;

    public string Description => _dialect.Description;

    public IEnumerable<StoredSession> ReadSessions(DateTime? accessedSince, CancellationToken cancellationToken)
    {
        var cutoff = accessedSince == null ? null : _dialect.CutoffValue(accessedSince.Value);
        return _dialect.SortsListing
            ? ReadSessionsSortedHere(cutoff, cancellationToken)
            : ReadRows(transaction => _dialect.ListingCommand(transaction, cutoff), cancellationToken);
    }

    /// <summary>
    /// The table read as it lies and put in access order here (AccessOrderSort). Where the dialect can open a second
    /// reader, a table larger than two runs of the sort is read in two halves by key at once
    /// (<see cref="SqlDialect.ListingParts"/>): this connection one, the second connection the other, each in a read
    /// transaction of its own. Otherwise it is read whole.
    /// </summary>
    private IEnumerable<StoredSession> ReadSessionsSortedHere(object? cutoff, CancellationToken cancellationToken)
    {
        var parts = _dialect.OpenSecondReader != null && Guard("reading sessions", _dialect.TableBytes) is { } bytes && bytes >= ReadInPartsFromBytes
            ? Guard("reading sessions", () =>
            {
                using var transaction = _dialect.BeginRead();
                var halves = _dialect.ListingParts(transaction);
                transaction.Commit();
                return halves;
            })
            : null;

        // A server that refuses a second connection (max_connections reached) is read through this one alone.
        using var second = parts == null ? null : OpenOrNull(_dialect.OpenSecondReader!);
        if (parts is not { } halves || second == null)
        {
            foreach (var session in AccessOrderSort.Sort(ReadRows(transaction => _dialect.UnorderedListingCommand(transaction, cutoff), cancellationToken), ListingRunBytes, cancellationToken))
            {
                yield return session;
            }

            yield break;
        }

        var sources = new Func<CancellationToken, IEnumerable<StoredSession>>[]
        {
            token => ReadRows(transaction => _dialect.UnorderedListingCommand(transaction, cutoff, halves.Lower), token),
            token => second.ReadRows(transaction => second._dialect.UnorderedListingCommand(transaction, cutoff, halves.Upper), token),
        };
        foreach (var session in AccessOrderSort.Sort(sources, ListingRunBytes, cancellationToken))
        {
            yield return session;
        }
    }

    private static SqlSessionStore? OpenOrNull(Func<SqlSessionStore> open)
    {
        try
        {
            return open();
        }
        catch (BeakerException)
        {
            return null;
        }
    }

    public IEnumerable<StoredSession> ReadSessionsInAnyOrder(DateTime? accessedSince, CancellationToken cancellationToken)
    {
        var cutoff = accessedSince == null ? null : _dialect.CutoffValue(accessedSince.Value);
        return ReadRows(transaction => _dialect.UnorderedListingCommand(transaction, cutoff), cancellationToken);
    }

    /// <summary>Payload bytes a listing sorts in memory at once where the dialect sorts the listing itself.</summary>
    private const long ListingRunBytes = 32L * 1024 * 1024;

    /// <summary>
    /// The table's estimated size from which a listing that can reads it in two parts at once: below two runs it is
    /// sorted in memory, and nothing is written. (The tests lower it, to take that path on small tables.)
    /// </summary>
    internal static long ReadInPartsFromBytes { get; set; } = 2 * ListingRunBytes;

    /// <summary>Ids per lookup statement (one parameter each, or one JSON array on SQLite).</summary>
    private const int IdsPerLookup = 1000;

    public IEnumerable<StoredSession> ReadIds(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        foreach (var chunk in ids.Chunk(IdsPerLookup))
        {
            foreach (var row in ReadRows(transaction =>
            {
                var command = Command(transaction, string.Empty);
                command.CommandText = $"SELECT namespace, accessed, created, data FROM {_dialect.QualifiedTable} WHERE {_dialect.NamespaceIn(command, chunk)} ORDER BY accessed";
                command.CommandTimeout = _dialect.ReadCommandTimeout;
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
            var command = Command(transaction, $"SELECT namespace, accessed, created, data FROM {_dialect.QualifiedTable} ORDER BY {_dialect.KeyColumn} DESC LIMIT {count}");
            command.CommandTimeout = _dialect.ReadCommandTimeout;
            return command;
        }, cancellationToken);

    private IEnumerable<StoredSession> ReadRows(Func<DbTransaction, DbCommand> listing, CancellationToken cancellationToken)
    {
        using var transaction = Guard("reading sessions", _dialect.BeginRead);
        using var command = Guard("reading sessions", () => listing(transaction));

        using var registration = cancellationToken.Register(() => command.Cancel());
        using var rows = _dialect.Rows(command, cancellationToken).GetEnumerator();
        while (Guard("reading sessions", rows, static rows => rows.MoveNext()))
        {
            yield return rows.Current;
        }
    }

    public AgeCount CountAccessedBefore(DateTime cutoff, CancellationToken cancellationToken)
    {
        using var transaction = Guard("counting sessions", _dialect.BeginRead);
        using var command = Command(transaction, $"SELECT count(*) FROM {_dialect.QualifiedTable} WHERE accessed < @cutoff");
        command.CommandTimeout = _dialect.ReadCommandTimeout;
        Add(command, "@cutoff", _dialect.CutoffValue(cutoff));
        using var registration = cancellationToken.Register(() => command.Cancel());
        var count = Guard("counting sessions", () =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        });
        transaction.Commit();
        return new AgeCount(count);
    }

    public void Dispose()
    {
        _dialect.Connection.Dispose();
        GC.SuppressFinalize(this);
    }

    private DbCommand Command(DbTransaction? transaction, string text) => _dialect.Command(transaction, text);

    private static void Add(DbCommand command, string name, object value) => SqlDialect.Add(command, name, value);

    /// <summary>
    /// A driver error, a connection the server cut off mid-response (MySqlConnector reports that as an end of stream,
    /// not as a DbException), or the driver's refusal to use a connection the server closed.
    /// </summary>
    private bool IsLostConnection(Exception ex) =>
        ex is DbException or IOException or System.Net.Sockets.SocketException || (ex is InvalidOperationException && _dialect.Connection.State != ConnectionState.Open);

    private T Guard<T>(string doing, Func<T> action) => Guard(doing, action, static a => a());

    /// <summary><see cref="Guard{T}(string, Func{T})"/> for a static lambda and its state, which allocates nothing per call.</summary>
    private T Guard<TState, T>(string doing, TState state, Func<TState, T> action)
    {
        try
        {
            return action(state);
        }
        catch (DbException ex) when (_dialect.Explain(ex) is { } reason)
        {
            throw new BeakerException("StoreReadFailed", BeakerErrorKind.ConnectionError, $"{Description}: {doing} failed: {reason}", ex);
        }
    }
}
