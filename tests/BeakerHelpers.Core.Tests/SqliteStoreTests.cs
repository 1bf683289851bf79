using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Stores.Sql;

namespace BeakerHelpers.Core.Tests;

public class SqliteStoreTests
{
    private static List<SessionReadResult> ReadAll(string db, string table, DateTime? since = null)
    {
        var settings = new SessionSettings { Source = "test", Type = "ext:database", Url = "sqlite:///" + db, TableName = table, BaseDirectory = FixtureStore.Directory };
        using var store = SessionStoreFactory.Open(settings);
        return new SessionReader(new SessionPayloadDecoder(keys: table == "crypto_sessions" ? CryptoKeys() : null)).Read(store, since, CancellationToken.None).ToList();
    }

    /// <summary>The keys of the encrypted fixture sessions, as the app's crypto.ini gives them.</summary>
    private static SessionKeys? CryptoKeys()
    {
        var config = PasteDeployLoader.Load(Path.Combine(FixtureStore.Directory, "crypto.ini"), null);
        return SessionSettings.FromConfig(config, SessionSettings.DefaultPrefix, FixtureStore.Directory).Keys();
    }

    public static IEnumerable<object[]> Tables() => FixtureStore.Expected.GetProperty("rows").EnumerateArray()
        .Select(r => (r.GetProperty("db").GetString()!, r.GetProperty("table").GetString()!))
        .Distinct()
        .Select(t => new object[] { t.Item1, t.Item2 });

    [Theory]
    [MemberData(nameof(Tables))]
    public void ReadingInAnyOrderGivesTheListingsRows(string db, string table)
    {
        // What Measure-BeakerSession -Detailed and Test-BeakerConfiguration -Scan read: the same rows, with and without
        // a cutoff, in the table's own order.
        var settings = new SessionSettings { Source = "test", Type = "ext:database", Url = "sqlite:///" + db, TableName = table, BaseDirectory = FixtureStore.Directory };
        using var store = SessionStoreFactory.Open(settings);
        foreach (var since in new DateTime?[] { null, store.ReadSessions(null, CancellationToken.None).Select(r => r.Accessed).Order().Skip(1).FirstOrDefault() })
        {
            var listed = store.ReadSessions(since, CancellationToken.None).Select(r => (r.Id, r.Accessed, r.Created, Data: Convert.ToHexString(r.Data))).ToList();
            var anyOrder = store.ReadSessionsInAnyOrder(since, CancellationToken.None).Select(r => (r.Id, r.Accessed, r.Created, Data: Convert.ToHexString(r.Data))).ToList();
            Assert.NotEmpty(listed);
            Assert.Equal(listed.Order(), anyOrder.Order());
        }
    }

    [Theory]
    [MemberData(nameof(Tables))]
    public void EveryRowReadsAsTheWriterSavedIt(string db, string table)
    {
        var results = ReadAll(db, table);
        var expectedRows = FixtureStore.Rows(db, table).ToList();
        Assert.Equal(expectedRows.Count, results.Count);
        foreach (var row in expectedRows)
        {
            var id = row.GetProperty("id").GetString()!;
            var result = results.Single(r => r.Id == id);
            switch (row.GetProperty("kind").GetString())
            {
                case "session":
                    Assert.Null(result.Error);
                    Assert.NotNull(result.Session);
                    ExpectedValue.AssertSession(row.GetProperty("values"), result.Session!.Values, id);
                    var layout = row.GetProperty("layout").GetString();
                    Assert.Equal(layout switch { "A" => PayloadLayout.SessionDict, "B-pickle" => PayloadLayout.Base64Pickle, "B-json" => PayloadLayout.Base64Json, _ => PayloadLayout.Encrypted }, result.Session.Layout);
                    break;
                case "empty":
                    Assert.Equal(PayloadLayout.Empty, result.Session!.Layout);
                    Assert.Empty(result.Session.Values);
                    break;
                case "encrypted":
                    Assert.Equal("SessionEncrypted", result.Error!.ErrorId);
                    Assert.Contains("encrypt_key", result.Error.Message);
                    break;
                case "corrupt":
                    Assert.Equal("SessionCorrupt", result.Error!.ErrorId);
                    Assert.Null(result.Session);
                    break;
                case "cache":
                    Assert.True(result.IsSkipped);
                    break;
                default:
                    throw new InvalidOperationException("unknown row kind");
            }
        }
    }

    [Fact]
    public void RowsComeOldestFirstWithTheirRowTimes()
    {
        var results = ReadAll("sessions.db", "beaker_cache").Where(r => r.Session != null).Select(r => r.Session!).ToList();
        Assert.Equal(results.OrderBy(s => s.Accessed).Select(s => s.Id), results.Select(s => s.Id));
        var rich = results.Single(s => s.Id == FixtureStore.Row("sessions.db", results.Single(r => r.Values.Any(v => v.Key == "cart")).Id).GetProperty("id").GetString());
        var accessed = DateTimeOffset.FromUnixTimeMilliseconds((long)((FixtureStore.GeneratedAt - 600) * 1000)).LocalDateTime;
        Assert.InRange((rich.Accessed - accessed).TotalSeconds, -0.01, 0.01);
        Assert.InRange((rich.Accessed - rich.Created!.Value).TotalSeconds, 3599.99, 3600.01);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3600)]
    [InlineData(36 * 3600)]
    [InlineData(2 * 86400)]
    public void ACutoffKeepsOnlyRowsAccessedSinceIt(int seconds)
    {
        var generated = DateTimeOffset.FromUnixTimeMilliseconds((long)(FixtureStore.GeneratedAt * 1000)).LocalDateTime;
        var results = seconds == 0 ? ReadAll("sessions.db", "beaker_cache") : ReadAll("sessions.db", "beaker_cache", generated.AddSeconds(-seconds));
        var expected = FixtureStore.Rows("sessions.db", "beaker_cache")
            .Where(r => seconds == 0 || r.GetProperty("age_seconds").GetDouble() <= seconds)
            .Select(r => r.GetProperty("id").GetString())
            .OrderBy(id => id, StringComparer.Ordinal);
        Assert.Equal(expected, results.Select(r => r.Id).OrderBy(id => id, StringComparer.Ordinal));
    }

    [Fact]
    public void RowsReadDirectlyAreTheRowsTheDataReaderGives()
    {
        // A listing reads its rows through SQLite's own interface (docs/sqlite.md#reading); a database in UTF-16 goes
        // through the driver's data reader. The same rows, real Beaker's and odd ones a hand-edited or foreign table may
        // hold, must come out alike both ways.
        var fixtureRows = new List<object[]>();
        using (var fixture = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + Path.Combine(FixtureStore.Directory, "sessions.db") + ";Mode=ReadOnly;Pooling=False"))
        {
            fixture.Open();
            using var read = fixture.CreateCommand();
            read.CommandText = "SELECT namespace, accessed, created, data FROM beaker_cache ORDER BY id";
            using var rows = read.ExecuteReader();
            while (rows.Read())
            {
                fixtureRows.Add(new[] { rows.GetValue(0), rows.GetValue(1), rows.GetValue(2), rows.GetValue(3) });
            }
        }

        var folder = Directory.CreateTempSubdirectory("beakerhelpers-direct-").FullName;
        try
        {
            var listings = new List<List<(string Id, DateTime Accessed, DateTime? Created, string Data)>>();
            foreach (var encoding in new[] { "UTF-8", "UTF-16le" })
            {
                var db = Path.Combine(folder, encoding + ".db");
                using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + db + ";Pooling=False"))
                {
                    connection.Open();
                    using var create = connection.CreateCommand();
                    create.CommandText =
                        $"PRAGMA encoding = '{encoding}'; " +
                        "CREATE TABLE beaker_cache (id INTEGER PRIMARY KEY, namespace VARCHAR(255), accessed DATETIME, created DATETIME, data BLOB); " +
                        "INSERT INTO beaker_cache (namespace, accessed, created, data) VALUES " +
                        "(42, '2026-12-01 10:00:00', '2026-12-01 09:00:00.5', X'80'), " +
                        "(NULL, '2026-12-01T10:00:01', NULL, 'text, not bytes: ž'), " +
                        "('ž-ünïcode', 1764583202, 1764583202.5, NULL), " +
                        "(X'C3BE', '2026-12-01 10:00:03.123456', 'not a time', X'')";
                    create.ExecuteNonQuery();
                    foreach (var row in fixtureRows)
                    {
                        using var insert = connection.CreateCommand();
                        insert.CommandText = "INSERT INTO beaker_cache (namespace, accessed, created, data) VALUES ($n, $a, $c, $d)";
                        insert.Parameters.AddWithValue("$n", row[0]);
                        insert.Parameters.AddWithValue("$a", row[1]);
                        insert.Parameters.AddWithValue("$c", row[2]);
                        insert.Parameters.AddWithValue("$d", row[3]);
                        insert.ExecuteNonQuery();
                    }
                }

                using var store = SqliteDialect.Open(db, "beaker_cache", null);
                listings.Add(store.ReadSessions(null, CancellationToken.None).Select(r => (r.Id, r.Accessed, r.Created, Data: Convert.ToHexString(r.Data))).ToList());
            }

            Assert.Equal(listings[0], listings[1]);
            var odd = listings[0].Where(r => r.Id.Length != 32 && r.Id != "myapp.views.front_page").ToList();
            Assert.Equal(4, odd.Count);
            Assert.Equal(FixtureStore.Rows("sessions.db", "beaker_cache").Count() + 4, listings[0].Count);
            Assert.Equal(("42", new DateTime(2026, 12, 1, 10, 0, 0), (DateTime?)new DateTime(2026, 12, 1, 9, 0, 0, 500), "80"), odd.Single(r => r.Id == "42"));
            Assert.Equal(Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes("text, not bytes: ž")), odd.Single(r => r.Id == string.Empty).Data);
            Assert.Equal((string.Empty, default(DateTime)), (odd.Single(r => r.Id == "ž-ünïcode").Data, odd.Single(r => r.Id == "ž-ünïcode").Accessed));
            Assert.Equal(new DateTime(2026, 12, 1, 10, 0, 3).AddTicks(1234560), odd.Single(r => r.Id == "System.Byte[]").Accessed);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task ARowReadingThatMeetsAWritersLockWaitsForIt()
    {
        // The direct reading's first statement takes the transaction's read lock; a writer holding the database (here
        // for 0.4 s, a long commit) must hold it up, as the data reader's retries did, not fail it.
        var copy = Path.Combine(Path.GetTempPath(), $"beakerhelpers-busy-{Guid.NewGuid():n}.db");
        File.Copy(Path.Combine(FixtureStore.Directory, "sessions.db"), copy);
        try
        {
            using var store = SqliteDialect.Open(copy, "beaker_cache", null);
            using var writer = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + copy + ";Pooling=False");
            writer.Open();
            using (var exclusive = writer.CreateCommand())
            {
                exclusive.CommandText = "BEGIN EXCLUSIVE";
                exclusive.ExecuteNonQuery();
            }

            var reading = Task.Run(() => store.ReadSessionsInAnyOrder(null, CancellationToken.None).Count());
            await Task.Delay(400);
            Assert.False(reading.IsCompleted);
            using (var commit = writer.CreateCommand())
            {
                commit.CommandText = "COMMIT";
                commit.ExecuteNonQuery();
            }

            Assert.Equal(FixtureStore.Rows("sessions.db", "beaker_cache").Count(), await reading);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(copy);
        }
    }

    [Fact]
    public void AListingStoppedEarlyFreesTheStoreForTheNextQuery()
    {
        // Sessions are read and decoded ahead on a thread of their own: stopping must stop that thread and end its transaction.
        using var store = SqliteDialect.Open(Path.Combine(FixtureStore.Directory, "sessions.db"), "beaker_cache", null);
        var reader = new SessionReader(new SessionPayloadDecoder());
        var total = FixtureStore.Rows("sessions.db", "beaker_cache").Count();
        for (var taken = 0; taken < 3; taken++)
        {
            Assert.Equal(taken, reader.Read(store, null, CancellationToken.None).Take(taken).Count());
        }

        Assert.Equal(total, store.ReadSessions(null, CancellationToken.None).Count());
        Assert.Equal(total, store.CountAccessedBefore(DateTime.MaxValue, CancellationToken.None).Older);
    }

    [Fact]
    public void AListingCancelledMidwayStops()
    {
        using var store = SqliteDialect.Open(Path.Combine(FixtureStore.Directory, "sessions.db"), "beaker_cache", null);
        using var cancel = new CancellationTokenSource();
        var seen = 0;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var _ in new SessionReader(new SessionPayloadDecoder()).Read(store, null, cancel.Token))
            {
                seen++;
                cancel.Cancel();
            }
        });

        Assert.Equal(1, seen);
        Assert.NotEmpty(store.ReadSessions(null, CancellationToken.None));
    }

    [Fact]
    public void AMissingFileIsNamedAndNotCreated()
    {
        var path = Path.Combine(Path.GetTempPath(), "beakerhelpers-missing-" + Guid.NewGuid().ToString("N") + ".db");
        var ex = Assert.Throws<BeakerException>(() => SqliteDialect.Open(path, "beaker_cache", null));
        Assert.Equal("StoreNotFound", ex.ErrorId);
        Assert.Contains(path, ex.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void AMissingTableIsNamedWithTheFile()
    {
        var path = Path.Combine(FixtureStore.Directory, "sessions.db");
        var ex = Assert.Throws<BeakerException>(() => SqliteDialect.Open(path, "no_such_table", null));
        Assert.Equal("TableNotFound", ex.ErrorId);
        Assert.Contains("no_such_table", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void AnUnsupportedDialectIsNamed()
    {
        var settings = new SessionSettings { Source = "test", Type = "ext:database", Url = "oracle://scott:tiger@db/orcl" };
        var ex = Assert.Throws<BeakerException>(() => SessionStoreFactory.Open(settings));
        Assert.Equal("DialectNotSupported", ex.ErrorId);
        Assert.Contains("'oracle'", ex.Message);
        Assert.Contains("sqlite", ex.Message);
        Assert.DoesNotContain("tiger", ex.Message);
    }

    [Fact]
    public void AnInMemoryUrlIsRefused()
    {
        var ex = Assert.Throws<BeakerException>(() => SessionStoreFactory.Open(new SessionSettings { Source = "test", Type = "ext:database", Url = "sqlite://" }));
        Assert.Equal("StoreInMemory", ex.ErrorId);
    }

    [Fact]
    public void QueryOptionsAreIgnoredWithANote()
    {
        var notes = new List<string>();
        var settings = new SessionSettings { Source = "test", Type = "ext:database", Url = "sqlite:///sessions.db?timeout=5", BaseDirectory = FixtureStore.Directory };
        using var store = SessionStoreFactory.Open(settings, new StoreOptions(Notes: notes.Add));
        Assert.Contains(notes, n => n.Contains("'timeout'"));
    }

    [Fact]
    public void AnotherBackendTypeIsNamed()
    {
        var ex = Assert.Throws<BeakerException>(() => SessionStoreFactory.Open(new SessionSettings { Source = "test", Type = "ext:mongodb", Url = "mongodb://127.0.0.1/app" }));
        Assert.Equal("StoreTypeNotSupported", ex.ErrorId);
        Assert.Contains("ext:mongodb", ex.Message);
        Assert.Contains("ext:memcached", ex.Message);
    }
}
