using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using BeakerHelpers.Core.Payload.Values;

namespace BeakerHelpers.Core.Payload.Pickle;

/// <summary>
/// The table of standard-library callables whose calls become .NET values (docs/pickle.md has it as a table):
/// the datetime family, Decimal, UUID, complex, bytes, sets, the collections types, Fraction, ipaddress, pathlib,
/// range, slice, struct_time, array, exceptions, enum members, and the copyreg/functools helpers pickle itself
/// uses to rebuild objects. Any other call, and a known one whose arguments are not what that callable takes,
/// becomes a <see cref="PythonObject"/> of the class it names. Nothing here is ever called.
/// </summary>
internal static class StandardCallables
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
    private static object Instance(PythonValueMapper mapper, PyCall call, string className, IReadOnlyList<object?> args, PyDict? kwargs, int depth)
    {
        if (className == "uuid.UUID" && Uuid(call) is { } guid)
        {
            return guid;
        }

        var instance = new PythonObject(className);
        mapper.Register(call, instance);
        if (args.Count > 0)
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
            instance.Set(PythonObject.ItemsKey, PythonObject.ItemsKey, mapper.MapList(call.ListItems, depth + 1));
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

    /// <summary>set, frozenset, list, tuple, deque: their first argument's items and any added after; object[].</summary>
    private static object? Sequence(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (call.States != null || call.DictItems != null || args.Length > 2 || (args.Length > 0 && args[0] is not (null or PyList or PyTuple or PySet)))
        {
            return null;
        }

        var items = new List<object?>();
        switch (args.Length > 0 ? args[0] : null)
        {
            case PyList list:
                items.AddRange(list);
                break;
            case PyTuple tuple:
                items.AddRange(tuple.Items);
                break;
            case PySet set:
                items.AddRange(set);
                break;
        }

        if (call.ListItems != null)
        {
            items.AddRange(call.ListItems);
        }

        return mapper.MapList(items, depth, call);
    }

    /// <summary>dict, OrderedDict, Counter: a dict, a list of pairs, keyword arguments, items set after; a PythonDict.</summary>
    private static object? Mapping(PythonValueMapper mapper, PyCall call, object?[] args, int depth) =>
        call.States == null && call.ListItems == null && args.Length <= 1 ? MappingFrom(mapper, call, args.Length == 1 ? args[0] : null, depth) : null;

    /// <summary>defaultdict(factory[, items]): the factory is not kept, the items are.</summary>
    private static object? DefaultDict(PythonValueMapper mapper, PyCall call, object?[] args, int depth) =>
        call.States == null && call.ListItems == null && args.Length <= 2 ? MappingFrom(mapper, call, args.Length == 2 ? args[1] : null, depth) : null;

    private static object? MappingFrom(PythonValueMapper mapper, PyCall call, object? initial, int depth)
    {
        var dict = new PythonDict();
        mapper.Register(call, dict);
        switch (initial)
        {
            case null:
                break;
            case PyDict pairs:
                mapper.MapDict(pairs, depth, dict);
                break;
            case PyList or PyTuple:
                var pairList = new PyDict();
                foreach (var pair in initial is PyList l ? (IEnumerable<object?>)l : ((PyTuple)initial).Items)
                {
                    switch (pair)
                    {
                        case PyList { Count: 2 } p:
                            pairList.Set(p[0], p[1]);
                            break;
                        case PyTuple { Count: 2 } t:
                            pairList.Set(t.Items[0], t.Items[1]);
                            break;
                        default:
                            return null;
                    }
                }

                mapper.MapDict(pairList, depth, dict);
                break;
            default:
                return null;
        }

        if (call.Kwargs != null)
        {
            mapper.MapDict(call.Kwargs, depth, dict);
        }

        if (call.DictItems != null)
        {
            mapper.MapDict(call.DictItems, depth, dict);
        }

        return dict;
    }

    /// <summary>bytes()/bytearray(): empty, from a list of byte values, from (text, encoding), or n zero bytes.</summary>
    private static object? Bytes(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (call.States != null || call.DictItems != null || call.ListItems != null)
        {
            return null;
        }

        switch (args)
        {
            case []:
                return Array.Empty<byte>();
            case [byte[] bytes]:
                return bytes;
            case [PyList list] when list.All(i => i is long b && b is >= 0 and <= 255):
                return list.Select(i => (byte)(long)i!).ToArray();
            case [long count] when count is >= 0 and <= MaxZeroBytes:
                return new byte[count];
            case [long count] when count > MaxZeroBytes:
                throw new PayloadException($"the pickle asks for {count} zero bytes (bytes({count})), more than the {MaxZeroBytes} this reader makes (limit: zero bytes)");
            case [var text, var encoding] when Text(text) is { } t && Text(encoding) is { } e:
                return EncodeText(t, e);
            case [PyCall inner]:
                return mapper.Map(inner, depth + 1) as byte[];
            default:
                return null;
        }
    }

    /// <summary>_codecs.encode(text, 'latin1'): how protocol 2 writes Python 3 bytes.</summary>
    private static object? Encode(PythonValueMapper mapper, PyCall call, object?[] args, int depth) =>
        args is [var text, var encoding] && Text(text) is { } t && Text(encoding) is { } e ? EncodeText(t, e) : args is [var only] && Text(only) is { } u ? Encoding.UTF8.GetBytes(u) : null;

    private static byte[]? EncodeText(string text, string encoding)
    {
        switch (encoding.ToLowerInvariant().Replace('_', '-'))
        {
            case "latin1":
            case "latin-1":
            case "iso-8859-1":
            case "iso8859-1":
            case "l1":
                return text.All(c => c <= '\u00ff') ? Encoding.Latin1.GetBytes(text) : null;
            case "utf-8":
            case "utf8":
                return Encoding.UTF8.GetBytes(text);
            case "ascii":
                return text.All(c => c < '\u0080') ? Encoding.ASCII.GetBytes(text) : null;
            default:
                return null;
        }
    }

    private static object? ComplexNumber(PythonValueMapper mapper, PyCall call, object?[] args, int depth) =>
        args.Length is 1 or 2 && Number(args[0]) is { } re && (args.Length == 1 || Number(args[1]) is not null) ? new Complex(re, args.Length == 2 ? Number(args[1])!.Value : 0) : null;

    /// <summary>range(start, stop, step) and slice(start, stop, step): shown as Python shows them, with those three keys.</summary>
    private static object? RangeOrSlice(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args.Length is < 1 or > 3 || call.States != null)
        {
            return null;
        }

        var values = mapper.MapArray(args, depth);
        var isRange = ((PyGlobal)call.Callable!).Name is "range" or "xrange";
        var (start, stop, step) = values.Length switch
        {
            1 => (isRange ? 0L : null, values[0], isRange ? 1L : null),
            2 => (values[0], values[1], isRange ? 1L : null),
            _ => (values[0], values[1], values[2]),
        };
        var kind = isRange ? "range" : "slice";
        var shown = isRange && Equals(step, 1L) ? $"range({PythonText.Display(start)}, {PythonText.Display(stop)})" : $"{kind}({PythonText.Display(start)}, {PythonText.Display(stop)}, {PythonText.Display(step)})";
        var result = new PythonObject("builtins." + kind, shown);
        result.Set("start", "start", start);
        result.Set("stop", "stop", stop);
        result.Set("step", "step", step);
        return result;
    }

    /// <summary>copyreg._reconstructor(cls, base, state): objects of new-style classes at protocols 0 and 1.</summary>
    private static object? Reconstructor(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args is not [PyGlobal cls, PyGlobal, var baseState])
        {
            return null;
        }

        var rebuilt = new PyCall(cls, PyTuple.Empty, null, isNew: true);
        switch (baseState)
        {
            case PyDict items:
                foreach (var entry in items.Entries)
                {
                    rebuilt.SetItem(entry.Key, entry.Value);
                }

                break;
            case PyList list:
                foreach (var item in list)
                {
                    rebuilt.Append(item);
                }

                break;
        }

        rebuilt.TakeContentsOf(call);
        var result = Instance(mapper, rebuilt, QualifiedName(cls), Array.Empty<object?>(), null, depth);
        mapper.Register(call, result);
        return result;
    }

    private static object? NewObj(PythonValueMapper mapper, PyCall call, object?[] args, int depth) =>
        args.Length >= 1 && args[0] is PyGlobal cls ? Instance(mapper, call, QualifiedName(cls), args[1..], null, depth) : null;

    private static object? NewObjEx(PythonValueMapper mapper, PyCall call, object?[] args, int depth) =>
        args is [PyGlobal cls, PyTuple newArgs, var kwargs] && kwargs is null or PyDict ? Instance(mapper, call, QualifiedName(cls), newArgs.Items, kwargs as PyDict, depth) : null;

    /// <summary>
    /// datetime.datetime/date/time from their packed state (10, 4 or 6 bytes; docs/pickle.md), with an optional
    /// tzinfo: a fixed offset or a resolvable zone makes a datetime a DateTimeOffset.
    /// </summary>
    private static object? DateAndTime(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args.Length is < 1 or > 2 || call.States != null)
        {
            return null;
        }

        var state = args[0] switch
        {
            byte[] b => b,
            PyByteString s => s.Bytes,
            string text when text.All(c => c <= '\u00ff') => Encoding.Latin1.GetBytes(text),
            PyCall inner => mapper.Map(inner, depth + 1) as byte[],
            _ => null,
        };
        if (state == null)
        {
            return null;
        }

        var kind = ((PyGlobal)call.Callable!).Name;
        switch (kind)
        {
            case "date" when state.Length == 4:
                return ValidDate(state[0] * 256 + state[1], state[2], state[3]) is { } date ? date : throw new PayloadException("a datetime.date state is not a valid date");
            case "time" when state.Length == 6:
                if ((state[0] & 0x7f) > 23 || state[1] > 59 || state[2] > 59 || Micro(state, 3) > 999_999)
                {
                    throw new PayloadException("a datetime.time state is not a valid time of day");
                }

                return new TimeSpan(0, state[0] & 0x7f, state[1], state[2]) + TimeSpan.FromTicks(Micro(state, 3) * 10);
            case "datetime" when state.Length == 10:
                if (ValidDate(state[0] * 256 + state[1], state[2] & 0x7f, state[3]) is not { } day || state[4] > 23 || state[5] > 59 || state[6] > 59 || Micro(state, 7) > 999_999)
                {
                    throw new PayloadException("a datetime.datetime state is not a valid date and time");
                }

                var wall = day.Add(new TimeSpan(state[4], state[5], state[6])).AddTicks(Micro(state, 7) * 10);
                return args.Length == 2 && args[1] != null ? WithZone(mapper, wall, fold: (state[2] & 0x80) != 0, args[1], depth) : wall;
            default:
                return null;
        }
    }

    private static object WithZone(PythonValueMapper mapper, DateTime wall, bool fold, object? tzinfo, int depth)
    {
        var zone = mapper.Map(tzinfo, depth + 1) as PythonObject;
        if (zone != null && zone.TryGetValue("offset", out var o) && o is TimeSpan offset && offset.Ticks % TimeSpan.TicksPerMinute == 0 && offset.Duration() <= TimeSpan.FromHours(14))
        {
            return new DateTimeOffset(wall, offset);
        }

        if (zone != null && zone.TryGetValue("key", out var k) && k is string key)
        {
            if (FindZone(key) is { } info)
            {
                TimeSpan at;
                if (info.IsAmbiguousTime(wall))
                {
                    // Python's fold: 0 is the first of the two wall times (the larger offset), 1 the repeat.
                    var offsets = info.GetAmbiguousTimeOffsets(wall);
                    at = fold ? offsets.Min() : offsets.Max();
                }
                else
                {
                    at = info.GetUtcOffset(DateTime.SpecifyKind(wall, DateTimeKind.Unspecified));
                }

                if (at.Ticks % TimeSpan.TicksPerMinute == 0)
                {
                    return new DateTimeOffset(wall, at);
                }
            }

            // A zone this machine does not know: the wall time and the zone's name, not a guessed offset.
            var zoned = new PythonObject("datetime.datetime", PythonText.Display(wall) + " " + key);
            zoned.Set("datetime", "datetime", wall);
            zoned.Set("tzinfo", "tzinfo", key);
            return zoned;
        }

        // A tzinfo class of the application's (or an offset .NET cannot hold): the wall time, as the app shows it.
        return wall;
    }

    private static TimeZoneInfo? FindZone(string key)
    {
        if (Zones.TryGetValue(key, out var cached))
        {
            return cached;
        }

        TimeZoneInfo? zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(key);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException or System.Security.SecurityException)
        {
            zone = null;
        }

        if (Zones.Count < CachedZones)
        {
            Zones[key] = zone;
        }

        return zone;
    }

    /// <summary>timezone(timedelta[, name]), pytz's _UTC() and _p(zone, utcoffset, ...), ZoneInfo(key): the offset or the zone's name.</summary>
    private static object? Zone(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        switch (((PyGlobal)call.Callable!).Name)
        {
            case "timezone" when args.Length is 1 or 2 && mapper.Map(args[0], depth + 1) is TimeSpan offset && offset.Duration() < TimeSpan.FromDays(1):
                return OffsetValue(offset, args.Length == 2 ? Text(args[1]) : null);
            case "_UTC":
                return OffsetValue(TimeSpan.Zero, "UTC");
            case "_p" when args.Length >= 2 && Text(args[0]) is { } zone && args[1] is long seconds && Math.Abs(seconds) < 86400:
                var fixedZone = OffsetValue(TimeSpan.FromSeconds(seconds), zone);
                fixedZone.Set("key", "key", zone);
                return fixedZone;
            case "ZoneInfo" when args.Length == 1 && Text(args[0]) is { } key:
                return ZoneValue(key);
            default:
                return null;
        }
    }

    private static PythonObject OffsetValue(TimeSpan offset, string? name)
    {
        var text = name ?? ("UTC" + (offset < TimeSpan.Zero ? "-" : "+") + offset.Duration().ToString(@"hh\:mm", CultureInfo.InvariantCulture));
        var zone = new PythonObject("datetime.timezone", text);
        zone.Set("offset", "offset", offset);
        return zone;
    }

    private static PythonObject ZoneValue(string key)
    {
        var zone = new PythonObject("zoneinfo.ZoneInfo", key);
        zone.Set("key", "key", key);
        return zone;
    }

    private static object? TimeDelta(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args is not [long days, long seconds, long micro])
        {
            return null;
        }

        if (Math.Abs(days) <= 10_000_000)
        {
            return TimeSpan.FromDays(days) + TimeSpan.FromSeconds(seconds) + TimeSpan.FromTicks(micro * 10);
        }

        // Python's timedelta reaches 999 999 999 days, .NET's TimeSpan about 10.6 million.
        var longer = new PythonObject("datetime.timedelta", $"timedelta(days={days}, seconds={seconds}, microseconds={micro})");
        longer.Set("days", "days", days);
        longer.Set("seconds", "seconds", seconds);
        longer.Set("microseconds", "microseconds", micro);
        return longer;
    }

    /// <summary>Decimal(text): a decimal; NaN and Infinity (which decimal cannot hold) as a double; past decimal's range, a double too.</summary>
    private static object? DecimalNumber(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args.Length != 1 || Text(args[0]) is not { } text)
        {
            return null;
        }

        text = text.Trim();
        switch (text.ToLowerInvariant().TrimStart('+'))
        {
            case "nan":
            case "snan":
            case "-nan":
            case "-snan":
                return double.NaN;
            case "infinity":
            case "inf":
                return double.PositiveInfinity;
            case "-infinity":
            case "-inf":
                return double.NegativeInfinity;
        }

        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var approximate) ? approximate : text;
    }

    /// <summary>Fraction(numerator, denominator), or Fraction('n/d') from older Pythons: shown as n/d.</summary>
    private static object? Fraction(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        object? numerator;
        object? denominator;
        switch (args)
        {
            case [var n, var d] when n is long or BigInteger && d is long or BigInteger:
                (numerator, denominator) = (n, d);
                break;
            case [var only] when Text(only) is { } text:
                var parts = text.Split('/');
                if (parts.Length > 2 || !BigInteger.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var top))
                {
                    return null;
                }

                var bottom = BigInteger.One;
                if (parts.Length == 2 && !BigInteger.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out bottom))
                {
                    return null;
                }

                (numerator, denominator) = (Small(top), Small(bottom));
                break;
            default:
                return null;
        }

        var fraction = new PythonObject("fractions.Fraction", $"{PythonText.Display(numerator)}/{PythonText.Display(denominator)}");
        fraction.Set("numerator", "numerator", numerator);
        fraction.Set("denominator", "denominator", denominator);
        return fraction;
    }

    /// <summary>ipaddress addresses (an int or text), networks and interfaces (text): their text, as Python prints them.</summary>
    private static object? IpAddress(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        var kind = ((PyGlobal)call.Callable!).Name;
        switch (args)
        {
            case [long number] when kind == "IPv4Address" && number is >= 0 and <= uint.MaxValue:
                return new System.Net.IPAddress(BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness((uint)number))).ToString();
            case [var number] when kind == "IPv6Address" && number is long or BigInteger:
                var big = number is long l ? new BigInteger(l) : (BigInteger)number;
                if (big.Sign < 0 || big.GetByteCount(isUnsigned: true) > 16)
                {
                    return null;
                }

                var bytes = new byte[16];
                var raw = big.ToByteArray(isUnsigned: true, isBigEndian: true);
                raw.CopyTo(bytes, 16 - raw.Length);
                return new System.Net.IPAddress(bytes).ToString();
            case [var text] when Text(text) is { } t:
                return t;
            case [PyTuple { Count: 2 } pair] when pair.Items[1] is long prefix && mapper.Map(new PyCall(new PyGlobal("ipaddress", kind.Replace("Network", "Address").Replace("Interface", "Address")), new PyTuple(new[] { pair.Items[0] }), null, false), depth + 1) is string address:
                return address + "/" + prefix;
            default:
                return null;
        }
    }

    /// <summary>pathlib paths, from their parts: the path's text.</summary>
    private static object? FilePath(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        var parts = args.Select(Text).ToList();
        if (parts.Count == 0 || parts.Any(p => p == null))
        {
            return parts.Count == 0 ? "." : null;
        }

        var windows = ((PyGlobal)call.Callable!).Name.Contains("Windows", StringComparison.Ordinal);
        var separator = windows ? '\\' : '/';
        var path = new StringBuilder();
        foreach (var part in parts)
        {
            if (path.Length > 0 && path[^1] != separator && path[^1] != '/')
            {
                path.Append(separator);
            }

            path.Append(part);
        }

        return path.ToString();
    }

    /// <summary>time.struct_time((9 fields), {tm_zone, tm_gmtoff}): its named fields.</summary>
    private static object? StructTime(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args is not [PyTuple { Count: >= 9 } fields, ..])
        {
            return null;
        }

        var values = mapper.MapArray(fields.Items, depth);
        var shown = "time.struct_time(" + string.Join(", ", StructTimeFields.Select((f, i) => f + "=" + PythonText.Display(values[i]))) + ")";
        var result = new PythonObject("time.struct_time", shown);
        for (var i = 0; i < StructTimeFields.Length; i++)
        {
            result.Set(StructTimeFields[i], StructTimeFields[i], values[i]);
        }

        if (args.Length > 1 && args[1] is PyDict extra)
        {
            mapper.MapDict(extra, depth, result);
        }

        return result;
    }

    /// <summary>array.array(typecode, list) (protocol 2) and array._array_reconstructor(cls, typecode, format, bytes): the numbers.</summary>
    private static object? NumberArray(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        switch (args)
        {
            case [var code, PyList list] when Text(code) is not null:
                return mapper.MapList(list, depth, call);
            case [PyGlobal, var code, long format, var data] when Text(code) is not null && mapper.Map(data, depth + 1) is byte[] bytes && MachineValues(format, bytes) is { } numbers:
                return depth == 0 ? numbers : new PythonList(numbers);
            default:
                return null;
        }
    }

    /// <summary>The machine formats of array's reconstructor (CPython's arraymodule.c: 0-21).</summary>
    private static object?[]? MachineValues(long format, byte[] bytes)
    {
        var (size, read) = format switch
        {
            0 => (1, (Func<byte[], int, object?>)((b, i) => (long)b[i])),
            1 => (1, (b, i) => (long)(sbyte)b[i]),
            2 => (2, (b, i) => (long)BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(i))),
            3 => (2, (b, i) => (long)BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(i))),
            4 => (2, (b, i) => (long)BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(i))),
            5 => (2, (b, i) => (long)BinaryPrimitives.ReadInt16BigEndian(b.AsSpan(i))),
            6 => (4, (b, i) => (long)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i))),
            7 => (4, (b, i) => (long)BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(i))),
            8 => (4, (b, i) => (long)BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(i))),
            9 => (4, (b, i) => (long)BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(i))),
            10 => (8, (b, i) => Small(BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(i)))),
            11 => (8, (b, i) => Small(BinaryPrimitives.ReadUInt64BigEndian(b.AsSpan(i)))),
            12 => (8, (b, i) => BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(i))),
            13 => (8, (b, i) => BinaryPrimitives.ReadInt64BigEndian(b.AsSpan(i))),
            14 => (4, (b, i) => (double)BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(i))),
            15 => (4, (b, i) => (double)BinaryPrimitives.ReadSingleBigEndian(b.AsSpan(i))),
            16 => (8, (b, i) => BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan(i))),
            17 => (8, (b, i) => BinaryPrimitives.ReadDoubleBigEndian(b.AsSpan(i))),
            18 => (2, (b, i) => ((char)BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(i))).ToString()),
            19 => (2, (b, i) => ((char)BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(i))).ToString()),
            20 => (4, (b, i) => Rune(BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i)))),
            21 => (4, (b, i) => Rune(BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(i)))),
            _ => (0, null),
        };
        if (read == null || bytes.Length % size != 0)
        {
            return null;
        }

        var values = new object?[bytes.Length / size];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = read(bytes, i * size);
        }

        return values;
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

        var number = state.Entries.FirstOrDefault(e => e.Key is string k ? k == "int" : e.Key is PyByteString b && b.Bytes.AsSpan().SequenceEqual("int"u8)).Value;
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
