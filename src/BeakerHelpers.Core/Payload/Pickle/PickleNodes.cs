namespace BeakerHelpers.Core.Payload.Pickle;

// What PickleReader leaves on its stack besides plain values (null, bool, long, BigInteger, double, string for
// Python str, byte[] for Python bytes). None of these runs or imports anything: a reference to a class or
// function is only its name, a call is only what was passed to it (docs/pickle.md).

/// <summary>GLOBAL, STACK_GLOBAL, INST, OBJ: a class or function named by module and name, never looked up.</summary>
internal sealed class PyGlobal
{
    public PyGlobal(string module, string name)
    {
        Module = module;
        Name = name;
    }

    public string Module { get; }

    public string Name { get; }

    /// <summary>The name as Python 3 looks it up (StandardCallables.QualifiedName), worked out once per name.</summary>
    internal string? Qualified { get; set; }

    /// <summary>StandardCallables' handler for this name, or a marker that it has none, worked out once per name.</summary>
    internal object? Handler { get; set; }

    public override string ToString() => Module + "." + Name;
}

/// <summary>EXT1/EXT2/EXT4: a copyreg extension code, which only the writer's registry could name.</summary>
internal sealed class PyExtension
{
    public PyExtension(int code) => Code = code;

    public int Code { get; }

    public override string ToString() => "copyreg extension " + Code;
}

/// <summary>
/// REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ: what the callable would have been called with, and what BUILD,
/// SETITEM(S) and APPEND(S)/ADDITEMS then gave the result.
/// </summary>
internal sealed class PyCall
{
    public PyCall(object? callable, PyTuple args, PyDict? kwargs, bool isNew)
    {
        Callable = callable;
        Args = args;
        Kwargs = kwargs;
        IsNew = isNew;
    }

    public object? Callable { get; }

    public PyTuple Args { get; }

    public PyDict? Kwargs { get; }

    /// <summary>NEWOBJ/NEWOBJ_EX/OBJ: cls.__new__(cls, *args), as opposed to calling the callable.</summary>
    public bool IsNew { get; }

    /// <summary>The BUILD states in order (almost always one).</summary>
    public List<object?>? States { get; private set; }

    /// <summary>Items APPEND(S) or ADDITEMS added: a list or set subclass, a deque.</summary>
    public List<object?>? ListItems { get; private set; }

    /// <summary>Items SETITEM(S) added: a dict subclass, an OrderedDict, a defaultdict.</summary>
    public PyDict? DictItems { get; private set; }

    public void AddState(object? state) => (States ??= new List<object?>(1)).Add(state);

    public void Append(object? item) => (ListItems ??= new List<object?>()).Add(item);

    public void SetItem(object? key, object? value) => (DictItems ??= new PyDict()).Set(key, value);

    /// <summary>Adds what BUILD, APPEND(S) and SETITEM(S) gave <paramref name="other"/>: the same object, rebuilt another way.</summary>
    public void TakeContentsOf(PyCall other)
    {
        foreach (var state in other.States ?? new List<object?>())
        {
            AddState(state);
        }

        foreach (var item in other.ListItems ?? new List<object?>())
        {
            Append(item);
        }

        foreach (var entry in other.DictItems is { } items ? items.Entries : default)
        {
            SetItem(entry.Key, entry.Value);
        }
    }
}

/// <summary>A Python list (EMPTY_LIST, LIST): mutable, so APPEND(S) may fill it after it was referenced.</summary>
internal sealed class PyList : List<object?>
{
    public PyList()
    {
    }

    public PyList(int capacity)
        : base(capacity)
    {
    }
}

/// <summary>A Python tuple: fixed once built.</summary>
internal sealed class PyTuple
{
    public static readonly PyTuple Empty = new(Array.Empty<object?>());

    public PyTuple(object?[] items) => Items = items;

    public object?[] Items { get; }

    public int Count => Items.Length;
}

/// <summary>A Python set or frozenset (EMPTY_SET, ADDITEMS, FROZENSET).</summary>
internal sealed class PySet : List<object?>
{
    public PySet(bool frozen) => Frozen = frozen;

    public bool Frozen { get; }
}

/// <summary>
/// A Python dict (EMPTY_DICT, DICT, SETITEM(S)) as its entries in insertion order.
/// </summary>
internal sealed class PyDict
{
    private KeyValuePair<object?, object?>[] _entries;

    public PyDict(int capacity = 0) => _entries = capacity == 0 ? Array.Empty<KeyValuePair<object?, object?>>() : new KeyValuePair<object?, object?>[capacity];

    public int Count { get; private set; }

    /// <summary>The entries in pickle order, as a span: the hot loops walk them without an enumerator.</summary>
    public ReadOnlySpan<KeyValuePair<object?, object?>> Entries => new(_entries, 0, Count);

    /// <summary>
    /// Adds an entry. A pickle of a real dict never sets one key twice; when a hostile one does, the mapper keeps
    /// the last value under that key's text (PythonDict.Set), as Python keeps the last one.
    /// </summary>
    public void Set(object? key, object? value)
    {
        if (Count == _entries.Length)
        {
            EnsureCapacity(Count + 1);
        }

        _entries[Count++] = new KeyValuePair<object?, object?>(key, value);
    }

    public void EnsureCapacity(int capacity)
    {
        if (capacity > _entries.Length)
        {
            Array.Resize(ref _entries, Math.Max(capacity, Math.Max(4, _entries.Length * 2)));
        }
    }
}

/// <summary>
/// A Python 2 byte string (STRING, BINSTRING, SHORT_BINSTRING): text of no stated encoding, shown as UTF-8 when it
/// is valid UTF-8 and as Latin-1 otherwise (docs/pickle.md); datetime states in Python 2 pickles are these too.
/// </summary>
internal sealed class PyByteString
{
    public PyByteString(byte[] bytes) => Bytes = bytes;

    public byte[] Bytes { get; }
}
