using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace BeakerHelpers.Core.Stores;

/// <summary>
/// Runs an enumeration on a thread of its own, at most a bounded number of items ahead of its consumer, so that
/// producing (an in-process database engine sorting and copying rows) and consuming (decoding, the pipeline)
/// use two cores. Memory stays bounded; the producer's failure is rethrown to the consumer after the items
/// before it, and a consumer that stops early stops the producer and waits for it.
/// </summary>
internal static class ReadAhead
{
    public static IEnumerable<T> Of<T>(Func<CancellationToken, IEnumerable<T>> source, int capacity, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var queue = new BlockingCollection<T>(capacity);
        Exception? failure = null;
        var producer = Task.Factory.StartNew(() =>
        {
            try
            {
                foreach (var item in source(stop.Token))
                {
                    queue.Add(item, stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The consumer stopped or was cancelled.
            }
            catch (Exception ex)
            {
                failure = ex;
            }
            finally
            {
                queue.CompleteAdding();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        try
        {
            foreach (var item in queue.GetConsumingEnumerable(cancellationToken))
            {
                yield return item;
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
