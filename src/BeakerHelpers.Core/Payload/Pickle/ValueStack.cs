using System.Runtime.CompilerServices;

namespace BeakerHelpers.Core.Payload.Pickle;

/// <summary>
/// The pickle machine's stack and memo: a growable array with just the operations the reader needs, cheaper per
/// opcode than a List (no version stamp, no enumerator), and cleared only as far as it was used.
/// </summary>
internal sealed class ValueStack
{
    private object?[] _items;

    public ValueStack(int capacity) => _items = new object?[capacity];

    public int Count { get; private set; }

    public int Capacity => _items.Length;

    public object? this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _items[index];
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set => _items[index] = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(object? value)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public object? Pop()
    {
        var value = _items[--Count];
        _items[Count] = null;
        return value;
    }

    /// <summary>Drops the values from <paramref name="from"/> up.</summary>
    public void RemoveFrom(int from)
    {
        Array.Clear(_items, from, Count - from);
        Count = from;
    }

    public void RemoveAt(int index)
    {
        Array.Copy(_items, index + 1, _items, index, Count - index - 1);
        _items[--Count] = null;
    }

    public void CopyTo(int from, object?[] target, int count) => Array.Copy(_items, from, target, 0, count);

    public void Clear() => RemoveFrom(0);
}
