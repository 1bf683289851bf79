namespace BeakerHelpers.Core.Sessions;

/// <summary>
/// The keys Beaker itself keeps in every session (docs/storage.md#payload): its two UNIX times, the cookie's domain,
/// path and expiry, and (cookie sessions) the id. Everything else in a session is the app's.
/// </summary>
public static class BeakerKeys
{
    /// <summary>When the session was last saved (a UNIX time, the app server's clock): the age every store's cleanup goes by.</summary>
    public const string AccessedTime = "_accessed_time";

    /// <summary><see cref="AccessedTime"/> as a pickle holds it.</summary>
    public static ReadOnlySpan<byte> AccessedTimeBytes => "_accessed_time"u8;

    /// <summary>When the session was created (a UNIX time).</summary>
    public const string CreationTime = "_creation_time";

    public const string Domain = "_domain";
    public const string Path = "_path";
    public const string Expires = "_expires";
    public const string Id = "_id";

    /// <summary>All of them.</summary>
    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        AccessedTime, CreationTime, Domain, Path, Expires, Id,
    };

    /// <summary>Whether a key is one of Beaker's two UNIX times, which the listing shows as datetimes.</summary>
    public static bool IsUnixTime(string key) => key.Length == 14 && (key == AccessedTime || key == CreationTime);

    /// <summary>
    /// Whether a key is Beaker's own and holds nothing worth showing: the two times (shown as columns of their own),
    /// the id, and the domain, path and expiry while they hold Beaker's defaults (None, '/', None).
    /// </summary>
    public static bool IsBookkeeping(string key, object? value) => key switch
    {
        AccessedTime or CreationTime or Id => true,
        Domain or Expires => value is null || value is string { Length: 0 },
        Path => value is "/" or null,
        _ => false,
    };
}
