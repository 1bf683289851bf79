using BeakerHelpers.Core.Payload.Values;
using System.Numerics;
using System.Text;
using BeakerHelpers.Core.Payload;

namespace BeakerHelpers.Core.Tests;

/// <summary>
/// Rows that Python 2 wrote (Beaker 0.8-1.3.1 SQL rows, Py2 file/dbm sessions), built opcode by opcode as Python 2's pickle writes them
/// (docs/pickle.md), since Debian has no Python 2.
/// </summary>
public class Python2PickleTests
{
    /// <summary>Protocol-0 text: Latin-1 for the raw bytes the format allows (V lines carry Latin-1 characters as is).</summary>
    private static Dictionary<string, object?> Decode(string protocol0)
    {
        var payload = new SessionPayloadDecoder().Decode(Encoding.Latin1.GetBytes(protocol0));
        return payload.Values.ToDictionary(p => p.Key, p => p.Value);
    }

    [Fact]
    public void Protocol0ScalarsStringsMemoAndBools()
    {
        var values = Decode(
            "(dp1\nS'session'\np2\n(dp3\n" +
            "S'_accessed_time'\np4\nF1796094440.731839\n" +
            "sS'name'\np5\nVJ\u00fcrgen \\u65e5 \\u005c\\u000a\np6\n" +
            "sS'utf8'\np7\nS'J\\xc3\\xbcrgen'\np8\n" +
            "sS\"quote\"\np9\nS\"it's\"\np10\n" +
            "sS'admin'\np11\nI01\n" +
            "sS'guest'\np12\nI00\n" +
            "sS'count'\np13\nI42\n" +
            "sS'big'\np14\nL100000000000000000000L\n" +
            "sS'again'\np15\ng6\n" +
            "sS'none'\np16\nN" +
            "ss.");
        Assert.Equal("J\u00fcrgen \u65e5 \\\n", values["name"]);
        Assert.Equal("J\u00fcrgen", values["utf8"]);
        Assert.Equal("it's", values["quote"]);
        Assert.Equal(true, values["admin"]);
        Assert.Equal(false, values["guest"]);
        Assert.Equal(42L, values["count"]);
        Assert.Equal(BigInteger.Parse("100000000000000000000", System.Globalization.CultureInfo.InvariantCulture), values["big"]);
        Assert.Equal(values["name"], values["again"]);
        Assert.Null(values["none"]);
        Assert.Equal(1796094440.731839, values["_accessed_time"]);
    }

    [Fact]
    public void NewStyleObjectsThroughCopyRegReconstructor()
    {
        // A WebHelpers flash message, as Py2 protocol 0 pickles a new-style instance.
        var values = Decode(
            "(dp1\nS'session'\np2\n(dp3\nS'_flash'\np4\n(lp5\n" +
            "ccopy_reg\n_reconstructor\np6\n(cwebhelpers.pylonslib.flash\nMessage\np7\nc__builtin__\nobject\np8\nNtp9\nRp10\n" +
            "(dp11\nS'category'\np12\nS'notice'\np13\nsS'message'\np14\nS'Saved.'\np15\nsba" +
            "ss.");
        var flash = Assert.IsType<PythonList>(values["_flash"]);
        var message = Assert.IsAssignableFrom<PythonDict>(flash[0]);
        Assert.Equal("webhelpers.pylonslib.flash.Message", message["__class__"]);
        Assert.Equal("notice", message["category"]);
        Assert.Equal("Saved.", message["message"]);
    }

    [Fact]
    public void OldStyleInstancesThroughInst()
    {
        var values = Decode(
            "(dp1\nS'session'\np2\n(dp3\nS'cart'\np4\n" +
            "(i__main__\nCart\np5\n(dp6\nS'items'\np7\n(lp8\nS'apple'\np9\naS'pear'\np10\nasb" +
            "ss.");
        var cart = Assert.IsAssignableFrom<PythonDict>(values["cart"]);
        Assert.Equal("__main__.Cart", cart["__class__"]);
        Assert.Equal(new object?[] { "apple", "pear" }, cart["items"]);
    }

    [Fact]
    public void OldStyleInstancesThroughObjAtProtocol2()
    {
        // Protocol 2: PROTO 2, EMPTY_DICT, SHORT_BINSTRING 'session', EMPTY_DICT, key, MARK GLOBAL '__main__ Cart' OBJ, EMPTY_DICT BUILD ...
        var bytes = new List<byte> { 0x80, 0x02, (byte)'}', (byte)'U', 7 };
        bytes.AddRange("session"u8.ToArray());
        bytes.AddRange(new byte[] { (byte)'}', (byte)'U', 4 });
        bytes.AddRange("cart"u8.ToArray());
        bytes.Add((byte)'(');
        bytes.AddRange("c__main__\nCart\n"u8.ToArray());
        bytes.Add((byte)'o');
        bytes.AddRange(new byte[] { (byte)'}', (byte)'U', 5 });
        bytes.AddRange("total"u8.ToArray());
        bytes.AddRange(new byte[] { (byte)'K', 12, (byte)'s', (byte)'b', (byte)'s', (byte)'s', (byte)'.' });
        var payload = new SessionPayloadDecoder().Decode(bytes.ToArray());
        var cart = Assert.IsAssignableFrom<PythonDict>(payload.Values.Single(p => p.Key == "cart").Value);
        Assert.Equal("__main__.Cart", cart["__class__"]);
        Assert.Equal(12L, cart["total"]);
    }

    [Fact]
    public void TheFlatLayoutOfBeaker113AndEarlier()
    {
        var payload = new SessionPayloadDecoder().Decode(Encoding.Latin1.GetBytes(
            "(dp1\nS'_creation_time'\np2\nF1262304000.5\nsS'_accessed_time'\np3\nF1262307600.25\nsS'user'\np4\nS'ann'\np5\ns."));
        Assert.Equal(PayloadLayout.Flat, payload.Layout);
        var values = payload.Values.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("ann", values["user"]);
        Assert.Equal(1262307600.25, values["_accessed_time"]);
    }

    [Fact]
    public void Protocol2StandardTypesAsPython2WritesThem()
    {
        // cPickle.dumps(d, 2) on Python 2.7: byte-string states for datetime, Decimal from a str, set([...]),
        // OrderedDict from a list of [key, value] lists, a UUID through copy_reg._reconstructor and BUILD.
        var text =
            "\u0080\u0002}U\u0007session}(U\u0004when" +
            "cdatetime\ndatetime\nU\n\u0007\u00e8\u0002\u001d\r-\u001e\u0001\u00e2@\u0085R" +
            "U\u0005pricecdecimal\nDecimal\nU\u000519.99\u0085R" +
            "U\u0004tagsc__builtin__\nset\n]U\u0001aa\u0085R" +
            "U\u0005orderccollections\nOrderedDict\n]((U\u0001bK\u0001l(U\u0001aK\u0002le\u0085R" +
            "U\u0002idccopy_reg\n_reconstructor\ncuuid\nUUID\nc__builtin__\nobject\nN\u0087R}U\u0003int\u008a\u0011xV4\u0012xV4\u0012xV4\u0012xV4\u0012\u0000sb" +
            "us.";
        var payload = new SessionPayloadDecoder().Decode(Encoding.Latin1.GetBytes(text));
        var values = payload.Values.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(new DateTime(2024, 2, 29, 13, 45, 30).AddTicks(1234560), values["when"]);
        Assert.Equal(19.99m, values["price"]);
        Assert.Equal(new object?[] { "a" }, values["tags"]);
        var order = Assert.IsAssignableFrom<PythonDict>(values["order"]);
        Assert.Equal(new[] { "b", "a" }, order.Keys.Cast<string>());
        Assert.Equal(2L, order["a"]);
        Assert.Equal(Guid.Parse("12345678-1234-5678-1234-567812345678"), values["id"]);
    }
}
