using System.Diagnostics;
using BeakerHelpers.Core.Stores;

namespace BeakerHelpers.Core.Stores;

/// <summary>
/// Counts a removal's sessions and batches and times the batches: the one tally of every store's removal, whose
/// <see cref="Result"/> the cmdlet reports.
/// </summary>
internal sealed class BatchTally
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _batchStarted;

    public long Removed { get; private set; }

    public int Batches { get; private set; }

    public TimeSpan Longest { get; private set; }

    public TimeSpan LastBatch { get; private set; }

    /// <summary>Called once a batch's transaction has begun (SQLite: holds the write lock), so that a batch's time is the time it holds the app up, not the wait for the lock.</summary>
    public void Start()
    {
        _batchStarted = _clock.Elapsed;
        InDoubt = 0;
    }

    /// <summary>
    /// Rows the batch under way deleted and is committing: if the connection is lost now, the server may have
    /// committed them or not, and the client cannot tell.
    /// </summary>
    public long InDoubt { get; private set; }

    public void Committing(long deleted) => InDoubt = deleted;

    public void Finish(long removed)
    {
        InDoubt = 0;
        Removed += removed;
        Batches++;
        LastBatch = _clock.Elapsed - _batchStarted;
        Longest = LastBatch > Longest ? LastBatch : Longest;
    }

    public RemovalResult Result() => new(Removed, Batches, Longest, _clock.Elapsed);
}
