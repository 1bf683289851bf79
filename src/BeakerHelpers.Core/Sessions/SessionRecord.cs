using BeakerHelpers.Core.Payload;

namespace BeakerHelpers.Core.Sessions;

/// <summary>
/// One decoded session. <see cref="Values"/> holds the session's own keys; '_accessed_time' and
/// '_creation_time' are local DateTimes, as the original tool's datetime.fromtimestamp gave them.
/// </summary>
public sealed class SessionRecord
{
    public SessionRecord(string id, DateTime accessed, DateTime? created, string store, PayloadLayout layout, IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        Id = id;
        Accessed = accessed;
        Created = created;
        Store = store;
        Layout = layout;
        Values = values;
    }

    public string Id { get; }

    /// <summary>The row's accessed column: the end of the last request that saved the session (server-local time).</summary>
    public DateTime Accessed { get; }

    /// <summary>The row's created column, or for files the session's _creation_time; null when neither exists.</summary>
    public DateTime? Created { get; }

    /// <summary>The store's description, safe to show.</summary>
    public string Store { get; }

    public PayloadLayout Layout { get; }

    public IReadOnlyList<KeyValuePair<string, object?>> Values { get; }

    /// <summary>Redis: how long until the session's key expires by itself; null when it never does.</summary>
    public TimeSpan? ExpiresIn { get; init; }
}

/// <summary>What reading one row gave: a session, a row that is not a session, or an error for that row.</summary>
public readonly record struct SessionReadResult(string Id, SessionRecord? Session, PayloadException? Error)
{
    public bool IsSkipped => Session == null && Error == null;
}
