namespace BeakerHelpers.Core.Stores;

/// <summary>
/// How a store's removal runs: the batch size (and whether it adapts to the store's pace, docs/removal.md#pacing),
/// progress (rows removed so far), and Ctrl+C.
/// </summary>
public sealed record RemovalOptions(int BatchSize, bool Adaptive = false, Action<long>? Progress = null, CancellationToken CancellationToken = default);
