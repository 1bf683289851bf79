using System.Globalization;
using System.Runtime.CompilerServices;

namespace BeakerHelpers.Core.Payload.Pickle;

// The pickle machine's stack, marks and memo, and the opcodes that build containers and objects on them (docs/pickle.md).
internal sealed partial class PickleReader
{
    private PyDict DictFromMark()
    {
        var from = PopMarkPosition();
        var dict = new PyDict((_stack.Count - from) / 2);
        AddPairs(dict, from);
        return dict;
    }

    private void SetItems()
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
    }

    private void AppendItems()
    {
        var from = PopMarkPosition();
        Require(1, from);
        var target = _stack[from - 1];
        for (var i = from; i < _stack.Count; i++)
        {
            Append(target, _stack[i]);
        }

        _stack.RemoveFrom(from);
    }

    private PyGlobal StackGlobal()
    {
        Require(2);
        var name = Pop();
        var module = Pop();
        if (module is not string m || name is not string n)
        {
            throw Malformed("STACK_GLOBAL needs a module name and a name, both str");
        }

        return Global(m, n);
    }

    private PyCall NewObjectWithKeywords()
    {
        Require(3);
        var kwargs = Pop() as PyDict ?? throw Malformed("NEWOBJ_EX needs a dict of keyword arguments on top");
        var args = Pop() as PyTuple ?? throw Malformed("NEWOBJ_EX needs a tuple of arguments under the keywords");
        return new PyCall(Pop(), args, kwargs.Count == 0 ? null : kwargs, isNew: true);
    }

    private PyCall ObjectFromMark()
    {
        var from = PopMarkPosition();
        if (_stack.Count == from)
        {
            throw Malformed("OBJ needs a class after the mark");
        }

        var cls = _stack[from];
        var args = _stack.Count - from > 1 ? TupleFrom(from + 1) : PyTuple.Empty;
        _stack.RemoveAt(from);
        return new PyCall(cls, args, null, isNew: true);
    }

    private void Build()
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
    }

    /// <summary>POP drops the top value, or the innermost mark when nothing was pushed after it.</summary>
    private void PopValueOrMark()
    {
        if (_marks.Count > 0 && _marks[^1] == _stack.Count)
        {
            _marks.RemoveAt(_marks.Count - 1);
        }
        else
        {
            Require(1);
            Pop();
        }
    }

    private PyGlobal Global(string module, string name)
    {
        if (t_namedGlobals is { Count: < MaxNamedGlobals } named)
        {
            named.Add(module + "." + name);
        }

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
    private T MoveInto<T>(T target, int from)
        where T : List<object?>
    {
        for (var i = from; i < _stack.Count; i++)
        {
            target.Add(_stack[i]);
        }

        _stack.RemoveFrom(from);
        return target;
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

    private long ParseMemoIndex(ReadOnlySpan<byte> line)
    {
        if (!TryDigits(line, out var index) && (line.IsEmpty || !char.IsAsciiDigit((char)line[0]) || !long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out index)))
        {
            throw Malformed($"'{Shorten(Utf8.GetString(line))}' is not a memo index");
        }

        return index;
    }
}
