using System.Globalization;

namespace BeakerHelpers.Core.Stores.Files;

/// <summary>
/// What the walk of a folder store keeps of one session until the sessions are read oldest first: its file time, its
/// leaf folder and its id, in 32 bytes. Beaker's ids (uuid4().hex: 32 lowercase hex digits) are packed into two
/// numbers; any other id is kept as text beside the notes (docs/views.md#order).
/// </summary>
internal readonly struct SessionNote
{
    /// <summary><see cref="Other"/> of a packed id whose one file the walk found plain (a regular file of a sane size).</summary>
    private const int PackedPlain = -1;

    /// <summary><see cref="Other"/> of a packed id whose files must be looked at again before reading.</summary>
    private const int PackedCheck = -2;

    private SessionNote(long modifiedTicks, ulong high, ulong low, int leaf, int other)
    {
        ModifiedTicks = modifiedTicks;
        High = high;
        Low = low;
        Leaf = leaf;
        Other = other;
    }

    public long ModifiedTicks { get; }

    private ulong High { get; }

    private ulong Low { get; }

    /// <summary>The index of the session's leaf folder in the walk's list.</summary>
    public int Leaf { get; }

    /// <summary>The index of an id that is not packed in the list of other ids, or a Packed* marker.</summary>
    private int Other { get; }

    /// <summary>Whether the session is one plain file the walk saw, which can be read without looking at it again.</summary>
    public bool Plain => Other == PackedPlain;

    public static SessionNote Of(string id, long modifiedTicks, int leaf, bool plain, List<string> otherIds)
    {
        if (id.Length == 32 && TryPack(id, out var high, out var low))
        {
            return new SessionNote(modifiedTicks, high, low, leaf, plain ? PackedPlain : PackedCheck);
        }

        otherIds.Add(id);
        return new SessionNote(modifiedTicks, 0, 0, leaf, otherIds.Count - 1);
    }

    public string Id(List<string> otherIds) =>
        Other >= 0 ? otherIds[Other] : High.ToString("x16", CultureInfo.InvariantCulture) + Low.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Oldest first; sessions of the same time in the order of their packed ids, then of the others.</summary>
    public static int Compare(SessionNote x, SessionNote y)
    {
        var byTime = x.ModifiedTicks.CompareTo(y.ModifiedTicks);
        if (byTime != 0)
        {
            return byTime;
        }

        var byHigh = x.High.CompareTo(y.High);
        return byHigh != 0 ? byHigh : x.Low != y.Low ? x.Low.CompareTo(y.Low) : x.Other.CompareTo(y.Other);
    }

    private static bool TryPack(string id, out ulong high, out ulong low)
    {
        high = low = 0;
        for (var i = 0; i < id.Length; i++)
        {
            // Lowercase only: unpacking writes lowercase, and the id must come back exactly as the file names it.
            var c = id[i];
            ulong nibble = c switch
            {
                >= '0' and <= '9' => (ulong)(c - '0'),
                >= 'a' and <= 'f' => (ulong)(c - 'a' + 10),
                _ => ulong.MaxValue,
            };
            if (nibble == ulong.MaxValue)
            {
                return false;
            }

            if (i < 16)
            {
                high = (high << 4) | nibble;
            }
            else
            {
                low = (low << 4) | nibble;
            }
        }

        return true;
    }
}
