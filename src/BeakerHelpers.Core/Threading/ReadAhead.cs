using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace BeakerHelpers.Core.Threading;

/// <summary>
/// Runs an enumeration on a thread of its own, a bounded amount ahead of its consumer, so that producing (reading the
/// store) and consuming (the pipeline) use two cores. Items cross in chunks, because a hand-over
/// per item costs both threads more in waking each other than a session costs to decode. The first chunk is one item,
/// so that the first session shows at once, and each next one twice the last, up to <see cref="ChunkItems"/> items
/// or <see cref="ChunkWeight"/> (the weight of an item is the caller's: bytes of payload). At most
/// <see cref="Chunks"/> full chunks wait, so memory stays bounded. The producer's failure is rethrown to the
/// consumer after the items before it; a consumer that stops early stops the producer and waits for it.
/// <para>
/// <c>whileAhead</c> is work on an item that either thread may do (decoding): the producer does it while chunks wait
/// in the queue, that is while the consumer is the slower of the two (a cold pipeline), and leaves it to the consumer
/// while the consumer waits for the producer (a large, warm listing, where reading the store is the slower part).
/// </para>
/// </summary>
internal static class ReadAhead
{
    internal const int ChunkItems = 32, Chunks = 2;
    internal const long ChunkWeight = 256 * 1024;

    public static IEnumerable<T> Of<T>(Func<CancellationToken, IEnumerable<T>> source, Func<T, int> weigh, CancellationToken cancellationToken, Func<T, T>? whileAhead = null)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var queue = new BlockingCollection<List<T>>(Chunks);
        Exception? failure = null;
        var producer = Task.Factory.StartNew(() =>
        {
            var size = 1;
            List<T>? chunk = new(size);
            try
            {
                var weight = 0L;
                foreach (var item in source(stop.Token))
                {
                    chunk.Add(whileAhead != null && queue.Count > 0 ? whileAhead(item) : item);
                    weight += weigh(item);
                    if (chunk.Count == size || weight >= ChunkWeight)
                    {
                        queue.Add(chunk, stop.Token);
                        size = Math.Min(size * 2, ChunkItems);
                        chunk = new List<T>(size);
                        weight = 0;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The consumer stopped or was cancelled: nobody waits for the rest.
                chunk = null;
            }
            catch (Exception ex)
            {
                // Rethrown to the consumer once it has the items read before it.
                failure = ex;
            }
            finally
            {
                try
                {
                    if (chunk is { Count: > 0 })
                    {
                        queue.Add(chunk, stop.Token);
                    }
                }
                catch (OperationCanceledException)
                {
                    // The consumer stopped meanwhile.
                }

                queue.CompleteAdding();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        try
        {
            foreach (var chunk in queue.GetConsumingEnumerable(cancellationToken))
            {
                foreach (var item in chunk)
                {
                    yield return item;
                }
            }
        }
        finally
        {
            // The source (its connection) is the producer's until it has ended.
            stop.Cancel();
            producer.Wait();
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (failure != null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }
}
