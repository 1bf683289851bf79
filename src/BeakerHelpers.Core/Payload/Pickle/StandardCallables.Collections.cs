using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using BeakerHelpers.Core.Payload.Values;

namespace BeakerHelpers.Core.Payload.Pickle;

/// <summary>Sequences, mappings, bytes, complex numbers, range and slice, and the helpers pickle itself uses to rebuild objects (copyreg, __newobj__) (docs/pickle.md).</summary>
internal static partial class StandardCallables
{
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

        return mapper.MapList(CollectionsMarshal.AsSpan(items), depth, call);
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
}
