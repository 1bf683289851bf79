using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;

namespace BeakerHelpers.Core.Tests;

/// <summary>
/// SessionReader.Read reads and decodes on a thread of its own, ahead of its caller: the first session must come at
/// once, the amount read ahead must stay bounded (in rows and in bytes), a store's failure must come after the sessions
/// before it, and a caller that stops must stop the reading before it goes on.
/// </summary>
public class ReadAheadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void TheFirstSessionComesBeforeTheStoreReadsTheSecond()
    {
        using var secondAsked = new ManualResetEventSlim();
        using var firstSeen = new ManualResetEventSlim();
        var store = new RowSource(i =>
        {
            if (i == 1)
            {
                secondAsked.Set();
                Assert.True(firstSeen.Wait(Patience), "the first session was held back until the store read more rows");
            }

            return i < 3;
        });

        using var results = new SessionReader(new SessionPayloadDecoder()).Read(store, null, CancellationToken.None).GetEnumerator();
        Assert.True(results.MoveNext());
        Assert.Equal("s0", results.Current.Id);
        firstSeen.Set();
        Assert.True(results.MoveNext());
        Assert.True(results.MoveNext());
        Assert.False(results.MoveNext());
        Assert.True(secondAsked.IsSet);
    }

    [Theory]
    [InlineData(100, (2 + 2) * 32)]
    [InlineData(400_000, 2 + 2)]
    public void ACallerThatWaitsHoldsBackTheReading(int payloadBytes, int mostReadAhead)
    {
        var store = new RowSource(i => i < 100_000, payloadBytes);
        using var results = new SessionReader(new SessionPayloadDecoder()).Read(store, null, CancellationToken.None).GetEnumerator();
        Assert.True(results.MoveNext());

        // The producer stops when its queue is full; give it time to fill it.
        var stable = 0;
        for (var last = -1; stable < 5; Thread.Sleep(50))
        {
            stable = store.Read == last ? stable + 1 : 0;
            last = store.Read;
        }

        Assert.InRange(store.Read, 2, mostReadAhead);
    }

    [Fact]
    public void AStoreFailureComesAfterTheSessionsBeforeIt()
    {
        var store = new RowSource(i => i < 300 ? true : throw new IOException("disk gone"));
        var seen = 0;
        var ex = Assert.Throws<IOException>(() =>
        {
            foreach (var _ in new SessionReader(new SessionPayloadDecoder()).Read(store, null, CancellationToken.None))
            {
                seen++;
            }
        });

        Assert.Equal("disk gone", ex.Message);
        Assert.Equal(300, seen);
    }

    [Fact]
    public void StoppingEarlyEndsTheStoresReadingFirst()
    {
        var store = new RowSource(i => i < 100_000);
        Assert.Equal(10, new SessionReader(new SessionPayloadDecoder()).Read(store, null, CancellationToken.None).Take(10).Count());
        Assert.True(store.Ended, "the store's reading was still going on after the caller stopped");
        Assert.True(store.Read < 100_000);
    }

    /// <summary>A store of made-up rows, as many as <c>more</c> allows, that counts the rows read and notes the end of reading.</summary>
    private sealed class RowSource : ISessionStore
    {
        private readonly Func<int, bool> _more;
        private readonly byte[] _payload;
        private int _read;

        public RowSource(Func<int, bool> more, int payloadBytes = 40)
        {
            _more = more;
            _payload = new byte[payloadBytes];
        }

        public int Read => Volatile.Read(ref _read);

        public bool Ended { get; private set; }

        public string Description => "made-up rows";

        public IEnumerable<StoredSession> ReadSessions(DateTime? accessedSince, CancellationToken cancellationToken)
        {
            try
            {
                for (var i = 0; _more(i); i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Interlocked.Increment(ref _read);
                    yield return new StoredSession("s" + i, DateTime.Now, null, _payload);
                }
            }
            finally
            {
                Ended = true;
            }
        }

        public IEnumerable<StoredSession> ReadIds(IReadOnlyList<string> ids, CancellationToken cancellationToken) => throw new NotSupportedException();

        public StoreStatistics Measure(StatisticsBounds bounds, CancellationToken cancellationToken) => throw new NotSupportedException();

        public AgeCount CountAccessedBefore(DateTime cutoff, CancellationToken cancellationToken) => throw new NotSupportedException();

        public RemovalResult RemoveAccessedBefore(DateTime cutoff, RemovalOptions options) =>
            throw new NotSupportedException();

        public RemovalResult RemoveIds(IEnumerable<string> ids, RemovalOptions options, DateTime? accessedBefore = null) =>
            throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
