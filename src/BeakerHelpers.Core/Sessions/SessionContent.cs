namespace BeakerHelpers.Core.Sessions;

/// <summary>What a session holds besides Beaker's own bookkeeping (docs/statistics.md#empty).</summary>
public static class SessionContent
{
    /// <summary>The keys Beaker keeps in every session itself.</summary>
    public static IReadOnlySet<string> BeakerKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "_accessed_time", "_creation_time", "_domain", "_path", "_expires", "_id",
    };

    /// <summary>True when the session holds nothing the app stored: only Beaker's keys, or nothing at all.</summary>
    public static bool IsEmpty(SessionRecord session)
    {
        foreach (var (key, _) in session.Values)
        {
            if (!BeakerKeys.Contains(key))
            {
                return false;
            }
        }

        return true;
    }
}
