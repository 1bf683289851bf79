using StackExchange.Redis;

namespace BeakerHelpers.Core.Stores.Redis;

/// <summary>Removal from Redis: pages of keys, each old session deleted only while it holds the value read (docs/redis.md).</summary>
public sealed partial class RedisSessionStore
{
    /// <summary>
    /// Walks the keys once; each page's sessions older than the cutoff go in one pipelined round of compare-and-delete
    /// scripts, each deleting its key only while it holds the value just read. Sessions that cannot be dated are left.
    /// </summary>
    public RemovalResult RemoveAccessedBefore(DateTime cutoff, RemovalOptions options)
    {
        var (batchSize, adaptive, progress, cancellationToken) = options;
        var before = Epoch(cutoff);
        var tally = new BatchTally();
        long undated = 0;
        using var pages = Pages(cancellationToken).GetEnumerator();
        while (NextPage(pages, tally.Removed))
        {
            var page = pages.Current;
            var old = new List<(RedisKey Key, byte[] Value)>();
            foreach (var (key, value) in page)
            {
                if (_accessedOf(value) is not { } accessed)
                {
                    undated++;
                }
                else if (accessed < before)
                {
                    old.Add((key, value));
                }
            }

            foreach (var chunk in old.Chunk(Math.Max(1, batchSize)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                tally.Start();
                tally.Finish(DeleteUnchanged(chunk, tally.Removed, cancellationToken));
                progress?.Invoke(tally.Removed);
            }
        }

        if (undated > 0)
        {
            _problems?.Invoke(new StoreProblem("SessionNotDated",
                $"{undated} session(s) in {Description} were left alone: their age is inside their payload, which could not be read (encrypted without encrypt_key and validate_key, or corrupt).",
                Description, IsError: false));
        }

        return tally.Result();
    }

    public RemovalResult RemoveIds(IEnumerable<string> ids, RemovalOptions options, DateTime? accessedBefore = null)
    {
        var (batchSize, adaptive, progress, cancellationToken) = options;
        var tally = new BatchTally();
        var before = accessedBefore is { } cutoff ? Epoch(cutoff) : (double?)null;
        foreach (var chunk in ids.Select(KeyOf).Chunk(Math.Clamp(batchSize, 1, Page)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            tally.Start();
            var keys = chunk.ToList();
            if (before == null)
            {
                tally.Finish(Guard(() => _database.KeyDelete(keys.ToArray()), tally.Removed));
            }
            else
            {
                var values = Get(keys, cancellationToken);
                var old = keys.Zip(values).Where(kv => kv.Second is { } v && _accessedOf(v) is { } at && at < before).Select(kv => (kv.First, kv.Second!)).ToList();
                tally.Finish(DeleteUnchanged(old, tally.Removed, cancellationToken));
            }

            progress?.Invoke(tally.Removed);
        }

        return tally.Result();
    }

    /// <summary>The next page of a removal's walk; a failure to read it says how many sessions went before.</summary>
    private bool NextPage(IEnumerator<List<(RedisKey Key, byte[] Value)>> pages, long removedSoFar)
    {
        try
        {
            return pages.MoveNext();
        }
        catch (BeakerException ex) when (ex.ErrorId == "StoreReadFailed")
        {
            throw new BeakerException("RemovalFailed", BeakerErrorKind.ConnectionError,
                $"Removing sessions from {Description} failed after {removedSoFar} session(s) were removed: {ex.Message}" +
                " Each session is removed whole or not at all; run the command again to finish.", ex.InnerException);
        }
    }

    /// <summary>Deletes each session in one pipelined round of compare-and-delete scripts: only keys still holding the value read go.</summary>
    private long DeleteUnchanged(IReadOnlyCollection<(RedisKey Key, byte[] Value)> sessions, long removedSoFar, CancellationToken cancellationToken)
    {
        if (sessions.Count == 0)
        {
            return 0;
        }

        var batch = _database.CreateBatch();
        var deletes = sessions.Select(s => batch.ScriptEvaluateAsync(DeleteIfUnchanged, new[] { s.Key }, new RedisValue[] { s.Value })).ToList();
        batch.Execute();
        return deletes.Sum(d => (long)Guard(() => Wait(d, cancellationToken, readFailure: false), removedSoFar));
    }
}
