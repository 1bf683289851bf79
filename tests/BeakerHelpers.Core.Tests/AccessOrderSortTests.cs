using System.Text;
using BeakerHelpers.Core.Stores;
using Xunit;

namespace BeakerHelpers.Core.Tests;

/// <summary>
/// AccessOrderSort: access order from any order in bounded memory, through an encrypted temporary file that is gone
/// when the listing ends or stops.
/// </summary>
public sealed class AccessOrderSortTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("beakerhelpers-sort-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly DateTime Start = new(2026, 11, 7, 8, 0, 0, DateTimeKind.Unspecified);

    [Theory]
    [InlineData(long.MaxValue)] // one run, in memory
    [InlineData(64 * 1024)] // several runs, spilled and merged
    [InlineData(1)] // a run a session
    public void GivesTheSessionsOldestFirstAndEqualTimesInTheSourcesOrder(long runBytes)
    {
        var source = MessyTable(27, 3000);

        var sorted = AccessOrderSort.Sort(source, runBytes, CancellationToken.None, _folder).ToList();

        var expected = source.Select((s, i) => (s, i)).OrderBy(p => p.s.Accessed).ThenBy(p => p.i).Select(p => p.s).ToList();
        Assert.Equal(expected.Count, sorted.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Id, sorted[i].Id);
            Assert.Equal(expected[i].Accessed, sorted[i].Accessed);
            Assert.Equal(expected[i].Accessed.Kind, sorted[i].Accessed.Kind);
            Assert.Equal(expected[i].Created, sorted[i].Created);
            Assert.Equal(expected[i].Payload, sorted[i].Payload);
            Assert.Equal(expected[i].Data, sorted[i].Data);
        }

        Assert.Empty(SpillFiles());
    }

    [Fact]
    public void TheTemporaryFileHoldsNoPayloadInClearAndIsGoneWhenTheListingStops()
    {
        var marker = "csrf_token=visible-secret-0123456789";
        var source = Enumerable.Range(0, 400).Select(i => new StoredSession($"id{i}", Start.AddSeconds(400 - i), null, Encoding.ASCII.GetBytes(marker + new string('x', 500))));
        Assert.Empty(SpillFiles());

        using (var listing = AccessOrderSort.Sort(source, 16 * 1024, CancellationToken.None, _folder).GetEnumerator())
        {
            Assert.True(listing.MoveNext());
            Assert.Equal("id399", listing.Current.Id);

            var file = Assert.Single(SpillFiles());
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }

            // Read as another program would (this process holds it exclusively).
            var bytes = ReadWithCat(file);
            Assert.True(bytes.Length > 400 * 500, "the runs are in the file");
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes("visible-secret")));
        }

        // Stopped after the first session (Select-Object -First 1, Ctrl+C): the file is gone.
        Assert.Empty(SpillFiles());
    }

    [Theory]
    [InlineData(64 * 1024)] // several runs a source
    [InlineData(1)] // a run a session
    public void SeveralSourcesReadAtOnceGiveOneOrderWithEqualTimesInTheSourcesOrder(long runBytes)
    {
        // Two halves of one table: many equal times within and across the halves.
        var table = MessyTable(29, 4000);
        var halves = new Func<CancellationToken, IEnumerable<StoredSession>>[] { _ => table.Take(2500), _ => table.Skip(2500) };

        var sorted = AccessOrderSort.Sort(halves, runBytes, CancellationToken.None, _folder).ToList();

        var expected = table.Select((s, i) => (s, i)).OrderBy(p => p.s.Accessed).ThenBy(p => p.i).Select(p => p.s).ToList();
        Assert.Equal(expected.Select(s => s.Id), sorted.Select(s => s.Id));
        Assert.Equal(expected.Select(s => s.Created), sorted.Select(s => s.Created));
        Assert.Equal(expected.Select(s => s.Payload), sorted.Select(s => s.Payload));
        Assert.True(expected.Zip(sorted).All(p => p.First.Data.AsSpan().SequenceEqual(p.Second.Data)));
        Assert.Empty(SpillFiles());
    }

    [Fact]
    public void OneSourcesFailureStopsTheOtherAndIsThrown()
    {
        var otherStopped = false;
        IEnumerable<StoredSession> Endless(CancellationToken token)
        {
            for (var i = 0; ; i++)
            {
                if (token.IsCancellationRequested)
                {
                    otherStopped = true;
                    token.ThrowIfCancellationRequested();
                }

                yield return new StoredSession($"id{i}", Start.AddSeconds(i % 500), null, new byte[200]);
            }
        }

        IEnumerable<StoredSession> Failing(CancellationToken token)
        {
            for (var i = 0; i < 3000; i++)
            {
                yield return new StoredSession($"f{i}", Start, null, new byte[200]);
            }

            throw new IOException("the server went away");
        }

        var error = Assert.Throws<IOException>(() => AccessOrderSort.Sort(new Func<CancellationToken, IEnumerable<StoredSession>>[] { Endless, Failing }, 64 * 1024, CancellationToken.None, _folder).Count());
        Assert.Equal("the server went away", error.Message);
        Assert.True(otherStopped);
        Assert.Empty(SpillFiles());
    }

    [Fact]
    public void CancellingStopsTheSortAndLeavesNoFile()
    {
        using var cancel = new CancellationTokenSource();
        var source = Enumerable.Range(0, 20000).Select(i =>
        {
            if (i == 15000)
            {
                cancel.Cancel();
            }

            return new StoredSession($"id{i}", Start.AddSeconds(i % 1000), null, new byte[300]);
        });
        Assert.ThrowsAny<OperationCanceledException>(() => AccessOrderSort.Sort(source, 32 * 1024, cancel.Token, _folder).Count());
        Assert.Empty(SpillFiles());
    }

    /// <summary>
    /// A table in creation order with accessed times all over (as a real one is), many equal, payloads of every size,
    /// some over a block, ids a visitor could choose, created times present and absent, both payload kinds.
    /// </summary>
    private static List<StoredSession> MessyTable(int seed, int count)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i => new StoredSession(
            i % 7 == 0 ? $"visitor \u00e9\u2603 {i}" : Guid.NewGuid().ToString("N"),
            Start.AddMinutes(random.Next(0, 500)),
            i % 5 == 0 ? null : Start.AddSeconds(-i),
            Enumerable.Repeat((byte)(i % 251), i % 97 == 0 ? AccessOrderSort.BlockBytes + 3 : random.Next(0, 900)).ToArray())
        { Payload = i % 3 == 0 ? StoredPayload.SessionValue : StoredPayload.NamespaceDict }).ToList();
    }

    private static byte[] ReadWithCat(string file)
    {
        using var cat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("cat", file) { RedirectStandardOutput = true })!;
        using var copy = new MemoryStream();
        cat.StandardOutput.BaseStream.CopyTo(copy);
        cat.WaitForExit();
        Assert.Equal(0, cat.ExitCode);
        return copy.ToArray();
    }

    private string[] SpillFiles() => Directory.GetFiles(_folder);
}
