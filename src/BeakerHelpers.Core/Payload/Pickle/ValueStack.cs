using System.Runtime.CompilerServices;

namespace BeakerHelpers.Core.Payload.Pickle;

/// <summary>
/// The pickle machine's stack and memo: a growable array with just the operations the reader needs, cheaper per
/// opcode than a List (no version stamp, no enumerator), and cleared only as far as it was used. Its slots are a
/// struct, so that storing a value skips the type check every store into an object[] costs.
/// </summary>
internal sealed class ValueStack
{
    private Slot[] _items;

    public ValueStack(int capacity) => _items = new Slot[capacity];

    public int Count { get; private set; }

    public int Capacity => _items.Length;

    public object? this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _items[index].Value;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set => _items[index].Value = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(object? value)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++].Value = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public object? Pop()
    {
        var value = _items[--Count].Value;
        _items[Count].Value = null;
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
        _items[--Count].Value = null;
    }

    public void CopyTo(int from, object?[] target, int count)
    {
        for (var i = 0; i < count; i++)
        {
            target[i] = _items[from + i].Value;
        }
    }

    public void Clear() => RemoveFrom(0);

    private struct Slot
    {
        public object? Value;
    }
}
