using System.Collections.Concurrent;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Stores;

namespace BeakerHelpers.Core.Sessions;

/// <summary>Streams a store's rows and decodes each one; a bad row becomes an error result, never an exception.</summary>
public sealed class SessionReader
{
    private static readonly string[] UnixTimeKeys = { "_accessed_time", "_creation_time" };

    private readonly SessionPayloadDecoder _decoder;

    public SessionReader(SessionPayloadDecoder decoder)
    {
        _decoder = decoder;
    }

    /// <summary>Rows handed from the reading thread to the decoders at a time.</summary>
    private const int ChunkSize = 512;

    /// <summary>Chunks read ahead of the decoders: bounds memory whatever the table's size.</summary>
    private const int ChunksAhead = 4;

    /// <summary>
    /// Streams the sessions in the store's order. One thread reads rows from the store while the decoding of the
    /// rows already read is spread over the cores; results come back in order, and at most a few chunks are in
    /// memory. Stopping early (or cancelling) stops the reading thread.
    /// </summary>
    public IEnumerable<SessionReadResult> Read(ISessionStore store, DateTime? accessedSince, CancellationToken cancellationToken)
    {
        using var chunks = new BlockingCollection<StoredSession[]>(ChunksAhead);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = Task.Run(() => ReadChunks(store, accessedSince, chunks, stop.Token), CancellationToken.None);
        var description = store.Description;
        var options = new ParallelOptions { CancellationToken = cancellationToken };
        try
        {
            foreach (var chunk in chunks.GetConsumingEnumerable(cancellationToken))
            {
                var results = new SessionReadResult[chunk.Length];
                Parallel.For(0, chunk.Length, options, i => results[i] = Decode(chunk[i], description));
                foreach (var result in results)
                {
                    yield return result;
                }
            }

            // The reading thread's own failure (a lost connection, say) surfaces here, as it would have inline.
            reading.GetAwaiter().GetResult();
        }
        finally
        {
            stop.Cancel();
            while (chunks.TryTake(out _))
            {
            }

            try
            {
                reading.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
                // Already surfaced above, or the consequence of stopping it.
            }
        }
    }

    private static void ReadChunks(ISessionStore store, DateTime? accessedSince, BlockingCollection<StoredSession[]> chunks, CancellationToken stop)
    {
        try
        {
            var chunk = new List<StoredSession>(ChunkSize);
            foreach (var row in store.ReadSessions(accessedSince, stop))
            {
                chunk.Add(row);
                if (chunk.Count == ChunkSize)
                {
                    chunks.Add(chunk.ToArray(), stop);
                    chunk.Clear();
                }
            }

            if (chunk.Count > 0)
            {
                chunks.Add(chunk.ToArray(), stop);
            }
        }
        finally
        {
            chunks.CompleteAdding();
        }
    }

    public SessionReadResult Decode(StoredSession row, string storeDescription)
    {
        DecodedPayload payload;
        try
        {
            payload = _decoder.Decode(row.Data);
        }
        catch (PayloadException ex)
        {
            return new SessionReadResult(row.Id, null, ex);
        }

        if (payload.Layout == PayloadLayout.NotSession)
        {
            return new SessionReadResult(row.Id, null, null);
        }

        var values = payload.Values.Select(pair => Array.IndexOf(UnixTimeKeys, pair.Key) >= 0 ? new KeyValuePair<string, object?>(pair.Key, FromUnixTime(pair.Value)) : pair).ToList();
        return new SessionReadResult(row.Id, new SessionRecord(row.Id, row.Accessed, row.Created, storeDescription, payload.Layout, values), null);
    }

    /// <summary>A UNIX time as local time, like Python's datetime.fromtimestamp; other values are left alone.</summary>
    public static object? FromUnixTime(object? value)
    {
        double? seconds = value switch
        {
            double d => d,
            long l => l,
            _ => null,
        };
        if (seconds is not { } s || double.IsNaN(s) || s < -62135596800 || s > 253402300799)
        {
            return value;
        }

        return DateTime.UnixEpoch.AddTicks((long)Math.Round(s * 1_000_000) * 10).ToLocalTime();
    }
}
