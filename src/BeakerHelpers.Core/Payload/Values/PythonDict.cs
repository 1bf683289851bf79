using System.Collections;
using BeakerHelpers.Core.Text;

namespace BeakerHelpers.Core.Payload.Values;

/// <summary>
/// A Python dict from a session, in its own order, read-only. As an <see cref="IDictionary"/> its keys are text
/// (PowerShell's member access, ConvertTo-Json and Export-Clixml need that): a str key as it is, any other key as
/// Python writes it (None, True, 7, 1.5, (1, 'a'), frozenset({2})); the key itself, with its .NET type, is each
/// entry's <see cref="PythonDictEntry.Key"/>, and the indexer takes either. Enumerated plainly (as Format-Table does
/// for a cell) it gives <see cref="PythonDictEntry"/> items that show as "name: value". docs/pickle.md.
/// </summary>
public class PythonDict : IDictionary
{
    /// <summary>Past this many entries a lookup goes through an index instead of a scan.</summary>
    private const int ScanUpTo = 8;

    private readonly List<PythonDictEntry> _entries;
    private Dictionary<string, int>? _index;

    public PythonDict(int capacity = 0) => _entries = new List<PythonDictEntry>(capacity);

    public int Count => _entries.Count;

    /// <summary>The entries in the dict's order, each with its typed key.</summary>
    public IReadOnlyList<PythonDictEntry> Entries => _entries;

    public ICollection Keys => _entries.Select(e => e.Name).ToArray();

    public ICollection Values => _entries.Select(e => e.Value).ToArray();

    public bool IsReadOnly => true;

    public bool IsFixedSize => true;

    bool ICollection.IsSynchronized => false;

    object ICollection.SyncRoot => this;

    /// <summary>The value under a key given as its text or as a typed key (7, $null, ...); $null when there is none.</summary>
    public object? this[object? key]
    {
        get => Find(key as string ?? PythonText.KeyText(key)) is { } at ? _entries[at].Value : null;
        set => throw ReadOnly();
    }

    public bool Contains(object? key) => Find(key as string ?? PythonText.KeyText(key)) != null;

    public bool TryGetValue(string name, out object? value)
    {
        if (Find(name) is { } at)
        {
            value = _entries[at].Value;
            return true;
        }

        value = null;
        return false;
    }

    public void Add(object key, object? value) => throw ReadOnly();

    public void Clear() => throw ReadOnly();

    public void Remove(object key) => throw ReadOnly();

    public void CopyTo(Array array, int index)
    {
        foreach (var entry in _entries)
        {
            array.SetValue(new DictionaryEntry(entry.Name, entry.Value), index++);
        }
    }

    IDictionaryEnumerator IDictionary.GetEnumerator() => new Enumerator(_entries);

    /// <summary>
    /// The entries as <see cref="PythonDictEntry"/>: what PowerShell's formatter shows in a table cell or list line
    /// ({theme: dark, lang: lt}); code that asks for an IDictionary enumerator gets DictionaryEntry items.
    /// </summary>
    IEnumerator IEnumerable.GetEnumerator() => _entries.GetEnumerator();

    public override string ToString() => PythonText.Display(this);

    /// <summary>
    /// Adds an entry while the mapper builds the dict. A name already taken by an equal key is that key set again
    /// (the value is replaced); a different key with the same text gets '~2', '~3', ... so that no key is lost.
    /// </summary>
    internal void Set(string name, object? key, object? value)
    {
        if (Find(name) is { } at)
        {
            if (PythonText.SameKey(_entries[at].Key, key))
            {
                _entries[at] = new PythonDictEntry(name, key, value);
                return;
            }

            var n = 2;
            while (Find(name + "~" + n) != null)
            {
                n++;
            }

            name = name + "~" + n;
        }

        _entries.Add(new PythonDictEntry(name, key, value));
        if (_index != null)
        {
            _index[name] = _entries.Count - 1;
        }
    }

    private int? Find(string name)
    {
        if (_entries.Count <= ScanUpTo)
        {
            for (var i = 0; i < _entries.Count; i++)
            {
                if (string.Equals(_entries[i].Name, name, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            return null;
        }

        if (_index == null)
        {
            _index = new Dictionary<string, int>(_entries.Count, StringComparer.Ordinal);
            for (var i = 0; i < _entries.Count; i++)
            {
                _index[_entries[i].Name] = i;
            }
        }

        return _index.TryGetValue(name, out var found) ? found : null;
    }

    private static NotSupportedException ReadOnly() => new("Session values are read-only: BeakerHelpers never changes a stored session.");

    private sealed class Enumerator : IDictionaryEnumerator
    {
        private readonly List<PythonDictEntry> _entries;
        private int _at = -1;

        public Enumerator(List<PythonDictEntry> entries) => _entries = entries;

        public DictionaryEntry Entry => new(_entries[_at].Name, _entries[_at].Value);

        public object Key => _entries[_at].Name;

        public object? Value => _entries[_at].Value;

        public object Current => Entry;

        public bool MoveNext() => ++_at < _entries.Count;

        public void Reset() => _at = -1;
    }
}

/// <summary>One entry of a <see cref="PythonDict"/>: its name (the key as text), the key with its .NET type, and the value.</summary>
public sealed class PythonDictEntry
{
    internal PythonDictEntry(string name, object? key, object? value)
    {
        Name = name;
        Key = key;
        Value = value;
    }

    public string Name { get; }

    public object? Value { get; }

    public object? Key { get; }

    public override string ToString() => ScreenText.Escape(Name) + ": " + PythonText.Display(Value);
}
