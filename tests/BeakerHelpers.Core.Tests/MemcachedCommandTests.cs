using System.Diagnostics;
using System.Text.Json;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Stores.Memcached;
using Xunit;

namespace BeakerHelpers.Core.Tests;

/// <summary>
/// The memcached store on the servers the test run starts (build.ps1 -Task Test sets BEAKERHELPERS_MEMCACHED_URLS), with
/// the meta commands of 1.6 and with the classic gets and cas that servers from 1.4.31 to 1.5 are read and cleaned with
/// (docs/memcached.md#client), on sessions real Beaker wrote (tests/fixtures/memcached_sessions.py).
/// </summary>
[Trait("Category", "Server")]
[Collection("memcached")]
public sealed class MemcachedCommandTests
{
    private static readonly string Urls = Environment.GetEnvironmentVariable("BEAKERHELPERS_MEMCACHED_URLS")
        ?? throw new InvalidOperationException("BEAKERHELPERS_MEMCACHED_URLS is not set: run the tests with build.ps1 -Task Test, which starts two memcached servers.");

    private static readonly string Writer = Path.Combine(FixtureStore.Directory, "..", "memcached_sessions.py");

    private readonly SessionPayloadDecoder _decoder = new();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ListsOldestFirstAndRemovesOnlyTheOldOnes(bool metaCommands)
    {
        var ids = Seed();
        using (var store = Open(metaCommands))
        {
            var listed = store.ReadSessions(null, CancellationToken.None).ToList();
            var expected = ids["old"].Concat(ids["young"]).Concat(ids["encrypted"]).Order().ToList();
            Assert.Equal(expected, listed.Select(s => s.Id).Order().ToList());

            // The encrypted one cannot be dated without its keys and comes first; the others by _accessed_time.
            Assert.Equal(ids["encrypted"][0], listed[0].Id);
            var times = listed.Skip(1).Select(s => s.Accessed).ToList();
            Assert.Equal(times.Order().ToList(), times);

            var removed = store.RemoveAccessedBefore(DateTime.UtcNow.AddHours(-1), new RemovalOptions(100, false, null, CancellationToken.None));
            Assert.Equal(ids["old"].Count, removed.Removed);
        }

        var check = Check(ids);
        Assert.Equal(ids["young"].Concat(ids["encrypted"]).Order().ToList(), check.Loaded.Order().ToList());
        Assert.Equal(3, check.Strays.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ASecondPassGivesWhatTheFirstKeptAndAStoppedListingLeavesTheStoreUsable(bool metaCommands)
    {
        var ids = Seed();

        // Every value kept from the first pass, against every value read again in the order of the notes.
        using var kept = Open(metaCommands);
        using var readAgain = Open(metaCommands, keptValueBytes: 0);
        var expected = kept.ReadSessions(null, CancellationToken.None).ToList();
        var listed = readAgain.ReadSessions(null, CancellationToken.None).ToList();
        Assert.Equal(ids.Values.Sum(v => v.Count), listed.Count);
        Assert.Equal(expected.Select(s => (s.Id, s.Accessed)), listed.Select(s => (s.Id, s.Accessed)));
        Assert.All(expected.Zip(listed), pair => Assert.Equal(pair.First.Data, pair.Second.Data));

        // Stopped after two (Select-Object -First 2): the servers' threads end, and the connections are in step for
        // the next listing on the same store.
        Assert.Equal(expected.Take(2).Select(s => s.Id), readAgain.ReadSessions(null, CancellationToken.None).Take(2).Select(s => s.Id));
        Assert.Equal(expected.Select(s => s.Id), readAgain.ReadSessions(null, CancellationToken.None).Select(s => s.Id));
        // Within the hour: the young ones, and the encrypted one nothing can date without its keys.
        var young = readAgain.ReadSessions(DateTime.Now.AddHours(-1), CancellationToken.None).Select(s => s.Id).Order().ToList();
        Assert.Equal(ids["young"].Concat(ids["encrypted"]).Order().ToList(), young);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DeletesAnItemOnlyWhileItIsUnchanged(bool metaCommands)
    {
        var ids = Seed();
        var server = MemcachedSessionStore.Servers(Urls, "url").Select(s => MemcachedConnection.Open(s.Host, s.Port, TimeSpan.FromSeconds(10), CancellationToken.None, metaCommands)).ToList();
        try
        {
            foreach (var connection in server)
            {
                Assert.StartsWith("VERSION", connection.Hello());
                Assert.Equal(metaCommands, connection.Meta);
            }

            // The server that holds the first young session, and its CAS as read.
            var id = ids["young"][0];
            Assert.True(SessionKey.TryOf(id, out var key));
            var holder = server.Single(c => c.Get([key], CancellationToken.None)[0] != null);
            var read = holder.Get([key], CancellationToken.None)[0]!.Value;

            // Saved again by Beaker's client meanwhile: a new CAS, so the delete of what was read leaves it.
            Touch(holder, key, read);
            Assert.Equal(0, holder.DeleteUnchanged([(key, read.Cas)]));
            var saved = holder.Get([key], CancellationToken.None)[0];
            Assert.NotNull(saved);
            Assert.NotEqual(read.Cas, saved.Value.Cas);

            // Unchanged since it was read: deleted, and gone for every later get.
            Assert.Equal(1, holder.DeleteUnchanged([(key, saved.Value.Cas)]));
            Assert.Null(holder.Get([key], CancellationToken.None)[0]);
            Assert.Equal(0, holder.DeleteUnchanged([(key, saved.Value.Cas)]));
        }
        finally
        {
            server.ForEach(c => c.Dispose());
        }

        Assert.DoesNotContain(ids["young"][0], Check(ids).Loaded);
    }

    [Fact]
    public void AnIdThatCannotBeAKeyIsNoSessionAndSendsNoCommand()
    {
        var ids = Seed();
        using var store = Open(metaCommands: true);

        // A space or a line end in an id would end the command and start another (here: deleting a stray key).
        var hostile = new[] { "x v\r\nmd app:counter", "a b", "x\nmd app:counter", new string('a', 300), string.Empty };
        Assert.Empty(store.ReadIds(hostile, CancellationToken.None));
        Assert.Equal(0, store.RemoveIds(hostile, new RemovalOptions(100, false, null, CancellationToken.None)).Removed);
        Assert.Single(store.ReadIds([ids["young"][0], .. hostile], CancellationToken.None));
        Assert.Equal(3, Check(ids).Strays.Count);
    }

    private MemcachedSessionStore Open(bool metaCommands, long keptValueBytes = 16 * 1024 * 1024) =>
        MemcachedSessionStore.Open(Urls, "url", (data, payload) => _decoder.AccessedTimeOfValue(data, payload == StoredPayload.SessionText), TimeZoneInfo.Local, null, metaCommands, CancellationToken.None, keptValueBytes);

    /// <summary>Stores the value again as a client's set does (a new CAS), with the classic command every version has.</summary>
    private static void Touch(MemcachedConnection connection, SessionKey key, MemcachedValue value)
    {
        using var raw = new System.Net.Sockets.TcpClient(connection.Where.Split(':')[0], int.Parse(connection.Where.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
        var stream = raw.GetStream();
        var header = System.Text.Encoding.ASCII.GetBytes($"set {key.Id}{SessionKey.Suffix} {value.Flags} 0 {value.Data.Length}\r\n");
        stream.Write(header);
        stream.Write(value.Data);
        stream.Write("\r\n"u8);
        var reply = new byte[8];
        Assert.Equal("STORED\r\n", System.Text.Encoding.ASCII.GetString(reply, 0, stream.Read(reply)));
    }

    private static Dictionary<string, List<string>> Seed()
    {
        var idsPath = Path.Combine(Path.GetTempPath(), $"beakerhelpers-memcached-{Guid.NewGuid():N}.json");
        try
        {
            Python("seed", idsPath);
            return JsonSerializer.Deserialize<Dictionary<string, List<string>>>(File.ReadAllText(idsPath))!;
        }
        finally
        {
            File.Delete(idsPath);
        }
    }

    /// <summary>Which of the seeded sessions Beaker still loads, and which stray keys remain.</summary>
    private static (List<string> Loaded, List<string> Strays) Check(Dictionary<string, List<string>> ids)
    {
        var idsPath = Path.Combine(Path.GetTempPath(), $"beakerhelpers-memcached-{Guid.NewGuid():N}.json");
        File.WriteAllText(idsPath, JsonSerializer.Serialize(ids));
        try
        {
            var result = JsonDocument.Parse(Python("check", idsPath)).RootElement;
            return (result.GetProperty("loaded").EnumerateArray().Select(e => e.GetString()!).ToList(), result.GetProperty("strays").EnumerateArray().Select(e => e.GetString()!).ToList());
        }
        finally
        {
            File.Delete(idsPath);
        }
    }

    private static string Python(string command, string idsPath)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { Writer, command, Urls, idsPath })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"memcached_sessions.py {command} failed: {error.Result}");
    }
}
