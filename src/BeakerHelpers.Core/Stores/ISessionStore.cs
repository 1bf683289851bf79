namespace BeakerHelpers.Core.Stores;

/// <summary>What a store's bytes hold (docs/storage.md#payload): the pickled namespace dict {'session': V}, or the pickled value V alone.</summary>
public enum StoredPayload
{
    /// <summary>SQL tables and the file backend.</summary>
    NamespaceDict,

    /// <summary>The dbm backend, which stores V under the key 'session'; memcached's pickled values.</summary>
    SessionValue,

    /// <summary>V as text (an encrypted session, or Beaker 1.12's base64), as memcached's client libraries store a str.</summary>
    SessionText,
}

/// <summary>
/// One stored session: its id (namespace), its times (naive local time of the app server) and the payload.
/// <see cref="Created"/> is null where the store keeps no creation time apart from the session's own _creation_time (files).
/// </summary>
public sealed record StoredSession(string Id, DateTime Accessed, DateTime? Created, byte[] Data)
{
    public StoredPayload Payload { get; init; } = StoredPayload.NamespaceDict;

    /// <summary>Why this session's bytes could not be read (an unreadable file, say); reported for it alone.</summary>
    public Payload.PayloadException? Problem { get; init; }

    /// <summary>Redis: how long until the key expires by itself; null when it never does, or the store has no such thing.</summary>
    public TimeSpan? ExpiresIn { get; init; }
}

/// <summary>
/// Sessions last accessed before a cutoff, and those the store could not date (Redis keeps a session's age only inside
/// its payload: an encrypted one without the keys); a removal by age leaves the undated ones.
/// </summary>
public readonly record struct AgeCount(long Older, long Undated = 0)
{
    /// <summary>The count of sessions whose age lives in their payload: UNIX times, null where it could not be read.</summary>
    public static AgeCount Of(IEnumerable<double?> accessedTimes, double before)
    {
        long older = 0, undated = 0;
        foreach (var accessed in accessedTimes)
        {
            if (accessed is not { } at)
            {
                undated++;
            }
            else if (at < before)
            {
                older++;
            }
        }

        return new AgeCount(older, undated);
    }
}

/// <summary>What one cleanup did: rows removed, in how many batches, and the longest batch.</summary>
public sealed record RemovalResult(long Removed, int Batches, TimeSpan LongestBatch, TimeSpan Duration)
{
    /// <summary>File stores: lock files removed along with their sessions or because they were old and unused.</summary>
    public long LockFiles { get; init; }

    /// <summary>File stores: half-written '.cache.temp' files older than the cutoff.</summary>
    public long TempFiles { get; init; }

    /// <summary>File stores: folders left empty.</summary>
    public long Folders { get; init; }
}

/// <summary>A place Beaker keeps sessions in. One implementation per backend, under Stores/.</summary>
public interface ISessionStore : IDisposable
{
    /// <summary>What the store is, safe to show (no password): 'sqlite /srv/app/sessions.db table beaker_cache'.</summary>
    string Description { get; }

    /// <summary>
    /// True for file stores, whose cleanup also removes what Beaker leaves behind beside the sessions (old lock
    /// files, half-written files, empty folders) and so is worth running even when no session is old.
    /// </summary>
    bool CleansLeftovers => false;

    /// <summary>
    /// Streams the rows, SQL tables ordered by accessed, oldest first, file trees in folder order; with <paramref name="accessedSince"/>, only rows
    /// whose accessed time is at or after it (naive local time, as the rows hold).
    /// </summary>
    IEnumerable<StoredSession> ReadSessions(DateTime? accessedSince, CancellationToken cancellationToken);

    /// <summary>
    /// Every row as <see cref="ReadSessions"/> gives it, in whatever order the store reads fastest: for a pass that counts
    /// (Measure-BeakerSession -Detailed, Test-BeakerConfiguration -Scan) rather than lists, which then costs no sort.
    /// </summary>
    IEnumerable<StoredSession> ReadSessionsInAnyOrder(DateTime? accessedSince, CancellationToken cancellationToken) => ReadSessions(accessedSince, cancellationToken);

    /// <summary>
    /// The stored sessions with these ids, looked up by key (never by listing the store); ids the store does not hold
    /// are left out. SQL tables give each chunk of ids oldest first.
    /// </summary>
    IEnumerable<StoredSession> ReadIds(IReadOnlyList<string> ids, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the store's access times are the app server's naive wall clock (SQL tables), which a cutoff must be
    /// computed in; file stores use file times, which are absolute.
    /// </summary>
    bool TimesAreLocal => false;

    /// <summary>Whether sessions may expire by themselves (Redis keys with a TTL), so that each carries its time to live.</summary>
    bool SessionsExpire => false;

    /// <summary>A few rows, cheaply (the newest inserted where the store can tell), for <see cref="Sessions.AppClock"/>.</summary>
    IEnumerable<StoredSession> SampleSessions(int count, CancellationToken cancellationToken) => Array.Empty<StoredSession>();

    /// <summary>
    /// Whether <see cref="Measure"/> runs in a database (one aggregate query), so that a pass that reads every row
    /// anyway can count the same figures itself instead of asking the database to scan the table again.
    /// </summary>
    bool MeasuresInDatabase => false;

    /// <summary>How many rows there are, how big and how old, without decoding any (docs/statistics.md).</summary>
    StoreStatistics Measure(StatisticsBounds bounds, CancellationToken cancellationToken);

    /// <summary>How many rows were last accessed before <paramref name="cutoff"/>, and how many could not be dated.</summary>
    AgeCount CountAccessedBefore(DateTime cutoff, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the rows last accessed before <paramref name="cutoff"/>, at most <paramref name="batchSize"/>
    /// per statement, each batch its own short transaction that re-checks the age, so a session saved
    /// meanwhile stays. Cancellation stops between batches. <paramref name="progress"/> gets the running total.
    /// The store must have been opened for writing. With <paramref name="adaptive"/>, <paramref name="batchSize"/> is
    /// only the first batch's size: later ones grow or shrink with the time batches take.
    /// </summary>
    RemovalResult RemoveAccessedBefore(DateTime cutoff, RemovalOptions options);

    /// <summary>
    /// Removes the sessions with these ids (the caller chose them), at most <paramref name="batchSize"/> per batch, each
    /// batch its own transaction; ids not in the store are not counted. Whatever their age, unless
    /// <paramref name="accessedBefore"/> is given: then a session accessed since (saved meanwhile) stays. With
    /// <paramref name="adaptive"/>, batches follow the time they take as an age removal's do.
    /// </summary>
    RemovalResult RemoveIds(IEnumerable<string> ids, RemovalOptions options, DateTime? accessedBefore = null);
}
