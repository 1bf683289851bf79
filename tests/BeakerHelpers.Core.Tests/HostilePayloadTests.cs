using System.Collections.Specialized;
using System.Text;
using BeakerHelpers.Core.Payload;

namespace BeakerHelpers.Core.Tests;

/// <summary>
/// The nastiest inputs the fuzz task (build.ps1 -Task Fuzz) works through, as a fixed corpus: each must end as a
/// session or a per-session PayloadException, never another exception, a stack overflow or a huge allocation.
/// Session ids are client-controlled, so the payload may come from anyone (spec §2.2).
/// </summary>
public class HostilePayloadTests
{
    private const string Prefix = "(dp0\nS'session'\np1\n(dp2\nS'x'\np3\n";

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

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

        // Code it must never run: os.system through REDUCE, and eval through a copy_reg reconstructor.
        yield return ("os.system via REDUCE", Ascii(Prefix + "cos\nsystem\n(S'touch /tmp/beakerhelpers-pwned'\ntRss."));
        yield return ("builtins.eval via REDUCE", Protocol2(Ascii("}U\u0007session}U\u0001xc__builtin__\neval\nU\u0004 1+1\u0085Rss.")));

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
