using System.Diagnostics;
using System.Text.Json;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Stores.Files;

namespace BeakerHelpers.Core.Tests;

/// <summary>
/// File and dbm stores written by real Beaker (tests/fixtures/make_folder_stores.py, once per test run): what
/// happens when the tree changes under a walk, when a request holds a session's lock, when a file is saved
/// again between the walk and its removal.
/// </summary>
public sealed class BeakerFolderStores : IDisposable
{
    public BeakerFolderStores()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("beakerhelpers-folders-").FullName;
        var script = Path.Combine(FixtureStore.Directory, "..", "make_folder_stores.py");
        Run("/usr/bin/python3", script, Directory);
        Expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "expected.json"))).RootElement;
    }

    public string Directory { get; }

    public JsonElement Expected { get; }

    public JsonElement Store(string name) => Expected.GetProperty("stores").GetProperty(name);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    /// <summary>A copy that keeps modification times (the sessions' ages).</summary>
    public string Copy()
    {
        var target = System.IO.Directory.CreateTempSubdirectory("beakerhelpers-folder-copy-").FullName;
        Run("cp", "-a", Directory + "/.", target);
        return target;
    }

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {error.Result}");
        }
    }
}

[Trait("Category", "Python")]
public sealed class FolderStoreTests : IClassFixture<BeakerFolderStores>, IDisposable
{
    private readonly BeakerFolderStores _stores;
    private readonly string _dir;
    private readonly List<StoreProblem> _problems = new();

    public FolderStoreTests(BeakerFolderStores stores)
    {
        _stores = stores;
        _dir = stores.Copy();
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DateTime Now => TimeZoneInfo.ConvertTimeFromUtc(DateTime.UtcNow, TimeZoneInfo.Local);

    private FileSessionStore OpenFileStore()
    {
        var store = _stores.Store("file");
        return new FileSessionStore(Path.Combine(_dir, store.GetProperty("root").GetString()!), Path.Combine(_dir, store.GetProperty("lock_root").GetString()!),
            TimeZoneInfo.Local, _problems.Add);
    }

    private List<(string Id, double Age)> Sessions(string store) => _stores.Store(store).GetProperty("sessions").EnumerateArray()
        .Select(s => (s.GetProperty("id").GetString()!, s.GetProperty("age_seconds").GetDouble())).ToList();

    private string SessionFile(string id) => Path.Combine(_dir, _stores.Store("file").GetProperty("root").GetString()!, id[..1], id[..2], id + ".cache");

    [Fact]
    public void ASessionSavedAgainBetweenTheWalkAndItsRemovalStays()
    {
        var old = Sessions("file").Where(s => s.Age > 86400).OrderBy(s => s.Id, StringComparer.Ordinal).ToList();
        var saved = old[^1].Id;
        using var store = OpenFileStore();
        var touched = false;
        var result = store.RemoveAccessedBefore(Now.AddDays(-1), new RemovalOptions(1000, CancellationToken: CancellationToken.None, Progress: _ =>
        {
            if (!touched)
            {
                // The app saves this session again after the walk has seen it old: Beaker writes '.temp' and renames.
                File.WriteAllBytes(SessionFile(saved) + ".temp", File.ReadAllBytes(SessionFile(saved)));
                File.Move(SessionFile(saved) + ".temp", SessionFile(saved), overwrite: true);
                touched = true;
            }
        }));

        Assert.True(touched);
        Assert.Equal(old.Count - 1, result.Removed);
        Assert.True(File.Exists(SessionFile(saved)));
        Assert.All(old.Take(old.Count - 1), s => Assert.False(File.Exists(SessionFile(s.Id))));
    }

    [Fact]
    public void ASessionWhoseLockARequestHoldsIsLeftForTheNextRun()
    {
        var old = Sessions("file").Where(s => s.Age > 86400).Select(s => s.Id).ToList();
        var lockRoot = Path.Combine(_dir, _stores.Store("file").GetProperty("lock_root").GetString()!);
        var held = old.First(id => File.Exists(LockPath(lockRoot, id)));

        // A request loading the session: Beaker holds flock(LOCK_SH), as .NET does for FileShare.Read.
        using (new FileStream(LockPath(lockRoot, held), FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            using var store = OpenFileStore();
            var result = store.RemoveAccessedBefore(Now.AddDays(-1), new RemovalOptions(1000, CancellationToken: CancellationToken.None));
            Assert.Equal(old.Count - 1, result.Removed);
            Assert.True(File.Exists(SessionFile(held)));
            var problem = Assert.Single(_problems, p => p.ErrorId == "SessionInUse");
            Assert.Contains(held, problem.Message);
            Assert.False(problem.IsError);
        }

        using (var store = OpenFileStore())
        {
            Assert.Equal(1, store.RemoveAccessedBefore(Now.AddDays(-1), new RemovalOptions(1000, CancellationToken: CancellationToken.None)).Removed);
        }

        Assert.False(File.Exists(SessionFile(held)));
        Assert.False(File.Exists(LockPath(lockRoot, held)));
    }

    [Fact]
    public void AFolderThatDisappearsDuringTheWalkIsSkipped()
    {
        // Listed oldest first: the sessions of folder 'e' not read yet when it disappears are skipped, the rest come.
        var oldestFirst = Sessions("file").OrderByDescending(s => s.Age).Select(s => s.Id).ToList();
        Assert.Contains(oldestFirst.Skip(1), id => id[0] == 'e');
        using var store = OpenFileStore();
        var seen = new List<string>();
        foreach (var session in store.ReadSessions(null, CancellationToken.None))
        {
            if (seen.Count == 0)
            {
                Directory.Delete(Path.Combine(store.Root, "e"), recursive: true);
            }

            seen.Add(session.Id);
        }

        Assert.Equal(oldestFirst.Where((id, i) => i == 0 || id[0] != 'e'), seen);
        Assert.Empty(_problems);
    }

    [Fact]
    public void IdsOfEveryFormComeBackExactlyOldestFirst()
    {
        // A Beaker-written session file copied under ids of other forms: uppercase hex, 31 digits, not hex at all.
        // Beaker's own ids are packed into numbers while the store sorts; these stay text and must come back as named.
        var source = SessionFile(Sessions("file").First().Id);
        var start = DateTime.UtcNow.AddYears(-5);
        var ids = new[] { "0123456789ABCDEF0123456789ABCDEF", "fedcba9876543210fedcba987654321", "zz-not-hex-at-all", "00000000000000000000000000000001" };
        for (var i = 0; i < ids.Length; i++)
        {
            var copy = SessionFile(ids[i]);
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(source, copy);
            File.SetLastWriteTimeUtc(copy, start.AddMinutes(i));
        }

        using var store = OpenFileStore();
        var listed = store.ReadSessions(null, CancellationToken.None).Select(s => s.Id).ToList();
        Assert.Equal(ids, listed.Take(ids.Length));
        Assert.Equal(Sessions("file").Count + ids.Length, listed.Count);
        Assert.Equal(listed.Count, listed.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task AFifoPlantedInTheTreeIsReportedWithoutBlockingTheWalk()
    {
        var fifo = SessionFile("b0ffffffffffffffffffffffffffffff");
        Directory.CreateDirectory(Path.GetDirectoryName(fifo)!);
        using (var mkfifo = Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        using var store = OpenFileStore();
        var read = Task.Run(() => store.ReadSessions(null, CancellationToken.None).ToList());
        Assert.True(await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30))) == read, "the walk blocked on the FIFO");
        var rows = await read;
        var row = Assert.Single(rows, r => r.Id == "b0ffffffffffffffffffffffffffffff");
        Assert.Equal("SessionCorrupt", row.Problem?.ErrorId);
        Assert.Equal(Sessions("file").Count + 1, rows.Count);
    }

    [Fact]
    public void CancellationStopsBetweenSessions()
    {
        using var cancel = new CancellationTokenSource();
        using var store = OpenFileStore();
        long removed = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => store.RemoveAccessedBefore(Now.AddDays(-1), new RemovalOptions(1000, CancellationToken: cancel.Token, Progress: n =>
        {
            removed = n;
            cancel.Cancel();
        })));

        Assert.Equal(1, removed);
        var old = Sessions("file").Where(s => s.Age > 86400).ToList();
        Assert.Equal(old.Count - 1, old.Count(s => File.Exists(SessionFile(s.Id))));
    }

    [Fact]
    public void DumbDbmSessionsAreReadAndOtherFlavoursSaySo()
    {
        var dumb = _stores.Store("dumb");
        using (var store = new DbmSessionStore(Path.Combine(_dir, dumb.GetProperty("root").GetString()!), null, TimeZoneInfo.Local))
        {
            var rows = store.ReadSessions(null, CancellationToken.None).ToList();
            // Oldest first, as every store lists.
            Assert.Equal(Sessions("dumb").OrderByDescending(s => s.Age).Select(s => s.Id), rows.Select(r => r.Id));
            Assert.All(rows, r => Assert.Null(r.Problem));
            Assert.All(rows, r => Assert.Equal(StoredPayload.SessionValue, r.Payload));
            var reader = new Sessions.SessionReader(new Payload.SessionPayloadDecoder());
            var names = rows.Select(r => reader.Decode(r, store.Description).Session!.Values.Single(v => v.Key == "user_name").Value).ToList();
            Assert.Equal(new object[] { "dumbold@example.com", "dumbpat@example.com", "dumb@example.com" }, names);
        }

        var other = _stores.Store("dbm");
        using (var store = new DbmSessionStore(Path.Combine(_dir, other.GetProperty("root").GetString()!), null, TimeZoneInfo.Local))
        {
            var rows = store.ReadSessions(null, CancellationToken.None).ToList();
            Assert.Equal(Sessions("dbm").Count, rows.Count);
            Assert.All(rows, r => Assert.Equal("DbmFlavourNotReadable", r.Problem?.ErrorId));
        }
    }

    private static string LockPath(string lockRoot, string id)
    {
#pragma warning disable CA5350 // Beaker's lock file names (docs/storage.md#file), not a security use.
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(id))).ToLowerInvariant();
#pragma warning restore CA5350
        return Path.Combine(lockRoot, hash[..1], hash[..2], hash + ".lock");
    }
}
