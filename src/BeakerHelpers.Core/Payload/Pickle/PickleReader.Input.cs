using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace BeakerHelpers.Core.Payload.Pickle;

// Reading the payload's bytes: lengths checked before anything is allocated, text, numbers and protocol 0's lines (docs/pickle.md).
internal sealed partial class PickleReader
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private string Text(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > CachedTextBytes || utf8.Length < 2)
        {
            return Decode(utf8);
        }

        // Short strings are mostly keys. Their first and last bytes, read overlapping, hold the whole string: with
        // the length they are both the hash and the comparison.
        ulong head;
        ulong tail;
        if (utf8.Length >= 8)
        {
            head = BinaryPrimitives.ReadUInt64LittleEndian(utf8);
            tail = BinaryPrimitives.ReadUInt64LittleEndian(utf8[^8..]);
        }
        else if (utf8.Length >= 4)
        {
            head = BinaryPrimitives.ReadUInt32LittleEndian(utf8);
            tail = BinaryPrimitives.ReadUInt32LittleEndian(utf8[^4..]);
        }
        else
        {
            head = BinaryPrimitives.ReadUInt16LittleEndian(utf8);
            tail = utf8[^1];
        }

        var hash = (((head * 0x9E3779B97F4A7C15UL) ^ tail) * 0xC2B2AE3D27D4EB4FUL) ^ (ulong)utf8.Length;
        ref var slot = ref _texts[(int)(hash >> 52) & (TextSlots - 1)];
        if (slot.Head == head && slot.Tail == tail && slot.Bytes == utf8.Length && slot.Text != null)
        {
            return slot.Text;
        }

        var text = Decode(utf8);
        slot = new CachedText(head, tail, utf8.Length, text);
        return text;
    }

    /// <summary>UTF-8 to text; ASCII, which most of a session is, by widening alone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static string Decode(ReadOnlySpan<byte> utf8) =>
        utf8.Length == 0 ? string.Empty : System.Text.Ascii.IsValid(utf8) ? Encoding.Latin1.GetString(utf8) : Utf8.GetString(utf8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte ReadByte()
    {
        if (_pos >= _data.Length)
        {
            throw Truncated(1);
        }

        return _data[_pos++];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count > _data.Length - _pos)
        {
            throw Truncated(count);
        }

        var span = new ReadOnlySpan<byte>(_data, _pos, count);
        _pos += count;
        return span;
    }

    /// <summary>A length field of 4 or 8 bytes, checked against the bytes left before anything is allocated.</summary>
    private int ReadLength(int size, int limit)
    {
        var field = ReadBytes(size);
        var length = size == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(field) : BinaryPrimitives.ReadUInt64LittleEndian(field);
        if (_opcode == 0x8b && (int)BinaryPrimitives.ReadUInt32LittleEndian(field) < 0)
        {
            throw Malformed("LONG4 has a negative length");
        }

        if (length > (ulong)limit)
        {
            throw _opcode == 0x8b
                ? new PayloadException($"the pickle has an integer of {length} bytes at byte {_opcodeAt}, longer than the {limit} this reader takes (limit: integer size)")
                : Truncated(length > int.MaxValue ? long.MaxValue : (long)length);
        }

        if ((long)length > _data.Length - _pos)
        {
            throw Truncated((long)length);
        }

        return (int)length;
    }

    private ReadOnlySpan<byte> ReadLineBytes()
    {
        // Protocol 0's lines are mostly a few bytes (memo indices, keys): a plain loop finds their end sooner than a
        // vectorized search sets itself up; a longer line (text) is left to the vectorized search.
        var data = _data;
        var start = _pos;
        var end = start;
        var near = Math.Min(data.Length, start + 16);
        while (end < near && data[end] != '\n')
        {
            end++;
        }

        if (end == near)
        {
            var rest = new ReadOnlySpan<byte>(data, end, data.Length - end).IndexOf((byte)'\n');
            end = rest < 0 ? data.Length : end + rest;
        }

        if (end >= data.Length)
        {
            throw Malformed("its text argument has no end of line (truncated?)");
        }

        _pos = end + 1;
        var line = new ReadOnlySpan<byte>(data, start, end - start);
        return line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;
    }

    /// <summary>Decimal digits alone (no sign), as Python writes memo indices and most ints; false for anything else or past 18 digits.</summary>
    private static bool TryDigits(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 18)
        {
            return false;
        }

        foreach (var b in text)
        {
            var digit = (uint)(b - '0');
            if (digit > 9)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }

    private string ReadLine() => Utf8.GetString(ReadLineBytes());

    /// <summary>INT's line: Python 2's bools, a number parsed from the bytes, or the general (long) path.</summary>
    private object IntLine(ReadOnlySpan<byte> line)
    {
        if (line.SequenceEqual("01"u8))
        {
            return True;
        }

        if (line.SequenceEqual("00"u8))
        {
            return False;
        }

        if (TryDigits(line, out var digits))
        {
            return digits < 257 ? SmallInts[digits] : digits;
        }

        return line.Length is > 0 and < 19 && long.TryParse(line, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var small)
            ? small is >= 0 and < 257 ? SmallInts[small] : small
            : ParseInteger(Utf8.GetString(line));
    }

    /// <summary>FLOAT's line (Python's repr), parsed from the bytes; inf and nan by the general path.</summary>
    private object FloatLine(ReadOnlySpan<byte> line) =>
        double.TryParse(line, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : ParseFloat(Utf8.GetString(line));

    private object ParseInteger(string text)
    {
        var digits = text.Length - (text.StartsWith('-') || text.StartsWith('+') ? 1 : 0);
        if (digits > MaxIntegerDigits)
        {
            throw new PayloadException($"the pickle has an integer of {digits} digits at byte {_opcodeAt}, more than the {MaxIntegerDigits} Python itself prints (limit: integer size)");
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var small))
        {
            return small;
        }

        if (BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big))
        {
            return big;
        }

        throw Malformed($"'{Shorten(text)}' is not an integer");
    }

    private object ParseFloat(string text)
    {
        var value = text.ToLowerInvariant() switch
        {
            "inf" or "+inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            "nan" or "-nan" or "+nan" => double.NaN,
            _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw Malformed($"'{Shorten(text)}' is not a float"),
        };
        return value;
    }

    private static object LittleEndianInteger(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return 0L;
        }

        if (bytes.Length <= 8)
        {
            long value = (sbyte)bytes[^1];
            for (var i = bytes.Length - 2; i >= 0; i--)
            {
                value = (value << 8) | bytes[i];
            }

            return value;
        }

        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (long)big : big;
    }

    /// <summary>Python's raw-unicode-escape: bytes are Latin-1 except \uXXXX and \UXXXXXXXX.</summary>
    private string RawUnicodeEscape(ReadOnlySpan<byte> line)
    {
        // Without a backslash it is Latin-1, which for ASCII is the UTF-8 the cache of recurring strings holds.
        if (!line.Contains((byte)'\\'))
        {
            return Ascii.IsValid(line) ? Text(line) : Encoding.Latin1.GetString(line);
        }

        var text = new StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            var b = line[i];
            if (b == '\\' && i + 1 < line.Length && (line[i + 1] == 'u' || line[i + 1] == 'U'))
            {
                var width = line[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + width > line.Length || !int.TryParse(Encoding.ASCII.GetString(line.Slice(i + 2, width)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code) || code < 0 || code > 0x10FFFF)
                {
                    throw Malformed("a \\u escape in its text is not valid");
                }

                if (code >= 0xD800 && code <= 0xDFFF)
                {
                    text.Append((char)code);
                }
                else
                {
                    text.Append(char.ConvertFromUtf32(code));
                }

                i += 1 + width;
            }
            else
            {
                text.Append((char)b);
            }
        }

        return text.ToString();
    }

    /// <summary>A Python 2 byte-string repr, 'text' or "text", with its backslash escapes.</summary>
    private byte[] QuotedString(ReadOnlySpan<byte> line)
    {
        if (line.Length < 2 || (line[0] != '\'' && line[0] != '"') || line[^1] != line[0])
        {
            throw Malformed("its argument is not a quoted string");
        }

        var body = line[1..^1];
        var bytes = new List<byte>(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var b = body[i];
            if (b != '\\' || i + 1 == body.Length)
            {
                bytes.Add(b);
                continue;
            }

            var e = body[++i];
            switch (e)
            {
                case (byte)'n': bytes.Add((byte)'\n'); break;
                case (byte)'r': bytes.Add((byte)'\r'); break;
                case (byte)'t': bytes.Add((byte)'\t'); break;
                case (byte)'a': bytes.Add(7); break;
                case (byte)'b': bytes.Add(8); break;
                case (byte)'f': bytes.Add(12); break;
                case (byte)'v': bytes.Add(11); break;
                case (byte)'\\': case (byte)'\'': case (byte)'"': bytes.Add(e); break;
                case (byte)'\n': break;
                case (byte)'x':
                    if (i + 2 >= body.Length || !byte.TryParse(Encoding.ASCII.GetString(body.Slice(i + 1, 2)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
                    {
                        throw Malformed("a \\x escape in its string is not valid");
                    }

                    bytes.Add(hex);
                    i += 2;
                    break;
                case >= (byte)'0' and <= (byte)'7':
                    var octal = e - '0';
                    for (var n = 0; n < 2 && i + 1 < body.Length && body[i + 1] >= '0' && body[i + 1] <= '7'; n++)
                    {
                        octal = (octal * 8) + (body[++i] - '0');
                    }

                    bytes.Add((byte)octal);
                    break;
                default:
                    bytes.Add((byte)'\\');
                    bytes.Add(e);
                    break;
            }
        }

        return bytes.ToArray();
    }

    private PayloadException Truncated(long wanted) =>
        new($"the pickle ends inside {OpcodeNames.Name(_opcode)} at byte {_opcodeAt}: it needs {(wanted == long.MaxValue ? "more than 2 GiB" : wanted + " byte(s)")}, {_data.Length - _pos} remain (truncated?)");

    private PayloadException Malformed(string why) => new($"the pickle is malformed at byte {_opcodeAt} ({OpcodeNames.Name(_opcode)}): {why}");

    private static string Kind(object? value) => value switch
    {
        null => "None",
        PyGlobal g => "the name " + g,
        PyList => "a list",
        PyTuple => "a tuple",
        PyDict => "a dict",
        PySet => "a set",
        string => "a str",
        byte[] => "a bytes value",
        _ => "a " + value.GetType().Name switch { "Int64" => "int", "Double" => "float", "Boolean" => "bool", var n => n },
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>A short string by its UTF-8 bytes, which head, tail and length hold in full (see Text).</summary>
    private readonly record struct CachedText(ulong Head, ulong Tail, int Bytes, string? Text);
}
