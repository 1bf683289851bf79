using System.Numerics;
using System.Runtime.InteropServices;
using BeakerHelpers.Core.Payload.Values;

namespace BeakerHelpers.Core.Payload.Pickle;

/// <summary>
/// The table of standard-library callables whose calls become .NET values (docs/pickle.md has it as a table):
/// the datetime family, Decimal, UUID, complex, bytes, sets, the collections types, Fraction, ipaddress, pathlib,
/// range, slice, struct_time, array, exceptions, enum members, and the copyreg/functools helpers pickle itself
/// uses to rebuild objects. Any other call, and a known one whose arguments are not what that callable takes,
/// becomes a <see cref="PythonObject"/> of the class it names. Nothing here is ever called.
/// </summary>
internal static partial class StandardCallables
{
    /// <summary>bytes(n)/bytearray(n) make n zero bytes: only this many are made from a number in the payload.</summary>
    private const int MaxZeroBytes = 64 * 1024;

    private delegate object? Handler(PythonValueMapper mapper, PyCall call, object?[] args, int depth);

    /// <summary>What PyGlobal.Handler holds for a name with no handler, so that it is looked up once.</summary>
    private static readonly object NoHandler = new();

    /// <summary>Zones found by their IANA or Windows id (a lookup costs microseconds); at most this many are kept.</summary>
    private const int CachedZones = 256;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TimeZoneInfo?> Zones = new(StringComparer.Ordinal);

    private static readonly Dictionary<string, Handler> Handlers = new(StringComparer.Ordinal)
    {
        ["builtins.getattr"] = EnumMember,
        ["_operator.or_"] = FlagCombination,
        ["operator.or_"] = FlagCombination,
        ["builtins.set"] = Sequence,
        ["builtins.frozenset"] = Sequence,
        ["builtins.list"] = Sequence,
        ["builtins.tuple"] = Sequence,
        ["collections.deque"] = Sequence,
        ["builtins.dict"] = Mapping,
        ["collections.OrderedDict"] = Mapping,
        ["collections.Counter"] = Mapping,
        ["collections.defaultdict"] = DefaultDict,
        ["builtins.bytes"] = Bytes,
        ["builtins.bytearray"] = Bytes,
        ["_codecs.encode"] = Encode,
        ["codecs.encode"] = Encode,
        ["builtins.complex"] = ComplexNumber,
        ["builtins.range"] = RangeOrSlice,
        ["builtins.slice"] = RangeOrSlice,
        ["copyreg._reconstructor"] = Reconstructor,
        ["copyreg.__newobj__"] = NewObj,
        ["copyreg.__newobj_ex__"] = NewObjEx,
        ["datetime.datetime"] = DateAndTime,
        ["datetime.date"] = DateAndTime,
        ["datetime.time"] = DateAndTime,
        ["datetime.timedelta"] = TimeDelta,
        ["datetime.timezone"] = Zone,
        ["pytz._UTC"] = Zone,
        ["pytz._p"] = Zone,
        ["zoneinfo.ZoneInfo"] = Zone,
        ["decimal.Decimal"] = DecimalNumber,
        ["fractions.Fraction"] = Fraction,
        ["ipaddress.IPv4Address"] = IpAddress,
        ["ipaddress.IPv6Address"] = IpAddress,
        ["ipaddress.IPv4Network"] = IpAddress,
        ["ipaddress.IPv6Network"] = IpAddress,
        ["ipaddress.IPv4Interface"] = IpAddress,
        ["ipaddress.IPv6Interface"] = IpAddress,
        ["pathlib.Path"] = FilePath,
        ["pathlib.PosixPath"] = FilePath,
        ["pathlib.WindowsPath"] = FilePath,
        ["pathlib.PurePath"] = FilePath,
        ["pathlib.PurePosixPath"] = FilePath,
        ["pathlib.PureWindowsPath"] = FilePath,
        ["time.struct_time"] = StructTime,
        ["array.array"] = NumberArray,
        ["array._array_reconstructor"] = NumberArray,
    };

    /// <summary>Python 2 module names (and Python 3 spellings) as Python 3's unpickler maps them.</summary>
    private static readonly Dictionary<string, string> Python2Modules = new(StringComparer.Ordinal)
    {
        ["__builtin__"] = "builtins",
        ["exceptions"] = "builtins",
        ["copy_reg"] = "copyreg",
        ["backports.zoneinfo"] = "zoneinfo",
        ["pathlib._local"] = "pathlib",
    };

    private static readonly Dictionary<string, string> Python2Names = new(StringComparer.Ordinal)
    {
        ["builtins.xrange"] = "builtins.range",
        ["builtins.unicode"] = "builtins.str",
        ["builtins.long"] = "builtins.int",
        ["builtins.basestring"] = "builtins.str",
        ["UserDict.UserDict"] = "collections.UserDict",
        ["UserList.UserList"] = "collections.UserList",
    };

    private static readonly HashSet<string> ExceptionNames = new(StringComparer.Ordinal)
    {
        "BaseException", "Exception", "KeyboardInterrupt", "SystemExit", "StopIteration", "StopAsyncIteration", "GeneratorExit",
    };

    private static readonly string[] StructTimeFields = { "tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec", "tm_wday", "tm_yday", "tm_isdst" };

    /// <summary>A class or function's name as Python 3 would look it up: 'module.Name'.</summary>
    public static string QualifiedName(PyGlobal global)
    {
        if (global.Qualified is { } known)
        {
            return known;
        }

        var module = Python2Modules.TryGetValue(global.Module, out var renamed) ? renamed : global.Module;
        var name = module + "." + global.Name;
        return global.Qualified = Python2Names.TryGetValue(name, out var modern) ? modern : name;
    }

    private static Handler? HandlerOf(PyGlobal global)
    {
        if (global.Handler is Handler known)
        {
            return known;
        }

        if (global.Handler == null)
        {
            global.Handler = Handlers.TryGetValue(QualifiedName(global), out var handler) ? handler : NoHandler;
        }

        return global.Handler as Handler;
    }

    public static object? Map(PythonValueMapper mapper, PyCall call, int depth)
    {
        switch (call.Callable)
        {
            case PyGlobal global:
                var name = QualifiedName(global);
                if (!call.IsNew && HandlerOf(global) is { } handler && handler(mapper, call, call.Args.Items, depth) is { } known)
                {
                    return known;
                }

                if (IsException(name) && call.DictItems == null && call.ListItems == null)
                {
                    return Exception(mapper, call, name, depth);
                }

                return Instance(mapper, call, name, call.Args.Items, call.Kwargs, depth);

            case PyCall { Callable: PyGlobal g } inner when QualifiedName(g) == "builtins.getattr" && inner.Args.Count == 2 && inner.Args.Items[0] is PyGlobal owner && inner.Args.Items[1] is string attribute:
                // getattr(Class, name)(...): Class.__new__(Class, *args), or ZoneInfo._unpickle(key, from_cache).
                var ownerName = QualifiedName(owner);
                if (attribute == "__new__" && call.Args.Count >= 1)
                {
                    return Instance(mapper, call, ClassName(call.Args.Items[0], ownerName), call.Args.Items[1..], call.Kwargs, depth);
                }

                if (ownerName == "zoneinfo.ZoneInfo" && attribute == "_unpickle" && call.Args.Count >= 1 && Text(call.Args.Items[0]) is { } key)
                {
                    return ZoneValue(key);
                }

                return Instance(mapper, call, ownerName + "." + attribute, call.Args.Items, call.Kwargs, depth);

            case PyCall { Callable: PyGlobal p } partialCall when QualifiedName(p) == "functools.partial" && PartialParts(partialCall) is { } parts:
                // functools.partial(func, *args, **kwargs)(*more): how protocol 2 writes __getnewargs_ex__.
                var args = parts.Args.Concat(call.Args.Items).ToArray();
                var merged = new PyCall(parts.Func, new PyTuple(args), call.Kwargs ?? parts.Kwargs, isNew: false);
                merged.TakeContentsOf(call);
                var result = Map(mapper, merged, depth + 1);
                mapper.Register(call, result);
                return result;

            default:
                return Instance(mapper, call, Describe(call.Callable), call.Args.Items, call.Kwargs, depth);
        }
    }

    /// <summary>
    /// An object of a class the reader does not know: '__class__', its arguments, the state BUILD gave it (a dict,
    /// or (dict, slots) for a class with __slots__, anything else under '__state__') and the items it was given.
    /// </summary>
    private static object Instance(PythonValueMapper mapper, PyCall call, string className, object?[] args, PyDict? kwargs, int depth)
    {
        if (className == "uuid.UUID" && Uuid(call) is { } guid)
        {
            return guid;
        }

        var instance = new PythonObject(className);
        mapper.Register(call, instance);
        if (args.Length > 0)
        {
            instance.Set(PythonObject.ArgsKey, PythonObject.ArgsKey, mapper.MapList(args, depth + 1));
        }

        if (kwargs is { Count: > 0 })
        {
            instance.Set(PythonObject.KwargsKey, PythonObject.KwargsKey, mapper.MapDict(kwargs, depth));
        }

        foreach (var state in call.States ?? new List<object?>())
        {
            switch (state)
            {
                case PyDict dict:
                    AddState(mapper, instance, dict, depth);
                    break;
                case PyTuple { Count: 2 } slotted when slotted.Items.All(i => i is null or PyDict):
                    foreach (var part in slotted.Items.OfType<PyDict>())
                    {
                        AddState(mapper, instance, part, depth);
                    }

                    break;
                default:
                    instance.Set(PythonObject.StateKey, PythonObject.StateKey, mapper.Map(state, depth + 1));
                    break;
            }
        }

        if (call.ListItems != null)
        {
            instance.Set(PythonObject.ItemsKey, PythonObject.ItemsKey, mapper.MapList(CollectionsMarshal.AsSpan(call.ListItems), depth + 1));
        }

        if (call.DictItems != null)
        {
            instance.Set(call.ListItems == null ? PythonObject.ItemsKey : PythonObject.ItemsKey + "~2", PythonObject.ItemsKey, mapper.MapDict(call.DictItems, depth));
        }

        return instance;
    }

    private static void AddState(PythonValueMapper mapper, PythonObject instance, PyDict state, int depth)
    {
        foreach (var entry in state.Entries)
        {
            var name = mapper.KeyText(entry.Key, depth + 1);
            var value = mapper.Map(entry.Value, depth + 1);

            // A state key called __class__ must not replace the class.
            instance.Set(name == PythonObject.ClassKey ? name + "~2" : name, name, value);
        }
    }

    private static object Exception(PythonValueMapper mapper, PyCall call, string className, int depth)
    {
        var args = mapper.MapArray(call.Args.Items, depth);
        var shortName = className[(className.IndexOf('.') + 1)..];
        var display = shortName + "(" + string.Join(", ", args.Select(a => a is string s ? PythonText.Repr(s, 0) : PythonText.Display(a))) + ")";
        var error = new PythonObject(className, display);
        mapper.Register(call, error);
        error.Set("args", "args", new PythonList(args));
        foreach (var state in call.States ?? new List<object?>())
        {
            if (state is PyDict dict)
            {
                AddState(mapper, error, dict, depth);
            }
        }

        return error;
    }

    private static bool IsException(string name) =>
        name.StartsWith("builtins.", StringComparison.Ordinal) &&
        (name.EndsWith("Error", StringComparison.Ordinal) || name.EndsWith("Exception", StringComparison.Ordinal) || name.EndsWith("Warning", StringComparison.Ordinal) || ExceptionNames.Contains(name[9..]));

    private static object? EnumMember(PythonValueMapper mapper, PyCall call, object?[] args, int depth) =>
        args is [PyGlobal owner, var member] && Text(member) is { } name && call.States == null ? new PythonEnumMember(QualifiedName(owner), name) : null;

    private static object? FlagCombination(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args.Length != 2)
        {
            return null;
        }

        var left = mapper.Map(args[0], depth + 1);
        var right = mapper.Map(args[1], depth + 1);
        return (left, right) switch
        {
            (PythonEnumMember a, PythonEnumMember b) when a.ClassName == b.ClassName => new PythonEnumMember(a.ClassName, a.MemberName + "|" + b.MemberName),
            (long a, long b) => a | b,
            _ => null,
        };
    }

    private static object Rune(uint code) => code <= 0x10FFFF && (code < 0xD800 || code > 0xDFFF) ? char.ConvertFromUtf32((int)code) : "\ufffd";

    private static object Small(BigInteger value) => value >= long.MinValue && value <= long.MaxValue ? (long)value : value;

    private static object Small(ulong value) => value <= long.MaxValue ? (long)value : new BigInteger(value);

    /// <summary>uuid.UUID: NEWOBJ then BUILD {'int': n}; its text is the 16 bytes of n, big-endian, grouped 8-4-4-4-12.</summary>
    private static Guid? Uuid(PyCall call)
    {
        if (call.States is not [PyDict state] || call.Args.Count != 0)
        {
            return null;
        }

        object? number = null;
        foreach (var entry in state.Entries)
        {
            if (entry.Key is string k ? k == "int" : entry.Key is PyByteString b && b.Bytes.AsSpan().SequenceEqual("int"u8))
            {
                number = entry.Value;
                break;
            }
        }

        BigInteger? n = number switch { BigInteger b => b, long l => l, _ => null };
        if (n is not { Sign: >= 0 } value || value.GetByteCount(isUnsigned: true) > 16)
        {
            return null;
        }

        var bytes = new byte[16];
        var raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        raw.CopyTo(bytes, 16 - raw.Length);
        return new Guid(bytes, bigEndian: true);
    }

    private static (object? Func, object?[] Args, PyDict? Kwargs)? PartialParts(PyCall partial)
    {
        // partial.__reduce__ is (partial, (func,), (func, args, kwds, dict)); the state holds all of it.
        if (partial.States is [PyTuple { Count: 4 } state] && state.Items[1] is PyTuple args)
        {
            return (state.Items[0], args.Items, state.Items[2] as PyDict);
        }

        return partial.Args.Count >= 1 ? (partial.Args.Items[0], partial.Args.Items[1..], partial.Kwargs) : null;
    }

    private static string ClassName(object? cls, string fallback) => cls is PyGlobal global ? QualifiedName(global) : fallback;

    private static string Describe(object? callable) => callable switch
    {
        PyGlobal global => QualifiedName(global),
        PyExtension extension => extension.ToString(),
        PyCall { Callable: PyGlobal g } inner when QualifiedName(g) == "builtins.getattr" && inner.Args.Items is [PyGlobal owner, string attribute] => QualifiedName(owner) + "." + attribute,
        PyCall inner => Describe(inner.Callable) + "()",
        _ => "(callable)",
    };

    private static string? Text(object? value) => value switch
    {
        string s => s,
        PyByteString b => PythonValueMapper.Python2Text(b.Bytes),
        _ => null,
    };

    private static double? Number(object? value) => value switch
    {
        double d => d,
        long l => l,
        BigInteger b => (double)b,
        _ => null,
    };

    private static DateTime? ValidDate(int year, int month, int day) =>
        year is >= 1 and <= 9999 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month) ? new DateTime(year, month, day) : null;

    private static long Micro(byte[] state, int at) => (state[at] << 16) | (state[at + 1] << 8) | state[at + 2];
}
