using System.Data.Common;

namespace BeakerHelpers.Core.Stores.Sql;

/// <summary>
/// Removal from a SQL table: one batch runner (<see cref="RunBatches"/>) that owns each batch's transaction, its
/// DELETE, commit, tally and failure, and three ways of choosing the next batch's rows: by searching the old rows in
/// key order, by windows of keys, by ids (docs/removal.md).
/// </summary>
public sealed partial class SqlSessionStore
{
    /// <summary>
    /// Walks the table once in key order (Beaker's tables have no index on accessed, so a query per batch that
    /// searched the whole table would cost a scan per batch). Each batch finds the key of the batchSize-th old
    /// row after the previous batch, without any lock, and deletes the old rows up to it, re-checking the age, in its
    /// own transaction. With an integer key the search looks at most <see cref="ScanWindow"/> keys ahead, so a long
    /// run of live sessions never makes one long batch. With <paramref name="adaptive"/> the batch size follows the
    /// time batches take (see <see cref="BatchPacing.NextBatchSize"/>).
    /// </summary>
    public RemovalResult RemoveAccessedBefore(DateTime cutoff, RemovalOptions options)
    {
        var (batchSize, adaptive, progress, cancellationToken) = options;
        CheckBatchSize(batchSize);
        var cutoffValue = _dialect.CutoffValue(cutoff);
        var integerKey = _dialect.KeyIsInteger;
        if (adaptive && integerKey && _dialect.DeleteLocksOnlyDeletedRows)
        {
            return RemoveByKeyWindows(cutoffValue, batchSize, progress, cancellationToken);
        }

        // The key of the last row looked at (null: none yet, for a string key). Rows added later have higher
        // keys and are new sessions, so an integer walk can stop at today's highest key.
        object? last = integerKey ? KeyBound("min") - 1 : null;
        var highest = integerKey ? KeyBound("max") : 0;
        Action<TimeSpan>? resize = adaptive ? took => batchSize = _dialect.Pacing.NextBatchSize(batchSize, took) : null;
        return RunBatches(progress, resize, () =>
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var after = last;
                var upTo = LastOldKey(after, integerKey, batchSize, cutoffValue);
                if (upTo != null)
                {
                    last = integerKey ? Convert.ToInt64(upTo, System.Globalization.CultureInfo.InvariantCulture) : upTo;
                    return delete =>
                    {
                        Add(delete, "@upTo", upTo);
                        Add(delete, "@cutoff", cutoffValue);
                        if (after == null)
                        {
                            return $"{_dialect.KeyColumn} <= @upTo AND accessed < @cutoff";
                        }

                        Add(delete, "@last", after);
                        return $"{_dialect.KeyColumn} > @last AND {_dialect.KeyColumn} <= @upTo AND accessed < @cutoff";
                    };
                }

                if (!integerKey || (long)last! + ScanWindow >= highest)
                {
                    return null;
                }

                // Nothing old in this window of keys: move on without taking any lock.
                last = (long)last + ScanWindow;
            }
        }, cancellationToken);
    }

    /// <summary>The key of the <paramref name="batchSize"/>-th old row after <paramref name="after"/> (within one scan window of an integer key), or null.</summary>
    private object? LastOldKey(object? after, bool integerKey, int batchSize, object cutoffValue)
    {
        using var bound = Command(null, $"SELECT max(k) FROM (SELECT {_dialect.KeyColumn} AS k FROM {_dialect.QualifiedTable} WHERE " +
            (after == null ? string.Empty : $"{_dialect.KeyColumn} > @last AND ") +
            (integerKey ? $"{_dialect.KeyColumn} <= @window AND " : string.Empty) +
            $"accessed < @cutoff ORDER BY {_dialect.KeyColumn} LIMIT {batchSize}) batch");
        if (after != null)
        {
            Add(bound, "@last", after);
        }

        if (integerKey)
        {
            Add(bound, "@window", (long)after! + ScanWindow);
        }

        Add(bound, "@cutoff", cutoffValue);
        var value = bound.ExecuteScalar();
        return value is null or DBNull ? null : value;
    }

    /// <summary>
    /// Deletes the old rows of one window of keys per batch, the window starting at <paramref name="width"/> keys and
    /// following the time batches take (see <see cref="BatchPacing.NextBatchSize"/>, up to <see cref="MaxKeyWindow"/> keys).
    /// </summary>
    private RemovalResult RemoveByKeyWindows(object cutoffValue, int width, Action<long>? progress, CancellationToken cancellationToken)
    {
        var last = KeyBound("min") - 1;
        var highest = KeyBound("max");
        return RunBatches(progress, took => width = _dialect.Pacing.NextBatchSize(width, took, MaxKeyWindow), () =>
        {
            if (last >= highest)
            {
                return null;
            }

            var (from, upTo) = (last, Math.Min(last + width, highest));
            last = upTo;
            return delete =>
            {
                Add(delete, "@last", from);
                Add(delete, "@upTo", upTo);
                Add(delete, "@cutoff", cutoffValue);
                return $"{_dialect.KeyColumn} > @last AND {_dialect.KeyColumn} <= @upTo AND accessed < @cutoff";
            };
        }, cancellationToken);
    }

    private long KeyBound(string function) => Convert.ToInt64(
        Guard("finding the table's keys", () => _dialect.Scalar($"SELECT coalesce({function}({_dialect.KeyColumn}), 0) FROM {_dialect.QualifiedTable}")),
        System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>How many keys one search looks ahead at most.</summary>
    private const long ScanWindow = 100_000;

    /// <summary>A key window holds live rows too, which cost less than old ones: it may grow wider than a batch of rows.</summary>
    public const int MaxKeyWindow = 1_000_000;

    public RemovalResult RemoveIds(IEnumerable<string> ids, RemovalOptions options, DateTime? accessedBefore = null)
    {
        var (batchSize, adaptive, progress, cancellationToken) = options;
        CheckBatchSize(batchSize);
        using var next = ids.GetEnumerator();
        var cutoff = accessedBefore is { } before ? _dialect.CutoffValue(before) : null;
        Action<TimeSpan>? resize = adaptive ? took => batchSize = _dialect.Pacing.NextBatchSize(batchSize, took) : null;
        return RunBatches(progress, resize, () =>
        {
            var batch = new List<string>(Math.Min(batchSize, 10_000));
            while (batch.Count < batchSize && next.MoveNext())
            {
                batch.Add(next.Current);
            }

            if (batch.Count == 0)
            {
                return null;
            }

            return delete =>
            {
                if (cutoff == null)
                {
                    return _dialect.NamespaceIn(delete, batch);
                }

                Add(delete, "@cutoff", cutoff);
                return _dialect.NamespaceIn(delete, batch) + " AND accessed < @cutoff";
            };
        }, cancellationToken);
    }

    /// <summary>
    /// Runs batches until <paramref name="next"/> has none: it chooses a batch's rows outside any transaction and gives
    /// the WHERE clause of its DELETE (binding its parameters to the command). Each batch is one transaction; a
    /// failing one rolls back alone, and the error says how much the earlier batches removed. After each batch,
    /// <paramref name="afterBatch"/> hears its time, the progress its running total, and the pacing may pause.
    /// </summary>
    private RemovalResult RunBatches(Action<long>? progress, Action<TimeSpan>? afterBatch, Func<Func<DbCommand, string>?> next, CancellationToken cancellationToken)
    {
        var tally = new BatchTally();
        while (true)
        {
            var underWay = false;
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (next() is not { } where)
                {
                    break;
                }

                using var transaction = _dialect.BeginBatch(cancellationToken);
                underWay = true;
                tally.Start();
                using var delete = Command(transaction, string.Empty);
                delete.CommandText = $"DELETE FROM {_dialect.QualifiedTable} WHERE {where(delete)}";
                var deleted = _dialect.ExecuteBatch(delete, cancellationToken);
                tally.Committing(deleted);
                _dialect.CommitBatch(transaction, cancellationToken);
                underWay = false;
                tally.Finish(deleted);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is not RemovalStoppedException)
            {
                // Ctrl+C, seen between batches or cutting a wait: a batch under way never committed, and its transaction
                // is rolled back as it is disposed.
                throw new RemovalStoppedException(tally.Removed, underWay, cancellationToken);
            }
            catch (Exception ex) when (IsLostConnection(ex))
            {
                throw RemovalFailed(tally, ex);
            }

            afterBatch?.Invoke(tally.LastBatch);
            progress?.Invoke(tally.Removed);
            try
            {
                _dialect.StepAside(tally.LastBatch, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new RemovalStoppedException(tally.Removed, rolledBack: false, cancellationToken);
            }
        }

        return tally.Result();
    }

    private static void CheckBatchSize(int batchSize)
    {
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A batch holds at least one row.");
        }
    }

    private BeakerException RemovalFailed(BatchTally tally, Exception ex)
    {
        var lasting = ex is DbException failure ? _dialect.LastingFailure(failure) : null;
        var locked = ex is DbException db && _dialect.IsLockTimeout(db);
        var inDoubt = tally.InDoubt > 0
            ? $" (and perhaps the {tally.InDoubt} of the batch whose commit was under way: the connection was lost before the server said whether it committed)"
            : string.Empty;
        var done = tally.Removed == 0 && tally.InDoubt == 0
            ? $"Nothing was removed from {Description}"
            : $"Removing sessions from {Description} stopped after {tally.Removed} session(s) were removed in {tally.Batches} batch(es){inDoubt}";
        var reason = locked
            ? "another connection held the database's write lock the whole time a batch waited for it (the app in a long transaction, a stuck process, or another cleanup)"
            : (ex is DbException known ? _dialect.Explain(known) ?? known.Message : $"the connection was lost ({ex.Message})").TrimEnd('.');
        return new(locked ? "StoreLocked" : "RemovalFailed", lasting == null ? BeakerErrorKind.ConnectionError : BeakerErrorKind.PermissionDenied,
            $"{done}: {reason}. The store is consistent (a batch is committed whole or not at all); " +
            (lasting == null ? "running the command again is safe and finishes the job." : $"running the command again will not help until {lasting}."), ex);
    }

}
