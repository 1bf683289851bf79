namespace BeakerHelpers.Core.Stores.Sql;

/// <summary>
/// How removal batches share a database with the app that writes to it: the time an adaptive batch aims at, and how
/// long the removal steps aside after each batch so that requests waiting for the lock get it (docs/removal.md#pacing).
/// </summary>
/// <param name="TargetSeconds">The time an adaptive batch aims at.</param>
/// <param name="Tolerance">A batch within this many seconds of the target keeps its size.</param>
/// <param name="PauseShare">The pause after a batch, as a share of the time the batch took.</param>
/// <param name="MinPause">The shortest pause after a batch that took at least as long (a quicker one is followed by a pause as long as itself).</param>
public sealed record BatchPacing(double TargetSeconds, double Tolerance, double PauseShare, TimeSpan MinPause)
{
    /// <summary>Adaptive batches never go below this many rows.</summary>
    public const int MinBatch = 500;

    /// <summary>Adaptive batches never go above this many rows.</summary>
    public const int MaxBatch = 100_000;

    /// <summary>
    /// A server that locks rows, not the database (PostgreSQL, MariaDB): requests touching other rows never wait, so
    /// batches may be long enough to spread their fixed cost (a commit) and follow each other at once.
    /// </summary>
    public static readonly BatchPacing RowLocks = new(0.6, 0.2, 0, TimeSpan.Zero);

    /// <summary>
    /// SQLite while the app writes: a batch holds the one write lock of the whole database, and every save the app
    /// makes meanwhile waits. Short batches keep that wait near a quarter of a second, and the pause lets the waiting
    /// saves in, as their busy handlers poll at most every 100 ms (docs/removal.md#pacing).
    /// </summary>
    public static readonly BatchPacing SharedDatabaseLock = new(0.2, 0.05, 0.5, TimeSpan.FromMilliseconds(150));

    /// <summary>
    /// SQLite while the app wrote nothing during the last pause: longer batches, and a pause still long enough for
    /// every busy handler to poll once, so that the first save to arrive gets in and turns the pacing back.
    /// </summary>
    public static readonly BatchPacing QuietDatabaseLock = new(0.6, 0.2, 0, TimeSpan.FromMilliseconds(110));

    /// <summary>
    /// The next batch's size: unchanged while a batch takes the target within the tolerance, else scaled by target /
    /// time taken, at most twice and at least half as large (growing faster overshot on MariaDB, whose batch time grows
    /// faster than its rows), between <see cref="MinBatch"/> and <paramref name="max"/>.
    /// </summary>
    public int NextBatchSize(int size, TimeSpan took, int max = MaxBatch)
    {
        var seconds = took.TotalSeconds;
        if (Math.Abs(seconds - TargetSeconds) <= Tolerance + 1e-9)
        {
            return size;
        }

        var factor = Math.Clamp(TargetSeconds / Math.Max(seconds, 1e-3), 0.5, 2.0);
        return (int)Math.Clamp(Math.Round(size * factor), MinBatch, max);
    }

    /// <summary>How long to step aside after a batch that took <paramref name="batch"/>.</summary>
    public TimeSpan PauseAfter(TimeSpan batch) =>
        TimeSpan.FromTicks(Math.Max((long)(batch.Ticks * PauseShare), Math.Min(batch.Ticks, MinPause.Ticks)));
}
