using System.Buffers.Binary;
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
internal sealed partial class PickleReader
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

    /// <summary>
    /// When set, every class or function a pickle read on this thread names is added (module.name, at most
    /// <see cref="MaxNamedGlobals"/>): what the audit's scan reports of a payload (docs/audit.md). Nothing is imported.
    /// </summary>
    [ThreadStatic]
    private static List<string>? t_namedGlobals;

    internal const int MaxNamedGlobals = 64;

    /// <summary>Runs <paramref name="read"/> with the names of the globals its pickles name collected into <paramref name="names"/>.</summary>
    public static T NamingGlobals<T>(List<string> names, Func<T> read)
    {
        t_namedGlobals = names;
        try
        {
            return read();
        }
        finally
        {
            t_namedGlobals = null;
        }
    }

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
                    Push(IntLine(ReadLineBytes()));
                    break;
                case (byte)'L': // LONG: protocol 0 text, with Python 2's trailing 'L'.
                    var longText = ReadLine();
                    Push(ParseInteger(longText.EndsWith('L') ? longText[..^1] : longText));
                    break;
                case (byte)'G': // BINFLOAT
                    Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8)));
                    break;
                case (byte)'F': // FLOAT: protocol 0 text (repr)
                    Push(FloatLine(ReadLineBytes()));
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
                    Push(DictFromMark());
                    break;
                case (byte)'l': // LIST
                {
                    var from = PopMarkPosition();
                    Push(MoveInto(new PyList(_stack.Count - from), from));
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
                    Push(MoveInto(new PySet(frozen: true), PopMarkPosition()));
                    break;

                case (byte)'s': // SETITEM
                {
                    Require(3);
                    var value = Pop();
                    var key = Pop();
                    SetItem(_stack[^1], key, value);
                    break;
                }

                case (byte)'u': // SETITEMS
                    SetItems();
                    break;

                case (byte)'a': // APPEND
                {
                    Require(2);
                    var item = Pop();
                    Append(_stack[^1], item);
                    break;
                }

                case (byte)'e': // APPENDS
                case 0x90: // ADDITEMS
                    AppendItems();
                    break;

                // Classes, calls and objects: names and arguments only.
                case (byte)'c': // GLOBAL
                    Push(Global(Text(ReadLineBytes()), Text(ReadLineBytes())));
                    break;
                case 0x93: // STACK_GLOBAL
                    Push(StackGlobal());
                    break;

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
                    Push(NewObjectWithKeywords());
                    break;
                case (byte)'i': // INST
                {
                    var cls = Global(Text(ReadLineBytes()), Text(ReadLineBytes()));
                    Push(new PyCall(cls, TupleFrom(PopMarkPosition()), null, isNew: false));
                    break;
                }

                case (byte)'o': // OBJ
                    Push(ObjectFromMark());
                    break;
                case (byte)'b': // BUILD
                    Build();
                    break;

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
                    PopValueOrMark();
                    break;
                case (byte)'2': // DUP
                    Require(1);
                    _shared = true;
                    _stack.Add(_stack[^1]);
                    break;
                case (byte)'p': // PUT
                    Memoize(ParseMemoIndex(ReadLineBytes()));
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
                    Recall(ParseMemoIndex(ReadLineBytes()));
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
}
