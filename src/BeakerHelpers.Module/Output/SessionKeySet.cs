using System.Collections.ObjectModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BeakerHelpers.Core.Sessions;

namespace BeakerHelpers.Module.Output;

/// <summary>
/// The keys one session holds, shared by every session of the listing that holds the same keys in the same order (an app
/// stores the same keys in nearly every session), so that each of those costs one comparison instead of a name lookup
/// per key and a type-name lookup. Beaker's bookkeeping keys count with whether they hold their defaults, because
/// that decides whether the default list view shows them (<see cref="BeakerKeys.IsBookkeeping"/>).
/// </summary>
internal sealed class SessionKeySet
{
    private readonly KeyValuePair<string, object?>[] _first;

    public SessionKeySet(IReadOnlyList<KeyValuePair<string, object?>> values) => _first = values.ToArray();

    /// <summary>The session type names for this key set (SessionDisplayTypes), once they were worked out.</summary>
    public Collection<string>? TypeNames { get; set; }

    /// <summary>
    /// A number that sessions with the same keys share: the keys' texts in order and whether the bookkeeping keys hold
    /// their defaults. By text, not by string identity: the decoder's cache of recurring strings is one per thread and
    /// a visitor's short values take its slots, so the same key comes as many strings over a listing (hashing by
    /// identity made seven sessions in ten of a realistic store a key set of their own).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Fingerprint(IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        var hash = values.Count;
        for (var i = 0; i < values.Count; i++)
        {
            var (key, value) = values[i];
            hash = (hash * 31) + key.GetHashCode(StringComparison.Ordinal);
            if (key.Length > 0 && key[0] == '_' && BeakerKeys.IsBookkeeping(key, value))
            {
                hash ^= 1 << (i & 31);
            }
        }

        return hash;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Matches(IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        var mine = _first.AsSpan();
        var theirs = values switch
        {
            List<KeyValuePair<string, object?>> list => CollectionsMarshal.AsSpan(list),
            KeyValuePair<string, object?>[] array => array,
            _ => values.ToArray(),
        };
        if (mine.Length != theirs.Length)
        {
            return false;
        }

        for (var i = 0; i < mine.Length; i++)
        {
            var key = mine[i].Key;
            var other = theirs[i].Key;

            // The decoder often hands out one string for a recurring key text: then a reference comparison decides.
            if (!ReferenceEquals(key, other) && !string.Equals(key, other, StringComparison.Ordinal))
            {
                return false;
            }

            if (key.Length > 0 && key[0] == '_' && BeakerKeys.IsBookkeeping(key, mine[i].Value) != BeakerKeys.IsBookkeeping(key, theirs[i].Value))
            {
                return false;
            }
        }

        return true;
    }
}
