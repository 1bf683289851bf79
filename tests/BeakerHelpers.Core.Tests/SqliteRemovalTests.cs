using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Stores.Sql;

namespace BeakerHelpers.Core.Tests;

/// <summary>Batched removal on a copy of the store real Beaker wrote.</summary>
public sealed class SqliteRemovalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("beakerhelpers-remove-").FullName;
    private readonly string _db;

    public SqliteRemovalTests()
    {
        _db = Path.Combine(_dir, "sessions.db");
        File.Copy(Path.Combine(FixtureStore.Directory, "sessions.db"), _db);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DateTime Generated => DateTimeOffset.FromUnixTimeMilliseconds((long)(FixtureStore.GeneratedAt * 1000)).LocalDateTime;

    private SqlSessionStore Open(bool writable = true) => SqliteDialect.Open(_db, "beaker_cache", null, writable);

    private List<string> RemainingIds()
    {
        using var store = Open(writable: false);
        return store.ReadSessions(null, CancellationToken.None).Select(r => r.Id).OrderBy(i => i, StringComparer.Ordinal).ToList();
    }

    private static List<string> ExpectedAfter(double maxAgeSeconds) => FixtureStore.Rows("sessions.db", "beaker_cache")
        .Where(r => r.GetProperty("age_seconds").GetDouble() <= maxAgeSeconds)
        .Select(r => r.GetProperty("id").GetString()!)
        .OrderBy(i => i, StringComparer.Ordinal)
        .ToList();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1000)]
    public void RemovesExactlyTheRowsAccessedBeforeTheCutoff(int batchSize)
    {
        var cutoff = Generated.AddDays(-2);
        using (var store = Open())
        {
            var before = store.CountAccessedBefore(cutoff, CancellationToken.None).Older;
            Assert.Equal(2, before);
            var totals = new List<long>();
            var result = store.RemoveAccessedBefore(cutoff, new RemovalOptions(batchSize, CancellationToken: CancellationToken.None, Progress: totals.Add));
            Assert.Equal(before, result.Removed);
            Assert.Equal((int)Math.Ceiling(before / (double)batchSize), result.Batches);
            Assert.Equal(result.Removed, totals[^1]);
            Assert.Equal(0, store.CountAccessedBefore(cutoff, CancellationToken.None).Older);
        }

        Assert.Equal(ExpectedAfter(2 * 86400), RemainingIds());
    }

    [Fact]
    public void RemainingSessionsStillDecode()
    {
        using (var store = Open())
        {
            store.RemoveAccessedBefore(Generated.AddHours(-1), new RemovalOptions(3, CancellationToken: CancellationToken.None));
        }

        using var reader = Open(writable: false);
        var results = new SessionReader(new SessionPayloadDecoder()).Read(reader, null, CancellationToken.None).ToList();
        Assert.Equal(ExpectedAfter(3600), results.Select(r => r.Id).OrderBy(i => i, StringComparer.Ordinal));
        Assert.Contains(results, r => r.Session?.Values.Any(v => v.Key == "cart") == true);
    }

    [Fact]
    public void CancellingStopsBetweenBatchesLeavingWholeBatchesRemoved()
    {
        using var cancellation = new CancellationTokenSource();
        using (var store = Open())
        {
            var stop = Assert.Throws<RemovalStoppedException>(() =>
                store.RemoveAccessedBefore(Generated.AddHours(-1), new RemovalOptions(2, CancellationToken: cancellation.Token, Progress: removed => cancellation.Cancel())));
            Assert.Equal(2, stop.Removed);
            Assert.False(stop.RolledBack);
        }

        var remaining = RemainingIds();
        Assert.Equal(FixtureStore.Rows("sessions.db", "beaker_cache").Count() - 2, remaining.Count);
    }

    [Fact]
    public void AWriteLockHeldLongerThanTheLimitEndsInStoreLockedSayingNothingWasRemoved()
    {
        // Another connection holds the database's write lock (as an app in a long transaction would) for longer than
        // the removal waits: the removal says it waits, gives up after the limit, and removed nothing.
        using var holder = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_db};Pooling=False");
        holder.Open();
        using var hold = holder.BeginTransaction(deferred: false);
        var notices = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        BeakerException error;
        using (var store = SqliteDialect.Open(_db, "beaker_cache", null, writable: true, lockWaits: notices.Add, lockWaitLimit: TimeSpan.FromSeconds(2)))
        {
            error = Assert.Throws<BeakerException>(() => store.RemoveAccessedBefore(Generated, new RemovalOptions(10, CancellationToken: CancellationToken.None)));
        }

        Assert.InRange(clock.Elapsed.TotalSeconds, 1.9, 10);
        Assert.Equal("StoreLocked", error.ErrorId);
        Assert.StartsWith($"Nothing was removed from sqlite '{_db}'", error.Message);
        Assert.Contains("write lock", error.Message);
        Assert.Contains("running the command again is safe", error.Message);
        var notice = Assert.Single(notices);
        Assert.Contains($"Waiting for the write lock on '{_db}'", notice);
        Assert.Contains("Giving up after 2 s", notice);
        hold.Rollback();
        holder.Close();
        Assert.Equal(FixtureStore.Rows("sessions.db", "beaker_cache").Count(), RemainingIds().Count);
    }

    [Fact]
    public void AReadOnlyStoreCannotRemove()
    {
        using var store = Open(writable: false);
        var error = Assert.Throws<BeakerException>(() => store.RemoveAccessedBefore(Generated, new RemovalOptions(10, CancellationToken: CancellationToken.None)));
        Assert.Equal("RemovalFailed", error.ErrorId);
        Assert.Contains("Nothing was removed from", error.Message);
        Assert.Equal(FixtureStore.Rows("sessions.db", "beaker_cache").Count(), RemainingIds().Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    public void RemovesExactlyTheGivenIdsWhateverTheirAge(int batchSize)
    {
        var all = RemainingIds();
        var chosen = new[] { all[0], all[3], all[^1] };
        var asked = chosen.Concat(new[] { "no-such-id", "it's \"quoted\"" }).ToList();
        using (var store = Open())
        {
            var totals = new List<long>();
            var result = store.RemoveIds(asked, new RemovalOptions(batchSize, Progress: totals.Add, CancellationToken: CancellationToken.None));
            Assert.Equal(3, result.Removed);
            Assert.Equal((int)Math.Ceiling(asked.Count / (double)batchSize), result.Batches);
            Assert.Equal(3, totals[^1]);
        }

        Assert.Equal(all.Except(chosen), RemainingIds());
    }

    [Fact]
    public void ASessionSavedDuringRemovalIsKept()
    {
        var cutoff = Generated.AddHours(-1);
        string refreshed;
        using (var store = Open())
        {
            var old = store.ReadSessions(null, CancellationToken.None).Where(r => r.Accessed < cutoff).Select(r => r.Id).ToList();
            refreshed = old[^1];

            // After the first batch, the app saves one of the old sessions (as a request would).
            var first = true;
            store.RemoveAccessedBefore(cutoff, new RemovalOptions(1, CancellationToken: CancellationToken.None, Progress: _ =>
            {
                if (first)
                {
                    first = false;
                    using var app = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_db};Pooling=False");
                    app.Open();
                    using var update = app.CreateCommand();
                    update.CommandText = "UPDATE beaker_cache SET accessed = $now WHERE namespace = $id";
                    update.Parameters.AddWithValue("$now", Generated.ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture));
                    update.Parameters.AddWithValue("$id", refreshed);
                    Assert.Equal(1, update.ExecuteNonQuery());
                }
            }));
        }

        Assert.Contains(refreshed, RemainingIds());
        Assert.Equal(ExpectedAfter(3600).Append(refreshed).OrderBy(i => i, StringComparer.Ordinal), RemainingIds());
    }
}

public class AdaptiveBatchTests
{
    [Theory]
    [InlineData(5000, 0.05, 10000)]
    [InlineData(10000, 0.375, 16000)]
    [InlineData(80000, 0.05, 100000)]
    [InlineData(20000, 0.4, 20000)]
    [InlineData(20000, 0.8, 20000)]
    [InlineData(10000, 1.0, 6000)]
    [InlineData(20000, 1.5, 10000)]
    [InlineData(600, 2.0, 500)]
    public void BatchesGrowWhenQuickAndShrinkWhenSlow(int size, double seconds, int next)
    {
        Assert.Equal(next, BatchPacing.RowLocks.NextBatchSize(size, TimeSpan.FromSeconds(seconds)));
    }
}

public class BatchPacingTests
{
    [Theory]
    [InlineData(0.02, 0.02)]
    [InlineData(0.1, 0.1)]
    [InlineData(0.2, 0.15)]
    [InlineData(0.5, 0.25)]
    public void SqliteStepsAsideAfterEachBatchForTheAppsWaitingSaves(double batch, double pause)
    {
        Assert.Equal(pause, BatchPacing.SharedDatabaseLock.PauseAfter(TimeSpan.FromSeconds(batch)).TotalSeconds, 6);
    }

    [Fact]
    public void ServersGoOnAtOnce()
    {
        Assert.Equal(TimeSpan.Zero, BatchPacing.RowLocks.PauseAfter(TimeSpan.FromSeconds(0.7)));
    }

    [Theory]
    [InlineData(0.05, 0.05)]
    [InlineData(0.6, 0.11)]
    [InlineData(0.9, 0.11)]
    public void AQuietSqliteDatabaseStillGetsAPauseEveryBusyHandlerPollsIn(double batch, double pause)
    {
        Assert.Equal(pause, BatchPacing.QuietDatabaseLock.PauseAfter(TimeSpan.FromSeconds(batch)).TotalSeconds, 6);
    }

    [Theory]
    [InlineData(5000, 0.1, 10000)]
    [InlineData(5000, 0.2, 5000)]
    [InlineData(5000, 0.24, 5000)]
    [InlineData(10000, 0.4, 5000)]
    [InlineData(10000, 0.3, 6667)]
    public void SqliteBatchesAimAtAFifthOfASecond(int size, double seconds, int next)
    {
        Assert.Equal(next, BatchPacing.SharedDatabaseLock.NextBatchSize(size, TimeSpan.FromSeconds(seconds)));
    }
}
