namespace BeakerHelpers.Module.Output;

/// <summary>What Remove-BeakerSession -PassThru reports for one store.</summary>
public sealed class BeakerRemovalSummary
{
    public const string TypeName = "BeakerHelpers.RemovalSummary";

    internal BeakerRemovalSummary(string store, DateTime? cutoff, string? timeZone, long requested, long removed, int batches, TimeSpan longestBatch, TimeSpan duration)
    {
        Store = store;
        Cutoff = cutoff;
        TimeZone = timeZone;
        Requested = requested;
        Removed = removed;
        Batches = batches;
        LongestBatch = longestBatch;
        Duration = duration;
    }

    public string Store { get; }

    /// <summary>Sessions last accessed before this (the app server's wall-clock time) were removed; null when removed by id.</summary>
    public DateTime? Cutoff { get; }

    /// <summary>The zone the cutoff is in; null when removed by id.</summary>
    public string? TimeZone { get; }

    /// <summary>How many sessions were to go: older than the cutoff when counted, or the number of ids given.</summary>
    public long Requested { get; }

    public long Removed { get; }

    public int Batches { get; }

    public TimeSpan LongestBatch { get; }

    public TimeSpan Duration { get; }
}
