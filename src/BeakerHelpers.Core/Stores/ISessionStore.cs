namespace BeakerHelpers.Core.Stores;

/// <summary>One stored row: the session id (namespace), the row's times (naive local time of the app server) and the payload.</summary>
public sealed record StoredSession(string Id, DateTime Accessed, DateTime Created, byte[] Data);

/// <summary>What one cleanup did: rows removed, in how many batches, and the longest batch.</summary>
public sealed record RemovalResult(long Removed, int Batches, TimeSpan LongestBatch, TimeSpan Duration);

/// <summary>A place Beaker keeps sessions in. One implementation per backend, under Stores/.</summary>
public interface ISessionStore : IDisposable
{
    /// <summary>What the store is, safe to show (no password): 'sqlite /srv/app/sessions.db table beaker_cache'.</summary>
    string Description { get; }

    /// <summary>
    /// Streams the rows ordered by accessed, oldest first; with <paramref name="accessedSince"/>, only rows
    /// whose accessed time is at or after it (naive local time, as the rows hold).
    /// </summary>
    IEnumerable<StoredSession> ReadSessions(DateTime? accessedSince, CancellationToken cancellationToken);

    /// <summary>How many rows were last accessed before <paramref name="cutoff"/>.</summary>
    long CountAccessedBefore(DateTime cutoff, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the rows last accessed before <paramref name="cutoff"/>, at most <paramref name="batchSize"/>
    /// per statement, each batch its own short transaction that re-checks the age, so a session saved
    /// meanwhile stays. Cancellation stops between batches. <paramref name="progress"/> gets the running total.
    /// The store must have been opened for writing. With <paramref name="adaptive"/>, <paramref name="batchSize"/> is
    /// only the first batch's size: later ones grow or shrink with the time batches take.
    /// </summary>
    RemovalResult RemoveAccessedBefore(DateTime cutoff, int batchSize, CancellationToken cancellationToken, Action<long>? progress = null, bool adaptive = false);

    /// <summary>
    /// Removes the sessions with these ids whatever their age (the caller chose them), at most
    /// <paramref name="batchSize"/> per batch, each batch its own transaction. Ids not in the store are not counted.
    /// </summary>
    RemovalResult RemoveIds(IReadOnlyList<string> ids, int batchSize, CancellationToken cancellationToken, Action<long>? progress = null);
}
