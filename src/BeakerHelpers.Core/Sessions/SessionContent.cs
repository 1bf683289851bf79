namespace BeakerHelpers.Core.Sessions;

/// <summary>What a session holds besides Beaker's own bookkeeping (docs/statistics.md#empty).</summary>
public static class SessionContent
{
    /// <summary>True when the session holds nothing the app stored: only Beaker's keys, or nothing at all.</summary>
    public static bool IsEmpty(SessionRecord session)
    {
        foreach (var (key, _) in session.Values)
        {
            if (!BeakerKeys.All.Contains(key))
            {
                return false;
            }
        }

        return true;
    }
}
