using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace BeakerHelpers.Core.Stores.Memcached;

/// <summary>
/// The values of a listing's second pass (docs/memcached.md#listing): each server's keys, in the listing's order, are
/// fetched a page at a time on a thread of their own, a few pages ahead of the reader, who takes them in that same
/// order with <see cref="Next"/>. So the servers answer while the reader decodes, instead of taking turns with it.
/// </summary>
internal sealed class OrderedValues : IDisposable
{
    /// <summary>Pages a server's thread fetches ahead of the reader: the memory held is this many pages a server.</summary>
    private const int PagesAhead = 3;

    private readonly BlockingCollection<List<MemcachedValue?>>[] _pages;
    private readonly List<MemcachedValue?>?[] _current;
    private readonly int[] _taken;
    private readonly Task[] _fetchers;
    private readonly CancellationTokenSource _stop;

    /// <param name="keysOf">A server's keys, in the order the reader will ask for their values.</param>
    /// <param name="get">Fetches one page of a server's keys (one connection per server, used by its thread only).</param>
    public OrderedValues(int servers, Func<int, IEnumerable<SessionKey>> keysOf, Func<int, IReadOnlyList<SessionKey>, CancellationToken, List<MemcachedValue?>> get, int page, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _pages = new BlockingCollection<List<MemcachedValue?>>[servers];
        _current = new List<MemcachedValue?>?[servers];
        _taken = new int[servers];
        _fetchers = new Task[servers];
        for (var s = 0; s < servers; s++)
        {
            var server = s;
            var pages = _pages[s] = new BlockingCollection<List<MemcachedValue?>>(PagesAhead);
            _fetchers[s] = Task.Run(() =>
            {
                try
                {
                    foreach (var keys in keysOf(server).Chunk(page))
                    {
                        pages.Add(get(server, keys, _stop.Token), _stop.Token);
                    }
                }
                finally
                {
                    pages.CompleteAdding();
                }
            }, CancellationToken.None);
        }
    }

    /// <summary>The value of the next key of <paramref name="server"/> (null: the server no longer holds it).</summary>
    public MemcachedValue? Next(int server)
    {
        var current = _current[server];
        if (current == null || _taken[server] == current.Count)
        {
            if (!_pages[server].TryTake(out current, Timeout.Infinite, _stop.Token))
            {
                // The server's thread ended early: its error is the reader's.
                try
                {
                    _fetchers[server].Wait(CancellationToken.None);
                }
                catch (AggregateException ex)
                {
                    ExceptionDispatchInfo.Throw(ex.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? ex.InnerExceptions[0]);
                }

                throw new InvalidOperationException("A memcached server's values ran out before its keys did.");
            }

            _current[server] = current;
            _taken[server] = 0;
        }

        return current[_taken[server]++];
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            Task.WaitAll(_fetchers, CancellationToken.None);
        }
        catch (AggregateException)
        {
            // Cancelled here, or failed: a failure the reader needed was thrown from Next; any other came after the
            // reader stopped, and is no longer anyone's concern.
        }

        foreach (var pages in _pages)
        {
            pages.Dispose();
        }

        _stop.Dispose();
    }
}
