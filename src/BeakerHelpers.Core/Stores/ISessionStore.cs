namespace BeakerHelpers.Core.Stores;

/// <summary>One stored row: the session id (namespace), the row's times (naive local time of the app server) and the payload.</summary>
public sealed record StoredSession(string Id, DateTime Accessed, DateTime Created, byte[] Data);

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
}
