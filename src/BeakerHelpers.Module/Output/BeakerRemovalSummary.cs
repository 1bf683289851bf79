namespace BeakerHelpers.Module.Output;

/// <summary>What Remove-BeakerSession -PassThru reports for one store.</summary>
public sealed class BeakerRemovalSummary
{
    public const string TypeName = "BeakerHelpers.RemovalSummary";

    /// <summary>The type name of a summary that removed lock files, half-written files or folders too (its view shows them).</summary>
    public const string FolderTypeName = "BeakerHelpers.RemovalSummary#Folder";

    internal BeakerRemovalSummary(string store, DateTime? cutoff, string? timeZone, long requested, Core.Stores.RemovalResult result, long? empty = null)
    {
        Empty = empty;
        Store = store;
        Cutoff = cutoff;
        TimeZone = timeZone;
        Requested = requested;
        Removed = result.Removed;
        Batches = result.Batches;
        LongestBatch = result.LongestBatch;
        Duration = result.Duration;
        LockFiles = result.LockFiles;
        TempFiles = result.TempFiles;
        Folders = result.Folders;
    }

    public string Store { get; }

    /// <summary>Sessions last accessed before this (the app server's wall-clock time) were removed; null when removed by id.</summary>
    public DateTime? Cutoff { get; }

    /// <summary>The zone the cutoff is in; null when removed by id.</summary>
    public string? TimeZone { get; }

    /// <summary>How many sessions were to go: older than the cutoff when counted, or the number of ids given.</summary>
    public long Requested { get; }

    public long Removed { get; }

    /// <summary>-Empty: how many empty sessions older than the cutoff were found (some may have got content before their turn); null otherwise.</summary>
    public long? Empty { get; }

    public int Batches { get; }

    public TimeSpan LongestBatch { get; }

    public TimeSpan Duration { get; }

    /// <summary>File stores: Beaker's lock files removed, those of the removed sessions and old unused ones.</summary>
    public long LockFiles { get; }

    /// <summary>File stores: half-written '.cache.temp' files older than the cutoff.</summary>
    public long TempFiles { get; }

    /// <summary>File stores: folders left empty.</summary>
    public long Folders { get; }
}
