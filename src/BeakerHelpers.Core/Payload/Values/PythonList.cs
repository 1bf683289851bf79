using System.Collections;

namespace BeakerHelpers.Core.Payload.Values;

/// <summary>
/// A list, tuple or set, read-only, at any depth: PowerShell's formatter shows a nested one by its ToString ([a, b]
/// rather than System.Object[]), and Export-Csv writes a session's own list values the same way; ConvertTo-Json and
/// Export-Clixml still see a list (docs/pickle.md).
/// </summary>
public sealed class PythonList : IList, IReadOnlyList<object?>
{
    private readonly object?[] _items;

    internal PythonList(object?[] items) => _items = items;

    public int Count => _items.Length;

    public bool IsReadOnly => true;

    public bool IsFixedSize => true;

    bool ICollection.IsSynchronized => false;

    object ICollection.SyncRoot => this;

    public object? this[int index]
    {
        get => _items[index];
        set => throw new NotSupportedException("Session values are read-only: BeakerHelpers never changes a stored session.");
    }

    public bool Contains(object? value) => Array.IndexOf(_items, value) >= 0;

    public int IndexOf(object? value) => Array.IndexOf(_items, value);

    public void CopyTo(Array array, int index) => _items.CopyTo(array, index);

    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    int IList.Add(object? value) => throw new NotSupportedException();

    void IList.Clear() => throw new NotSupportedException();

    void IList.Insert(int index, object? value) => throw new NotSupportedException();

    void IList.Remove(object? value) => throw new NotSupportedException();

    void IList.RemoveAt(int index) => throw new NotSupportedException();

    public override string ToString() => PythonText.Display(this);
}
