using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace BeakerHelpers.Core.Payload.Pickle;

/// <summary>What <see cref="PickleReader"/> made of a payload.</summary>
/// <param name="Value">The top of the stack at STOP: plain values and the nodes of PickleNodes.cs.</param>
/// <param name="Protocol">The PROTO opcode's number, or 0 (protocol 0 and 1 have none).</param>
/// <param name="Shared">Whether a memo reference or DUP put one object in two places (the mapper then keeps it shared).</param>
/// <param name="Values">How many values the payload built.</param>
internal readonly record struct PickleResult(object? Value, int Protocol, bool Shared, int Values);

/// <summary>
/// Python's pickle machine for protocols 0-5 (every opcode pickletools lists), without its one dangerous step: it
/// never imports, calls or evaluates anything. A class or function is a <see cref="PyGlobal"/> name, a call is a
/// <see cref="PyCall"/> holding its arguments; <see cref="PythonValueMapper"/> turns the known ones into .NET
/// values afterwards. Memo references stay references. Every length the payload states is checked against the
/// bytes it has before anything is allocated, so a payload costs at most a small multiple of its own size
/// (docs/pickle.md).
/// </summary>
internal sealed class PickleReader
{
    /// <summary>A pickle larger than this is refused (a session is a few KiB; MySQL's BLOB holds 64 KiB).</summary>
    public const int MaxPayloadBytes = 64 * 1024 * 1024;

    /// <summary>Values one payload may build.</summary>
    public const int MaxValues = 4_000_000;

    /// <summary>Python itself refuses to print an int of more decimal digits than this (sys.int_max_str_digits).</summary>
    public const int MaxIntegerDigits = 4300;

    /// <summary>LONG1/LONG4 bytes that hold about <see cref="MaxIntegerDigits"/> digits.</summary>
    public const int MaxIntegerBytes = 1800;

    private static readonly object True = true;
    private static readonly object False = false;
    private static readonly Encoding Utf8 = Encoding.UTF8;

    private const int TextSlots = 4096;

    /// <summary>Strings up to this many UTF-8 bytes go through the cache of recurring strings.</summary>
    private const int CachedTextBytes = 16;

    /// <summary>Boxed small ints, as most ints in a session are (ids, counts, flags).</summary>
    private static readonly object[] SmallInts = Enumerable.Range(0, 257).Select(i => (object)(long)i).ToArray();

    [ThreadStatic]
    private static PickleReader? t_reader;

    private readonly ValueStack _stack = new(64);
    private readonly List<int> _marks = new(8);
    private readonly ValueStack _memo = new(64);

    /// <summary>
    /// Short strings decoded so far on this thread, by a hash of their UTF-8 bytes: a session's keys and many of its
    /// values recur from session to session, and are then neither decoded nor allocated again.
    /// </summary>
    private readonly CachedText[] _texts = new CachedText[TextSlots];

    /// <summary>The classes and functions named so far on this thread: one PyGlobal per name, its lookups done once.</summary>
    private readonly Dictionary<(string, string), PyGlobal> _globals = new();
    private PyGlobal? _lastGlobal;
    private Dictionary<long, object?>? _sparseMemo;

    private byte[] _data = Array.Empty<byte>();
    private int _pos;
    private int _opcodeAt;
    private byte _opcode;
    private int _values;
    private bool _shared;

    /// <summary>Reads one pickle. One reader per thread is reused: a new one per payload regrew its stack and memo.</summary>
    public static PickleResult Read(byte[] data)
    {
        if (data.Length > MaxPayloadBytes)
        {
            throw new PayloadException($"the pickle is {data.Length} bytes, more than the {MaxPayloadBytes / (1024 * 1024)} MiB this reader takes (limit: payload size)");
        }

        // Read never runs inside Read (an inner pickle is read after the outer one returned), so one reader a thread serves.
        var reader = t_reader ??= new PickleReader();
        try
        {
            return reader.Run(data);
        }
        finally
        {
            var large = reader._memo.Count > 4096 || reader._stack.Capacity > 4096;
            reader.Reset();
            if (large)
            {
                // A hostile payload's big memo is not kept for the rest of the thread's life.
                t_reader = null;
            }
        }
    }

    private void Reset()
    {
        _stack.Clear();
        _marks.Clear();
        _memo.Clear();
        _sparseMemo = null;
        _data = Array.Empty<byte>();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private PickleResult Run(byte[] data)
    {
        _data = data;
        _pos = 0;
        _values = 0;
        _shared = false;
        var protocol = 0;
        while (true)
        {
            if (_pos >= _data.Length)
            {
                throw new PayloadException(_pos == 0 ? "the pickle is empty" : $"the pickle ends at byte {_pos} without a STOP opcode (truncated?)");
            }

            _opcodeAt = _pos;
            _opcode = _data[_pos++];
            switch (_opcode)
            {
                case 0x80: // PROTO
                    protocol = ReadByte();
                    if (protocol > 5)
                    {
                        throw Malformed($"protocol {protocol} is newer than Python's highest, 5");
                    }

                    break;
                case 0x95: // FRAME: a length hint for buffered reading; the data is all here.
                    ReadBytes(8);
                    break;
                case (byte)'.': // STOP
                    if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count))
                    {
                        throw Malformed("the stack holds no value to return");
                    }

                    return new PickleResult(_stack[^1], protocol, _shared, _values);

                // Constants and numbers.
                case (byte)'N':
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(True);
                    break;
                case 0x89: // NEWFALSE
                    Push(False);
                    break;
                case (byte)'J': // BININT
                    var binint = BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4));
                    Push(binint is >= 0 and <= 256 ? SmallInts[binint] : (long)binint);
                    break;
                case (byte)'K': // BININT1
                    Push(SmallInts[ReadByte()]);
                    break;
                case (byte)'M': // BININT2
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2)));
                    break;
                case 0x8a: // LONG1
                    Push(LittleEndianInteger(ReadBytes(ReadByte())));
                    break;
                case 0x8b: // LONG4
                    Push(LittleEndianInteger(ReadBytes(ReadLength(4, MaxIntegerBytes))));
                    break;
                case (byte)'I': // INT: protocol 0 text; "01"/"00" are Python 2's bools.
                    var intText = ReadLine();
                    Push(intText switch { "01" => True, "00" => False, _ => ParseInteger(intText) });
                    break;
                case (byte)'L': // LONG: protocol 0 text, with Python 2's trailing 'L'.
                    var longText = ReadLine();
                    Push(ParseInteger(longText.EndsWith('L') ? longText[..^1] : longText));
                    break;
                case (byte)'G': // BINFLOAT
                    Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8)));
                    break;
                case (byte)'F': // FLOAT: protocol 0 text (repr)
                    Push(ParseFloat(ReadLine()));
                    break;

                // Text and bytes.
                case (byte)'X': // BINUNICODE
                    Push(Text(ReadBytes(ReadLength(4, int.MaxValue))));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(Text(ReadBytes(ReadByte())));
                    break;
                case 0x8d: // BINUNICODE8
                    Push(Utf8.GetString(ReadBytes(ReadLength(8, int.MaxValue))));
                    break;
                case (byte)'V': // UNICODE: protocol 0, raw-unicode-escape
                    Push(RawUnicodeEscape(ReadLineBytes()));
                    break;
                case (byte)'B': // BINBYTES
                    Push(ReadBytes(ReadLength(4, int.MaxValue)).ToArray());
                    break;
                case (byte)'C': // SHORT_BINBYTES
                    Push(ReadBytes(ReadByte()).ToArray());
                    break;
                case 0x8e: // BINBYTES8
                case 0x96: // BYTEARRAY8
                    Push(ReadBytes(ReadLength(8, int.MaxValue)).ToArray());
                    break;
                case (byte)'T': // BINSTRING
                    Push(new PyByteString(ReadBytes(ReadLength(4, int.MaxValue)).ToArray()));
                    break;
                case (byte)'U': // SHORT_BINSTRING
                    Push(new PyByteString(ReadBytes(ReadByte()).ToArray()));
                    break;
                case (byte)'S': // STRING: protocol 0, a quoted Python 2 repr
                    Push(new PyByteString(QuotedString(ReadLineBytes())));
                    break;

                // Containers.
                case (byte)'}': // EMPTY_DICT
                    Push(new PyDict());
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(new PyList());
                    break;
                case (byte)')': // EMPTY_TUPLE
                    Push(PyTuple.Empty);
                    break;
                case 0x8f: // EMPTY_SET
                    Push(new PySet(frozen: false));
                    break;
                case (byte)'d': // DICT
                {
                    var from = PopMarkPosition();
                    var dict = new PyDict((_stack.Count - from) / 2);
                    AddPairs(dict, from);
                    Push(dict);
                    break;
                }

                case (byte)'l': // LIST
                {
                    var from = PopMarkPosition();
                    var list = new PyList(_stack.Count - from);
                    MoveInto(list, from);
                    Push(list);
                    break;
                }

                case (byte)'t': // TUPLE
                    Push(TupleFrom(PopMarkPosition()));
                    break;
                case 0x85: // TUPLE1
                case 0x86: // TUPLE2
                case 0x87: // TUPLE3
                    var size = _opcode - 0x84;
                    Require(size);
                    Push(TupleFrom(_stack.Count - size));
                    break;
                case 0x91: // FROZENSET
                {
                    var from = PopMarkPosition();
                    var set = new PySet(frozen: true);
                    MoveInto(set, from);
                    Push(set);
                    break;
                }

                case (byte)'s': // SETITEM
                {
                    Require(3);
                    var value = Pop();
                    var key = Pop();
                    SetItem(_stack[^1], key, value);
                    break;
                }

                case (byte)'u': // SETITEMS
                {
                    var from = PopMarkPosition();
                    Require(1, from);
                    var target = _stack[from - 1];
                    if ((_stack.Count - from) % 2 != 0)
                    {
                        throw Malformed("SETITEMS needs key/value pairs, and an odd number of values follows the mark");
                    }

                    if (target is PyDict sized)
                    {
                        sized.EnsureCapacity(sized.Count + ((_stack.Count - from) / 2));
                    }

                    for (var i = from; i < _stack.Count; i += 2)
                    {
                        SetItem(target, _stack[i], _stack[i + 1]);
                    }

                    _stack.RemoveFrom(from);
                    break;
                }

                case (byte)'a': // APPEND
                {
                    Require(2);
                    var item = Pop();
                    Append(_stack[^1], item);
                    break;
                }

                case (byte)'e': // APPENDS
                case 0x90: // ADDITEMS
                {
                    var from = PopMarkPosition();
                    Require(1, from);
                    var target = _stack[from - 1];
                    for (var i = from; i < _stack.Count; i++)
                    {
                        Append(target, _stack[i]);
                    }

                    _stack.RemoveFrom(from);
                    break;
                }

                // Classes, calls and objects: names and arguments only.
                case (byte)'c': // GLOBAL
                    Push(Global(ReadLine(), ReadLine()));
                    break;
                case 0x93: // STACK_GLOBAL
                {
                    Require(2);
                    var name = Pop();
                    var module = Pop();
                    if (module is not string m || name is not string n)
                    {
                        throw Malformed("STACK_GLOBAL needs a module name and a name, both str");
                    }

                    Push(Global(m, n));
                    break;
                }

                case 0x82: // EXT1
                    Push(new PyExtension(ReadByte()));
                    break;
                case 0x83: // EXT2
                    Push(new PyExtension(BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))));
                    break;
                case 0x84: // EXT4
                    Push(new PyExtension(BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))));
                    break;
                case (byte)'R': // REDUCE
                {
                    Require(2);
                    var args = Pop() as PyTuple ?? throw Malformed("REDUCE needs a tuple of arguments on top of the callable");
                    Push(new PyCall(Pop(), args, null, isNew: false));
                    break;
                }

                case 0x81: // NEWOBJ
                {
                    Require(2);
                    var args = Pop() as PyTuple ?? throw Malformed("NEWOBJ needs a tuple of arguments on top of the class");
                    Push(new PyCall(Pop(), args, null, isNew: true));
                    break;
                }

                case 0x92: // NEWOBJ_EX
                {
                    Require(3);
                    var kwargs = Pop() as PyDict ?? throw Malformed("NEWOBJ_EX needs a dict of keyword arguments on top");
                    var args = Pop() as PyTuple ?? throw Malformed("NEWOBJ_EX needs a tuple of arguments under the keywords");
                    Push(new PyCall(Pop(), args, kwargs.Count == 0 ? null : kwargs, isNew: true));
                    break;
                }

                case (byte)'i': // INST
                {
                    var cls = Global(ReadLine(), ReadLine());
                    var from = PopMarkPosition();
                    var args = TupleFrom(from);
                    Push(new PyCall(cls, args, null, isNew: false));
                    break;
                }

                case (byte)'o': // OBJ
                {
                    var from = PopMarkPosition();
                    if (_stack.Count == from)
                    {
                        throw Malformed("OBJ needs a class after the mark");
                    }

                    var cls = _stack[from];
                    var args = _stack.Count - from > 1 ? TupleFrom(from + 1) : PyTuple.Empty;
                    _stack.RemoveAt(from);
                    Push(new PyCall(cls, args, null, isNew: true));
                    break;
                }

                case (byte)'b': // BUILD
                {
                    Require(2);
                    var state = Pop();
                    if (_stack[^1] is PyCall built)
                    {
                        built.AddState(state);
                    }
                    else
                    {
                        throw Malformed($"BUILD sets the state of {Kind(_stack[^1])}, which has none");
                    }

                    break;
                }

                // Stack and memo.
                case (byte)'(': // MARK
                    _marks.Add(_stack.Count);
                    break;
                case (byte)'1': // POP_MARK
                {
                    var from = PopMarkPosition();
                    _stack.RemoveFrom(from);
                    break;
                }

                case (byte)'0': // POP
                    if (_marks.Count > 0 && _marks[^1] == _stack.Count)
                    {
                        _marks.RemoveAt(_marks.Count - 1);
                    }
                    else
                    {
                        Require(1);
                        Pop();
                    }

                    break;
                case (byte)'2': // DUP
                    Require(1);
                    _shared = true;
                    _stack.Add(_stack[^1]);
                    break;
                case (byte)'p': // PUT
                    Memoize(ParseMemoIndex(ReadLine()));
                    break;
                case (byte)'q': // BINPUT
                    Memoize(ReadByte());
                    break;
                case (byte)'r': // LONG_BINPUT
                    Memoize(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)));
                    break;
                case 0x94: // MEMOIZE
                    Memoize(_memo.Count + (_sparseMemo?.Count ?? 0));
                    break;
                case (byte)'g': // GET
                    Recall(ParseMemoIndex(ReadLine()));
                    break;
                case (byte)'h': // BINGET
                    Recall(ReadByte());
                    break;
                case (byte)'j': // LONG_BINGET
                    Recall(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)));
                    break;

                case (byte)'P': // PERSID
                case (byte)'Q': // BINPERSID
                    throw Malformed("a persistent id refers to an object kept outside the pickle (Beaker never writes one)");
                case 0x97: // NEXT_BUFFER
                case 0x98: // READONLY_BUFFER
                    throw Malformed("an out-of-band buffer refers to data kept outside the pickle (Beaker never writes one)");
                default:
                    throw new PayloadException($"the pickle has an unknown opcode 0x{_opcode:x2} at byte {_opcodeAt}");
            }
        }
    }

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

    private PyGlobal Global(string module, string name)
    {
        // The same class again (a session's datetimes) comes with the same cached strings: no lookup needed.
        if (ReferenceEquals(module, _lastGlobal?.Module) && ReferenceEquals(name, _lastGlobal.Name))
        {
            return _lastGlobal;
        }

        if (!_globals.TryGetValue((module, name), out var global))
        {
            global = new PyGlobal(module, name);
            if (_globals.Count < 1024 && module.Length + name.Length < 256)
            {
                _globals[(module, name)] = global;
            }
        }

        _lastGlobal = global;
        return global;
    }

    /// <summary>The stack position of the innermost MARK, which is removed.</summary>
    private int PopMarkPosition()
    {
        if (_marks.Count == 0)
        {
            throw Malformed("it needs a MARK, and there is none");
        }

        var at = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        return at;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Push(object? value)
    {
        if (++_values > MaxValues)
        {
            throw TooManyValues();
        }

        _stack.Add(value);
    }

    private static PayloadException TooManyValues() => new($"the pickle builds more than {MaxValues} values (limit: values per payload)");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private object? Pop() => _stack.Pop();

    /// <summary>At least <paramref name="count"/> values above the innermost mark.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Require(int count)
    {
        var bottom = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count - bottom < count)
        {
            throw NeedsValues(count);
        }
    }

    /// <summary>At least <paramref name="count"/> values below a mark at <paramref name="floor"/>.</summary>
    private void Require(int count, int floor)
    {
        if (floor < count)
        {
            throw NeedsValues(count);
        }
    }

    private PayloadException NeedsValues(int count) => Malformed($"it needs {count} value(s) on the stack");

    /// <summary>Moves the values from <paramref name="from"/> up into a new list or set.</summary>
    private void MoveInto(List<object?> target, int from)
    {
        for (var i = from; i < _stack.Count; i++)
        {
            target.Add(_stack[i]);
        }

        _stack.RemoveFrom(from);
    }

    private PyTuple TupleFrom(int from)
    {
        var count = _stack.Count - from;
        if (count == 0)
        {
            return PyTuple.Empty;
        }

        var items = new object?[count];
        _stack.CopyTo(from, items, count);
        _stack.RemoveFrom(from);
        return new PyTuple(items);
    }

    private void AddPairs(PyDict dict, int from)
    {
        if ((_stack.Count - from) % 2 != 0)
        {
            throw Malformed("DICT needs key/value pairs, and an odd number of values follows the mark");
        }

        for (var i = from; i < _stack.Count; i += 2)
        {
            dict.Set(_stack[i], _stack[i + 1]);
        }

        _stack.RemoveFrom(from);
    }

    private void SetItem(object? target, object? key, object? value)
    {
        switch (target)
        {
            case PyDict dict:
                dict.Set(key, value);
                break;
            case PyCall call:
                call.SetItem(key, value);
                break;
            default:
                throw Malformed($"it sets an item of {Kind(target)}, which is no mapping");
        }
    }

    private void Append(object? target, object? item)
    {
        switch (target)
        {
            case PyList list:
                list.Add(item);
                break;
            case PySet { Frozen: false } set when _opcode == 0x90:
                set.Add(item);
                break;
            case PyCall call:
                call.Append(item);
                break;
            default:
                throw Malformed($"it adds an item to {Kind(target)}, which takes none");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Memoize(long index)
    {
        if (index == _memo.Count && _sparseMemo == null && _stack.Count > 0)
        {
            _memo.Add(_stack[_stack.Count - 1]);
            return;
        }

        MemoizeSlow(index);
    }

    private void MemoizeSlow(long index)
    {
        if (_stack.Count == 0)
        {
            throw Malformed("there is no value to memoize");
        }

        var value = _stack[^1];
        if (index == _memo.Count && _sparseMemo == null)
        {
            _memo.Add(value);
        }
        else if (index < _memo.Count)
        {
            _memo[(int)index] = value;
        }
        else
        {
            (_sparseMemo ??= new Dictionary<long, object?>())[index] = value;
        }
    }

    private void Recall(long index)
    {
        object? value;
        if (index < _memo.Count)
        {
            value = _memo[(int)index];
        }
        else if (_sparseMemo == null || !_sparseMemo.TryGetValue(index, out value))
        {
            throw Malformed($"memo entry {index} was never stored");
        }

        _shared = true;
        _stack.Add(value);
    }

    private long ParseMemoIndex(string text)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            throw Malformed($"'{Shorten(text)}' is not a memo index");
        }

        return index;
    }

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
        var rest = new ReadOnlySpan<byte>(_data, _pos, _data.Length - _pos);
        var end = rest.IndexOf((byte)'\n');
        if (end < 0)
        {
            throw Malformed("its text argument has no end of line (truncated?)");
        }

        _pos += end + 1;
        var line = rest[..end];
        return line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;
    }

    private string ReadLine() => Utf8.GetString(ReadLineBytes());

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

    private object LittleEndianInteger(ReadOnlySpan<byte> bytes)
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
