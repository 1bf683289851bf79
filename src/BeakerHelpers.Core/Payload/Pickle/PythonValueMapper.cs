using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using BeakerHelpers.Core.Payload.Values;

namespace BeakerHelpers.Core.Payload.Pickle;

/// <summary>
/// Turns what <see cref="PickleReader"/> built into .NET values: plain values as they are, lists, tuples and sets as
/// object[], dicts as <see cref="PythonDict"/>, the calls of known standard-library callables as their .NET
/// counterparts (<see cref="StandardCallables"/>), and everything else as a <see cref="PythonObject"/>. A node
/// referenced twice maps to one shared .NET value (cycles included); the values it stands for, counted with every
/// reference written out, are limited, and so is nesting (docs/pickle.md).
/// </summary>
internal sealed class PythonValueMapper
{
    /// <summary>Deeper nesting than this is refused rather than risking the stack.</summary>
    public const int MaxDepth = 200;

    /// <summary>Values a payload may stand for when each shared reference is counted in full.</summary>
    public const long MaxExpandedValues = 4_000_000;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Each node's .NET value and the values it stands for (0 while it is still being mapped: a cycle).</summary>
    private readonly Dictionary<object, (object? Value, long Size)>? _mapped;
    private long _count;

    /// <param name="shared">Whether the payload used memo references (PickleResult.Shared): only then is each node's mapping kept.</param>
    public PythonValueMapper(bool shared)
    {
        if (shared)
        {
            _mapped = new Dictionary<object, (object?, long)>(ReferenceEqualityComparer.Instance);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public object? Map(object? node) => Map(node, 0);

    /// <summary>A dict key's text: a str as it is, anything else as Python writes it (PythonText.KeyText).</summary>
    public string KeyText(object? node) => KeyText(node, 0);

    /// <summary>A Python 2 byte string as text: UTF-8 when it is valid UTF-8, Latin-1 otherwise.</summary>
    public static string Python2Text(byte[] bytes)
    {
        var ascii = true;
        foreach (var b in bytes)
        {
            if (b >= 0x80)
            {
                ascii = false;
                break;
            }
        }

        if (ascii)
        {
            return Encoding.ASCII.GetString(bytes);
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(bytes);
        }
    }

    internal object? Map(object? node, int depth)
    {
        switch (node)
        {
            case null:
            case string:
            case long:
            case double:
            case bool:
            case byte[]:
            case BigInteger:
                Count(1);
                return node;
            case PyByteString text:
                Count(1);
                return Python2Text(text.Bytes);
            default:
                return MapNode(node, depth);
        }
    }

    /// <summary>A list, tuple or set at <paramref name="depth"/>: a <see cref="PythonList"/> (see there why), at every depth.</summary>
    internal object MapList(ReadOnlySpan<object?> items, int depth, object? node = null)
    {
        var array = items.Length == 0 ? Array.Empty<object?>() : new object?[items.Length];
        object value = new PythonList(array);
        if (node != null)
        {
            Register(node, value);
        }

        for (var i = 0; i < array.Length; i++)
        {
            array[i] = Map(items[i], depth + 1);
        }

        return value;
    }

    /// <summary>Items mapped for a value's own use (a range's bounds, an exception's arguments), not as a list value.</summary>
    internal object?[] MapArray(IReadOnlyList<object?> items, int depth)
    {
        var array = new object?[items.Count];
        for (var i = 0; i < array.Length; i++)
        {
            array[i] = Map(items[i], depth + 1);
        }

        return array;
    }

    internal PythonDict MapDict(PyDict dict, int depth, PythonDict? into = null, object? node = null)
    {
        var result = into ?? new PythonDict(dict.Count);
        if (node != null)
        {
            Register(node, result);
        }

        foreach (var entry in dict.Entries)
        {
            var key = MapKey(entry.Key, depth + 1);
            result.Set(KeyName(entry.Key, key, depth + 1), key, Map(entry.Value, depth + 1));
        }

        return result;
    }

    /// <summary>Keeps a container's .NET value before its items are mapped, so that a reference back to it finds it.</summary>
    internal void Register(object node, object? value)
    {
        if (_mapped != null)
        {
            _mapped[node] = (value, 0);
        }
    }

    internal string KeyText(object? node, int depth) =>
        KeyName(node, node is string or PyByteString or PyTuple or PySet { Frozen: true } or PyGlobal ? null : Map(node, depth), depth);

    /// <summary>A key's text from its node (which tells a tuple from a frozenset) and, for the other kinds, its mapped value.</summary>
    private string KeyName(object? node, object? mapped, int depth)
    {
        switch (node)
        {
            case string text:
                return text;
            case PyByteString bytes:
                return Python2Text(bytes.Bytes);
            case PyTuple tuple:
                return TupleKeyName(tuple, depth);
            case PySet { Frozen: true } set:
                return FrozenSetKeyName(set, depth);
            case PyCall { Callable: PyGlobal g } when StandardCallables.QualifiedName(g) == "builtins.frozenset" && mapped is System.Collections.IList members:
                return FrozenSetCallKeyName(members, depth);
            case PyGlobal global:
                return global.ToString();
            default:
                return PythonText.KeyText(mapped is PythonObject or PythonDict ? mapped.ToString() : mapped);
        }
    }

    // The lambdas of these capture depth: in KeyName itself their closure would be allocated for every key.
    private string TupleKeyName(PyTuple tuple, int depth)
    {
        CheckDepth(depth);
        return tuple.Count == 1 ? "(" + ItemRepr(tuple.Items[0], depth) + ",)" : "(" + string.Join(", ", tuple.Items.Select(i => ItemRepr(i, depth))) + ")";
    }

    private string FrozenSetKeyName(PySet set, int depth)
    {
        CheckDepth(depth);
        return set.Count == 0 ? "frozenset()" : "frozenset({" + string.Join(", ", set.Select(i => ItemRepr(i, depth))) + "})";
    }

    /// <summary>Protocol 2 writes a frozenset as a call of frozenset([...]).</summary>
    private static string FrozenSetCallKeyName(System.Collections.IList members, int depth) =>
        members.Count == 0 ? "frozenset()" : "frozenset({" + string.Join(", ", members.Cast<object?>().Select(m => PythonText.Repr(m, depth))) + "})";

    private string ItemRepr(object? item, int depth) => item switch
    {
        string or PyByteString => PythonText.Repr(item as string ?? Python2Text(((PyByteString)item).Bytes), depth),
        _ => KeyText(item, depth + 1),
    };

    private object? MapKey(object? node, int depth) => node is string ? node : Map(node, depth);

    private object? MapNode(object node, int depth)
    {
        CheckDepth(depth);
        if (_mapped != null && _mapped.TryGetValue(node, out var mapped))
        {
            // Counted as the values it stands for; a container still being mapped (a cycle) as one.
            Count(Math.Max(mapped.Size, 1));
            return mapped.Value;
        }

        var before = _count;
        Count(1);
        object? value = node switch
        {
            PyList list => MapList(CollectionsMarshal.AsSpan(list), depth, list),
            PyTuple tuple => MapList(tuple.Items, depth, tuple),
            PySet set => MapList(CollectionsMarshal.AsSpan(set), depth, set),
            PyDict dict => MapDict(dict, depth, node: dict),
            PyCall call => StandardCallables.Map(this, call, depth),
            PyGlobal global => global.ToString(),
            PyExtension extension => extension.ToString(),
            _ => node.ToString(),
        };

        if (_mapped != null)
        {
            _mapped[node] = (value, _count - before);
        }

        return value;
    }

    private void Count(long values)
    {
        _count += values;
        if (_count > MaxExpandedValues)
        {
            throw new PayloadException($"the pickle stands for more than {MaxExpandedValues} values once its shared references are counted in full (limit: shared values)");
        }
    }

    private static void CheckDepth(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new PayloadException($"the value nests more than {MaxDepth} levels deep (limit: nesting)");
        }
    }
}
