namespace BeakerHelpers.Core.Stores;

/// <summary>
/// The instants a store's statistics are counted against, in the store's own time (the app server's naive wall clock
/// for SQL rows, as the cutoffs of a listing are): the timeout's cutoff, if any, and the edges of the age histogram.
/// </summary>
public sealed record StatisticsBounds(DateTime? Cutoff, DateTime HourAgo, DateTime DayAgo, DateTime WeekAgo, DateTime MonthAgo);

/// <summary>
/// How big and how old a store is, computed without decoding (docs/statistics.md): by one aggregate query in a
/// database, in one walk of a folder tree.
/// </summary>
public sealed record StoreStatistics
{
    public required string Store { get; init; }

    /// <summary>Every row of the table (session files of a folder store).</summary>
    public long TotalRows { get; init; }

    /// <summary>Rows whose payload starts as a Beaker session's does (docs/statistics.md#sessions).</summary>
    public long SessionRows { get; init; }

    /// <summary>Rows of a Beaker cache sharing the table, and anything else that does not look like a session.</summary>
    public long OtherRows => TotalRows - SessionRows;

    /// <summary>Rows accessed at or after the cutoff; null without a timeout.</summary>
    public long? Active { get; init; }

    /// <summary>Rows accessed before the cutoff: what Remove-BeakerSession with the same timeout removes; null without one.</summary>
    public long? Old => Active is { } active ? TotalRows - active : null;

    public DateTime? OldestAccess { get; init; }

    public DateTime? NewestAccess { get; init; }

    public long PayloadBytes { get; init; }

    public long LargestPayload { get; init; }

    public double MeanPayload => TotalRows == 0 ? 0 : (double)PayloadBytes / TotalRows;

    public long UnderOneHour { get; init; }

    public long OneHourToOneDay { get; init; }

    public long OneToSevenDays { get; init; }

    public long SevenToThirtyDays { get; init; }

    public long OlderThanThirtyDays { get; init; }

    /// <summary>Folder stores: lock files in the lock tree; null for tables.</summary>
    public long? LockFiles { get; init; }

    /// <summary>Folder stores: half-written '.cache.temp' files; null for tables.</summary>
    public long? TempFiles { get; init; }

    /// <summary>Redis: session keys that expire by themselves (Beaker 1.10+ with a timeout sets a TTL); null elsewhere.</summary>
    public long? KeysWithTtl { get; init; }

    /// <summary>memcached: the bytes every server holds (sessions and the app's cache), from stats; null for other stores.</summary>
    public long? ServerBytes { get; init; }

    /// <summary>memcached: the memory the servers may use (limit_maxbytes, summed); null for other stores.</summary>
    public long? ServerLimitBytes { get; init; }

    /// <summary>memcached: items the servers evicted to make room, since they started; null for other stores.</summary>
    public long? Evictions { get; init; }

    /// <summary>memcached: the same figures server by server, with the sessions each holds; null for other stores.</summary>
    public IReadOnlyList<MemcachedServerFigures>? Servers { get; init; }

    /// <summary>
    /// The histogram from counts of rows accessed at or after each edge (as a database counts them in one pass).
    /// </summary>
    public static StoreStatistics FromCumulative(string store, long total, long sessions, long? active, DateTime? oldest, DateTime? newest,
        long bytes, long largest, long sinceHour, long sinceDay, long sinceWeek, long sinceMonth) => new()
    {
        Store = store,
        TotalRows = total,
        SessionRows = sessions,
        Active = active,
        OldestAccess = oldest,
        NewestAccess = newest,
        PayloadBytes = bytes,
        LargestPayload = largest,
        UnderOneHour = sinceHour,
        OneHourToOneDay = sinceDay - sinceHour,
        OneToSevenDays = sinceWeek - sinceDay,
        SevenToThirtyDays = sinceMonth - sinceWeek,
        OlderThanThirtyDays = total - sinceMonth,
    };
}

/// <summary>
/// Counts rows one at a time into <see cref="StoreStatistics"/>, for the stores (and the passes) that see every row
/// anyway: a folder walk, or a listing that decodes every session.
/// </summary>
public sealed class StoreStatisticsTally
{
    private readonly StatisticsBounds _bounds;
    private long _total, _sessions, _active, _bytes, _largest, _hour, _day, _week, _month, _undated;
    private DateTime? _oldest, _newest;

    public StoreStatisticsTally(StatisticsBounds bounds) => _bounds = bounds;

    /// <param name="accessed">The row's access time, in the store's own time as the bounds are.</param>
    public void Add(DateTime accessed, long bytes, bool isSession)
    {
        _total++;
        _sessions += isSession ? 1 : 0;
        _bytes += bytes;
        _largest = Math.Max(_largest, bytes);
        _oldest = _oldest is { } o && o <= accessed ? o : accessed;
        _newest = _newest is { } n && n >= accessed ? n : accessed;
        _active += _bounds.Cutoff is { } cutoff && accessed >= cutoff ? 1 : 0;
        _hour += accessed >= _bounds.HourAgo ? 1 : 0;
        _day += accessed >= _bounds.DayAgo ? 1 : 0;
        _week += accessed >= _bounds.WeekAgo ? 1 : 0;
        _month += accessed >= _bounds.MonthAgo ? 1 : 0;
    }

    /// <summary>
    /// A session whose age cannot be known (Redis keeps it inside an encrypted payload): counted with its size, never
    /// as old (a removal leaves it), and in no age bucket.
    /// </summary>
    public void AddUndated(long bytes)
    {
        _total++;
        _sessions++;
        _undated++;
        _active++;
        _bytes += bytes;
        _largest = Math.Max(_largest, bytes);
    }

    public StoreStatistics Result(string store) => StoreStatistics.FromCumulative(store, _total, _sessions, _bounds.Cutoff == null ? null : _active,
        _oldest, _newest, _bytes, _largest, _hour, _day, _week, _month) with { OlderThanThirtyDays = _total - _undated - _month };
}

/// <summary>
/// One memcached server of a store: the sessions it holds and their bytes (as stored), the bytes it holds in all (the
/// app's cache too), the memory it may use (limit_maxbytes), and the items it evicted since it started.
/// </summary>
public sealed record MemcachedServerFigures(string Server, long Sessions, long SessionBytes, long Bytes, long LimitBytes, long Evictions);
