namespace BeakerHelpers.Core.Stores;

/// <summary>
/// Ctrl+C ended a removal: how many sessions its committed batches removed, and whether a batch was under way and
/// was rolled back (its transaction never committed), so that the closing warning says what is true
/// (docs/removal.md#stopping).
/// </summary>
public sealed class RemovalStoppedException : OperationCanceledException
{
    public RemovalStoppedException(long removed, bool rolledBack, CancellationToken cancellationToken)
        : base($"The removal was stopped after {removed} session(s) were removed.", cancellationToken)
    {
        Removed = removed;
        RolledBack = rolledBack;
    }

    /// <summary>Sessions removed by the batches committed before the stop.</summary>
    public long Removed { get; }

    /// <summary>Whether a batch was under way at the stop and rolled back whole.</summary>
    public bool RolledBack { get; }
}
