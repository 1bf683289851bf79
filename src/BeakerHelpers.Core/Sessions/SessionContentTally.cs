using System.Collections.Specialized;
using BeakerHelpers.Core.Stores;

namespace BeakerHelpers.Core.Sessions;

/// <summary>
/// What Measure-BeakerSession -Detailed learns by decoding every session once: the empty ones, the unreadable ones,
/// and how often each key occurs. Memory stays bounded: at most <see cref="MaxKeys"/> distinct keys are counted.
/// </summary>
public sealed class SessionContentTally
{
    /// <summary>Distinct keys counted at most; a store of random keys cannot grow the table past this.</summary>
    public const int MaxKeys = 10_000;

    /// <summary>How many of the most common keys are reported.</summary>
    public const int Reported = 10;

    private readonly Dictionary<string, long> _keys = new(StringComparer.Ordinal);

    public long Empty { get; private set; }

    public long Unreadable { get; private set; }

    public void Add(SessionReadResult result)
    {
        if (result.Error != null)
        {
            Unreadable++;
            return;
        }

        if (result.Session is not { } session)
        {
            return;
        }

        if (SessionContent.IsEmpty(session))
        {
            Empty++;
            return;
        }

        foreach (var (key, _) in session.Values)
        {
            if (BeakerKeys.All.Contains(key))
            {
                continue;
            }

            if (_keys.TryGetValue(key, out var count))
            {
                _keys[key] = count + 1;
            }
            else if (_keys.Count < MaxKeys)
            {
                _keys[key] = 1;
            }
        }
    }

    public OrderedDictionary CommonKeys()
    {
        var common = new OrderedDictionary(StringComparer.Ordinal);
        foreach (var (key, count) in _keys.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).Take(Reported))
        {
            common.Add(key, count);
        }

        return common;
    }

    /// <summary>
    /// Measure-BeakerSession -Detailed: one pass that decodes every row of <paramref name="store"/> into this tally. Where
    /// the store's own figures would take a second scan of a table, the same pass counts them (exactly: a row is a session
    /// when it decodes as one, or fails to); a folder or Redis store is measured as usual.
    /// </summary>
    public static (StoreStatistics Statistics, SessionContentTally Content) Measure(ISessionStore store, SessionReader reader, StatisticsBounds bounds, CancellationToken cancellationToken)
    {
        var content = new SessionContentTally();
        var tally = store.MeasuresInDatabase ? new StoreStatisticsTally(bounds) : null;
        foreach (var (row, result) in reader.ReadWithRows(store, null, cancellationToken, anyOrder: true))
        {
            tally?.Add(row.Accessed, row.Data.LongLength, isSession: !result.IsSkipped);
            content.Add(result);
        }

        return (tally?.Result(store.Description) ?? store.Measure(bounds, cancellationToken), content);
    }
}
