using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;

namespace BeakerHelpers.Core.Payload.Pickle;

/// <summary>
/// A number under one text key of a pickled dict, found without building the dict (docs/pickle.md#leading-entries):
/// how the Redis and memcached stores date each session before the listing decodes it. The opcodes are read from the
/// start as the reader reads them, through the dict's leading entries while their values are plain (numbers, text,
/// bytes, None, booleans), which is where Beaker puts _creation_time and _accessed_time. Whatever else comes first, and
/// anything unexpected, and the answer is left to the full reader (false): never a guess.
/// </summary>
internal static class LeadingEntries
{
    /// <summary>
    /// True when the pickle is a dict whose leading plain entries hold <paramref name="key"/>: then
    /// <paramref name="number"/> is its value when that is an int or a finite float, and null when it is another plain
    /// value. False: not found among the leading plain entries; the full reader decides.
    /// </summary>
    public static bool TryFindNumber(ReadOnlySpan<byte> pickle, ReadOnlySpan<byte> key, out double? number)
    {
        number = null;
        var reader = new Cursor(pickle);
        if (reader.Peek() == 0x80)
        {
            reader.Skip(2); // PROTO n
        }

        if (reader.Peek() == 0x95)
        {
            reader.Skip(9); // FRAME: a length hint
        }

        // The dict: EMPTY_DICT, or MARK DICT (protocols 0 and 1), then its memo entry.
        var open = reader.Take();
        if (!(open == '}' || (open == '(' && reader.Take() == 'd')))
        {
            return false;
        }

        reader.SkipMemo();
        var batched = false;
        while (!reader.Failed)
        {
            // A batch of entries (MARK … SETITEMS), or entries one at a time, each ended by SETITEM.
            if (!batched && reader.Peek() == '(')
            {
                reader.Skip(1);
                batched = true;
            }

            if (!reader.Text(out var entryKey))
            {
                return false;
            }

            reader.SkipMemo();
            var wanted = entryKey.SequenceEqual(key);
            if (!reader.PlainValue(wanted, out var value))
            {
                return false;
            }

            reader.SkipMemo();

            // What follows must make it an entry of the dict: SETITEM, or within a batch another key or SETITEMS.
            var next = reader.Peek();
            if (next == 's' && !batched)
            {
                reader.Skip(1);
            }
            else if (batched && next == 'u')
            {
                reader.Skip(1);
                batched = false;
            }
            else if (!batched || !Cursor.StartsText(next))
            {
                return false;
            }

            if (wanted)
            {
                number = value;
                return !reader.Failed;
            }
        }

        return false;
    }

    /// <summary>A read position in the pickle that fails (and stays failed) rather than throw.</summary>
    private ref struct Cursor
    {
        private readonly ReadOnlySpan<byte> _data;
        private int _pos;

        public Cursor(ReadOnlySpan<byte> data)
        {
            _data = data;
            _pos = 0;
            Failed = false;
        }

        public bool Failed { get; private set; }

        public static bool StartsText(int opcode) => opcode is 'V' or 'X' or 0x8c or 'U' or 'T';

        public int Peek() => _pos < _data.Length ? _data[_pos] : -1;

        public int Take()
        {
            var opcode = Peek();
            Skip(1);
            return opcode;
        }

        public void Skip(int count)
        {
            if (Failed || count > _data.Length - _pos)
            {
                Failed = true;
                return;
            }

            _pos += count;
        }

        /// <summary>A memo entry after a value: PUT, BINPUT, LONG_BINPUT or MEMOIZE.</summary>
        public void SkipMemo()
        {
            switch (Peek())
            {
                case 'p':
                    Skip(1);
                    Line();
                    break;
                case 'q':
                    Skip(2);
                    break;
                case 'r':
                    Skip(5);
                    break;
                case 0x94:
                    Skip(1);
                    break;
            }
        }

        /// <summary>A text value's bytes as the pickle holds them (raw-unicode-escape or UTF-8; Python 2 str).</summary>
        public bool Text(out ReadOnlySpan<byte> text)
        {
            text = default;
            switch (Take())
            {
                case 'V':
                    text = Line();
                    break;
                case 'X':
                case 'T':
                    text = Bytes(Length(4));
                    break;
                case 0x8c:
                case 'U':
                    text = Bytes(Length(1));
                    break;
                default:
                    return false;
            }

            return !Failed;
        }

        /// <summary>
        /// A value of a single opcode that is not a container nor an object: its number when it is one (the text of
        /// a protocol-0 number is parsed only when <paramref name="parse"/>: an entry before the key is passed over).
        /// </summary>
        public bool PlainValue(bool parse, out double? number)
        {
            number = null;
            var opcode = Peek();
            switch (opcode)
            {
                case 'N' or 0x88 or 0x89:
                    Skip(1);
                    break;
                case 'K':
                    Skip(1);
                    number = Bytes(1) is [var b] ? b : null;
                    break;
                case 'M':
                    Skip(1);
                    number = Bytes(2) is { Length: 2 } m ? BinaryPrimitives.ReadUInt16LittleEndian(m) : null;
                    break;
                case 'J':
                    Skip(1);
                    number = Bytes(4) is { Length: 4 } j ? BinaryPrimitives.ReadInt32LittleEndian(j) : null;
                    break;
                case 'G':
                    Skip(1);
                    number = Bytes(8) is { Length: 8 } g ? BinaryPrimitives.ReadDoubleBigEndian(g) : null;
                    break;
                case 'F':
                {
                    // Python's repr of a float; inf and nan, and anything odd, to the full reader.
                    Skip(1);
                    var line = Line();
                    if (!parse)
                    {
                        break;
                    }

                    if (!double.TryParse(line, NumberStyles.Float, CultureInfo.InvariantCulture, out var f))
                    {
                        return false;
                    }

                    number = f;
                    break;
                }

                case 'I':
                {
                    // "01" and "00" are Python 2's booleans.
                    Skip(1);
                    var line = Line();
                    if (line.SequenceEqual("01"u8) || line.SequenceEqual("00"u8))
                    {
                        break;
                    }

                    if (!Utf8Parser.TryParse(line, out long i, out var used) || used != line.Length)
                    {
                        return false;
                    }

                    number = i;
                    break;
                }

                case 'B':
                    Skip(1);
                    Bytes(Length(4));
                    break;
                case 'C':
                    Skip(1);
                    Bytes(Length(1));
                    break;
                default:
                    if (!StartsText(opcode) || !Text(out _))
                    {
                        return false;
                    }

                    break;
            }

            return !Failed && (number is not { } n || double.IsFinite(n));
        }

        private int Length(int width)
        {
            var bytes = Bytes(width);
            if (Failed)
            {
                return 0;
            }

            var length = width == 1 ? bytes[0] : BinaryPrimitives.ReadUInt32LittleEndian(bytes);
            if (length > (uint)(_data.Length - _pos))
            {
                Failed = true;
                return 0;
            }

            return (int)length;
        }

        private ReadOnlySpan<byte> Bytes(int count)
        {
            if (Failed || count > _data.Length - _pos)
            {
                Failed = true;
                return default;
            }

            var bytes = _data.Slice(_pos, count);
            _pos += count;
            return bytes;
        }

        private ReadOnlySpan<byte> Line()
        {
            if (Failed)
            {
                return default;
            }

            var end = _data[_pos..].IndexOf((byte)'\n');
            if (end < 0)
            {
                Failed = true;
                return default;
            }

            var line = _data.Slice(_pos, end);
            _pos += end + 1;
            return line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;
        }
    }
}
