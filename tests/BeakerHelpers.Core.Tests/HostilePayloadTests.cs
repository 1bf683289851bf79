using BeakerHelpers.Core.Payload.Values;
using System.Text;
using BeakerHelpers.Core.Payload;

namespace BeakerHelpers.Core.Tests;

/// <summary>
/// The nastiest inputs the fuzz task (build.ps1 -Task Fuzz) works through, as a fixed corpus: each must end as a
/// session or a per-session PayloadException, never another exception, a stack overflow or a huge allocation.
/// Session ids are client-controlled, so the payload may come from anyone (docs/storage.md#tables).
/// </summary>
public class HostilePayloadTests
{
    private const string Prefix = "(dp0\nS'session'\np1\n(dp2\nS'x'\np3\n";

    private static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);

    private static byte[] Protocol2(params byte[][] parts) => new byte[] { 0x80, 0x02 }.Concat(parts.SelectMany(p => p)).ToArray();

    /// <summary>Names only: xunit would otherwise format megabytes of theory data for every test listing.</summary>
    public static IEnumerable<object[]> Names() => Payloads().Select(c => new object[] { c.Name });

    private static IEnumerable<(string Name, byte[] Payload)> Payloads()
    {
        // Deep nesting: 200 000 lists inside each other (a recursive reader would overflow the stack).
        yield return ("lists nested 200000 deep", Ascii(Prefix + new string('(', 200_000) + new string('l', 200_000) + "ss."));
        yield return ("dicts nested 100000 deep", Ascii(Prefix + string.Concat(Enumerable.Repeat("(dS'k'\n", 100_000)) + string.Concat(Enumerable.Repeat("(ls", 1)) + "ss."));
        yield return ("unbalanced marks", Ascii(Prefix + new string('(', 50_000) + "ss."));

        // Lengths that promise far more than there is: BINUNICODE, BINBYTES, BINUNICODE8, BINBYTES8, BYTEARRAY8, FRAME, LONG4.
        yield return ("BINUNICODE of 4 GiB", Protocol2(new byte[] { (byte)'X', 0xFF, 0xFF, 0xFF, 0xFF }, Ascii("abc")));
        yield return ("BINSTRING of 2 GiB", Protocol2(new byte[] { (byte)'T', 0xFF, 0xFF, 0xFF, 0x7F }, Ascii("abc")));
        yield return ("BINBYTES8 of 2^63", new byte[] { 0x80, 0x05, 0x8e, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x61 });
        yield return ("BINUNICODE8 of 2^64-1", new byte[] { 0x80, 0x05, 0x8d, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x61 });
        yield return ("BYTEARRAY8 of 2^62", new byte[] { 0x80, 0x05, 0x96, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x61 });
        yield return ("FRAME of 2^63", new byte[] { 0x80, 0x05, 0x95, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7d, 0x2e });
        yield return ("LONG4 of 2 GiB digits", Protocol2(new byte[] { 0x8b, 0xFF, 0xFF, 0xFF, 0x7F, 0x01 }));
        yield return ("a 10 MB long", Protocol2(new byte[] { 0x8b, 0x80, 0x96, 0x98, 0x00 }, new byte[10_000_000], Ascii(".")));

        // References that do not exist, and a list that contains itself.
        yield return ("memo get of a missing index", Ascii(Prefix + "g999\nss."));
        yield return ("a list that contains itself", Ascii(Prefix + "(lp9\ng9\nass."));
        yield return ("a dict that contains itself", Ascii("(dp0\nS'session'\np1\n(dp2\nS'me'\np3\ng2\nss."));

        // Code it must never run: os.system, subprocess and eval through REDUCE, INST, OBJ, NEWOBJ and BUILD.
        yield return ("os.system via REDUCE", Ascii(Prefix + "cos\nsystem\n(S'touch /tmp/beakerhelpers-pwned'\ntRss."));
        yield return ("builtins.eval via REDUCE", Protocol2(Ascii("}U\u0007session}U\u0001xc__builtin__\neval\nU\u0004 1+1\u0085Rss.")));
        yield return ("os.system via INST", Ascii(Prefix + "(S'touch /tmp/beakerhelpers-pwned'\nios\nsystem\nss."));
        yield return ("os.system via OBJ", Ascii(Prefix + "(cos\nsystem\nS'touch /tmp/beakerhelpers-pwned'\noss."));
        yield return ("subprocess via REDUCE", Ascii(Prefix + "csubprocess\ncheck_call\n((S'touch'\nS'/tmp/beakerhelpers-pwned'\nltRss."));
        yield return ("os.system via STACK_GLOBAL", new byte[] { 0x80, 0x04, (byte)'}', 0x8c, 7 }.Concat("session"u8.ToArray()).Concat(new byte[] { (byte)'}', 0x8c, 1, (byte)'x', 0x8c, 2 })
            .Concat("os"u8.ToArray()).Concat(new byte[] { 0x8c, 6 }).Concat("system"u8.ToArray()).Concat(new byte[] { 0x93, 0x8c, 32 }).Concat("touch /tmp/beakerhelpers-pwned  "u8.ToArray()).Concat(new byte[] { 0x85, (byte)'R', (byte)'s', (byte)'s', (byte)'.' }).ToArray());
        yield return ("eval via BUILD __setstate__", Protocol2(Ascii("}U\u0007session}U\u0001xc__builtin__\nobject\n)\u0081c__builtin__\neval\nU\u00041+1\u0085bss.")));

        // Memo references that would expand a tiny payload into 10^9 values, and numbers that ask for huge allocations.
        yield return ("a list shared ten times at nine levels", SharedListBomb());
        yield return ("bytes(10**9)", Protocol2(Ascii("}U\u0007session}U\u0001xc__builtin__\nbytes\nJ"), new byte[] { 0x00, 0xCA, 0x9A, 0x3B }, Ascii("\u0085Rss.")));
        yield return ("an integer of 4 000 bytes", Protocol2(new byte[] { (byte)'}', (byte)'U', 7 }, Ascii("session"), new byte[] { (byte)'}', (byte)'U', 1, (byte)'x', 0x8b, 0xA0, 0x0F, 0, 0 }, new byte[4000], Ascii("ss.")));

        // A zlib header that asks for a preset dictionary (FDICT): zlib itself fails, with its own exception type.
        yield return ("zlib stream wanting a dictionary", TestPickles.SessionText(Convert.ToBase64String(new byte[] { 0x78, 0xBB, 1, 2, 3, 4, 5, 6, 7, 8 })));

        // Stack and opcode abuse.
        yield return ("STOP on an empty stack", Ascii("."));
        yield return ("an unknown opcode", new byte[] { 0x80, 0x02, 0xFE, 0x2e });
        yield return ("no STOP", Ascii(Prefix + "S'unterminated'\n"));
        yield return ("SETITEMS on a non-dict", Ascii("(lp0\n(S'a'\nS'b'\nu."));
        yield return ("a protocol 99 header", new byte[] { 0x80, 99, 0x7d, 0x2e });
        yield return ("empty input", Array.Empty<byte>());
    }

    /// <summary>
    /// {'session': {'x': L9}} where L0 = [] and L(n) = [L(n-1)] * 10 by memo reference: 10^9 values once expanded,
    /// in under 300 bytes.
    /// </summary>
    public static byte[] SharedListBomb()
    {
        var bytes = new List<byte> { 0x80, 0x02, (byte)'}', (byte)'U', 7 };
        bytes.AddRange("session"u8.ToArray());
        bytes.AddRange(new byte[] { (byte)'}', (byte)'U', 1, (byte)'x', (byte)']', (byte)'q', 0, (byte)'0' });
        for (byte level = 1; level <= 9; level++)
        {
            bytes.Add((byte)'(');
            for (var i = 0; i < 10; i++)
            {
                bytes.AddRange(new byte[] { (byte)'h', (byte)(level - 1) });
            }

            bytes.AddRange(new byte[] { (byte)'l', (byte)'q', level });
            if (level < 9)
            {
                bytes.Add((byte)'0');
            }
        }

        bytes.AddRange(new byte[] { (byte)'s', (byte)'s', (byte)'.' });
        return bytes.ToArray();
    }

    [Fact]
    public void TheSharedListBombIsAPerSessionErrorThatAllocatesLittle()
    {
        var bomb = SharedListBomb();
        Assert.True(bomb.Length < 300);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<PayloadException>(() => new SessionPayloadDecoder().Decode(bomb));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("SessionCorrupt", ex.ErrorId);
        Assert.Contains("limit: shared values", ex.Message);
        Assert.True(allocated < 50 * 1024 * 1024, $"decoding the bomb allocated {allocated / 1024 / 1024} MiB");
    }

    [Fact]
    public void ACallTheReaderDoesNotKnowIsOnlyItsName()
    {
        var payload = new SessionPayloadDecoder().Decode(Ascii(Prefix + "(S'touch /tmp/beakerhelpers-pwned'\nios\nsystem\nss."));
        var call = Assert.IsType<PythonObject>(payload.Values.Single().Value);
        Assert.Equal("os.system", call.ClassName);
        Assert.Equal(new object?[] { "touch /tmp/beakerhelpers-pwned" }, call[PythonObject.ArgsKey]);
        Assert.False(File.Exists("/tmp/beakerhelpers-pwned"));
    }

    [Theory]
    [InlineData("an integer of 4 000 bytes", "limit: integer size")]
    [InlineData("bytes(10**9)", "limit: zero bytes")]
    [InlineData("lists nested 200000 deep", "limit: nesting")]
    [InlineData("BINUNICODE of 4 GiB", "truncated")]
    [InlineData("an unknown opcode", "unknown opcode 0xfe at byte 2")]
    [InlineData("SETITEMS on a non-dict", "SETITEMS")]
    public void ErrorsSayWhatAndWhereInPythonTerms(string name, string expected)
    {
        var payload = Payloads().Single(c => c.Name == name).Payload;
        var ex = Assert.Throws<PayloadException>(() => new SessionPayloadDecoder().Decode(payload));
        Assert.Contains(expected, ex.Message);
        Assert.DoesNotContain("Razorvine", ex.Message);
        Assert.DoesNotContain("IObjectConstructor", ex.Message);
    }

    [Fact]
    public void TheSessionAfterTheBombLists()
    {
        var copy = Path.Combine(Path.GetTempPath(), "bh-bomb-" + Guid.NewGuid().ToString("n") + ".db");
        File.Copy(Path.Combine(FixtureStore.Directory, "sessions.db"), copy);
        try
        {
            var bob = FixtureStore.Rows("sessions.db").Single(r => r.GetProperty("kind").GetString() == "session" && r.GetProperty("values").TryGetProperty("user_name", out var u) && u[1].GetString() == "bob@example.com").GetProperty("id").GetString();
            using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + copy + ";Pooling=False"))
            {
                connection.Open();
                using var update = connection.CreateCommand();
                update.CommandText = "UPDATE beaker_cache SET data = $data WHERE namespace = $id";
                update.Parameters.AddWithValue("$data", SharedListBomb());
                update.Parameters.AddWithValue("$id", bob);
                Assert.Equal(1, update.ExecuteNonQuery());
            }

            using var store = Stores.Sql.SqliteDialect.Open(copy, "beaker_cache", null);
            var results = new Sessions.SessionReader(new SessionPayloadDecoder()).Read(store, null, CancellationToken.None).ToList();
            Assert.Contains("limit: shared values", results.Single(r => r.Id == bob).Error!.Message);
            var listed = results.Where(r => r.Session != null).Select(r => r.Id).ToList();
            var expected = FixtureStore.Rows("sessions.db").Where(r => r.GetProperty("kind").GetString() is "session" or "empty").Select(r => r.GetProperty("id").GetString()).Where(id => id != bob).ToList();
            Assert.Equal(expected.OrderBy(i => i), listed.OrderBy(i => i));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(copy);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void EndsAsASessionOrAPerSessionError(string name)
    {
        var payload = Payloads().Single(c => c.Name == name).Payload;
        try
        {
            var decoded = new SessionPayloadDecoder().Decode(payload);
            Assert.NotNull(decoded);
        }
        catch (PayloadException ex)
        {
            Assert.False(string.IsNullOrEmpty(ex.Message), name);
        }

        Assert.False(File.Exists("/tmp/beakerhelpers-pwned"), "the decoder ran code from the payload");
    }
}
