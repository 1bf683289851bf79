using System.Text;

namespace BeakerHelpers.Core.Tests;

/// <summary>Outer pickles built opcode by opcode, for payloads known as the value V only (docs/storage.md#payload).</summary>
internal static class TestPickles
{
    /// <summary>{'session': &lt;str&gt;} at protocol 2, as SQLAlchemy's PickleType writes a Beaker >= 1.12 (or encrypted) row.</summary>
    public static byte[] SessionText(string value)
    {
        var text = Encoding.ASCII.GetBytes(value);
        var bytes = new List<byte> { 0x80, 0x02, 0x7d, 0x71, 0x00, 0x58 };
        bytes.AddRange(BitConverter.GetBytes(7));
        bytes.AddRange("session"u8.ToArray());
        bytes.Add(0x58);
        bytes.AddRange(BitConverter.GetBytes(text.Length));
        bytes.AddRange(text);
        bytes.Add(0x73);
        bytes.Add(0x2e);
        return bytes.ToArray();
    }
}
