using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;
using Microsoft.Data.Sqlite;

namespace BeakerHelpers.Core.Tests;

/// <summary>Listing a SQLite database in WAL mode, as apps that set journal_mode=WAL leave it (docs/sqlite.md#wal).</summary>
public sealed class SqliteWalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("beakerhelpers-wal-").FullName;
    private readonly string _db;

    public SqliteWalTests()
    {
        _db = Path.Combine(_dir, "sessions.db");
        File.Copy(Path.Combine(FixtureStore.Directory, "sessions.db"), _db);
        using var connection = new SqliteConnection($"Data Source={_db};Pooling=False");
        connection.Open();
        using var wal = connection.CreateCommand();
        wal.CommandText = "PRAGMA journal_mode = WAL";
        Assert.Equal("wal", wal.ExecuteScalar());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private int ListAll()
    {
        var settings = new SessionSettings { Source = "test", Type = "ext:database", Url = "sqlite:///" + _db, TableName = "beaker_cache", BaseDirectory = _dir };
        using var store = SessionStoreFactory.Open(settings);
        return new SessionReader(new SessionPayloadDecoder()).Read(store, null, CancellationToken.None).Count();
    }

    [Fact]
    public void ListingAStoppedAppsWalDatabaseLeavesTheFolderAsItWas()
    {
        var before = Directory.GetFiles(_dir).Order().ToList();
        Assert.Equal([_db], before);

        Assert.Equal(FixtureStore.Rows("sessions.db", "beaker_cache").Count(), ListAll());

        Assert.Equal(before, Directory.GetFiles(_dir).Order().ToList());
    }

    [Fact]
    public void ListingWhileTheAppHasItOpenSeesItsUncheckpointedSavesAndLeavesItsFiles()
    {
        using var app = new SqliteConnection($"Data Source={_db};Pooling=False");
        app.Open();
        using (var noCheckpoint = app.CreateCommand())
        {
            noCheckpoint.CommandText = "PRAGMA wal_autocheckpoint = 0; DELETE FROM beaker_cache WHERE rowid = (SELECT min(rowid) FROM beaker_cache)";
            Assert.Equal(1, noCheckpoint.ExecuteNonQuery());
        }

        Assert.True(File.Exists(_db + "-wal"));
        Assert.Equal(FixtureStore.Rows("sessions.db", "beaker_cache").Count() - 1, ListAll());
        Assert.True(File.Exists(_db + "-wal"), "the app's log is the app's");
    }
}
