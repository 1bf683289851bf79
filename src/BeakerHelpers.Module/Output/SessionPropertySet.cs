namespace BeakerHelpers.Module.Output;

/// <summary>
/// The property names shared by every session one command emits: the union of the session keys seen
/// so far, sorted as the original tool sorted its columns (by key), then the row's own fields.
/// PowerShell property names ignore case: a key named like one of the Beaker* fields, or differing only by case from a
/// key already shown, gets a suffix computed from the key alone, so that it reads the same in every call (docs/views.md#names).
/// </summary>
public sealed class SessionPropertySet
{
    public const string IdProperty = "BeakerId";
    public const string AccessedProperty = "BeakerAccessed";
    public const string CreatedProperty = "BeakerCreated";
    public const string StoreProperty = "BeakerStore";
    public const string TtlProperty = "BeakerTtl";

    private static readonly string[] TableRows = { IdProperty, AccessedProperty, CreatedProperty, StoreProperty };
    private static readonly string[] ExpiringRows = { IdProperty, AccessedProperty, CreatedProperty, StoreProperty, TtlProperty };

    /// <summary>Every row field's name, whether or not this store shows it, so that a key's name does not depend on the store.</summary>
    private static readonly HashSet<string> Reserved = new(ExpiringRows, StringComparer.OrdinalIgnoreCase);

    private readonly Dictionary<string, string?> _keyByName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _nameByKey = new(StringComparer.Ordinal);
    private readonly List<(string Name, string Key)> _sorted = new();

    /// <param name="expiring">Whether the store's sessions expire by themselves (Redis): they then also show BeakerTtl.</param>
    public SessionPropertySet(bool expiring = false)
    {
        Expiring = expiring;
        RowProperties = expiring ? ExpiringRows : TableRows;
        foreach (var name in RowProperties)
        {
            _keyByName[name] = null;
        }
    }

    /// <summary>Whether the store's sessions expire by themselves (Redis).</summary>
    public bool Expiring { get; }

    /// <summary>The row's own fields, shown after the session's keys.</summary>
    public IReadOnlyList<string> RowProperties { get; }

    /// <summary>The session-key properties in display order: (property name, session key).</summary>
    public IReadOnlyList<(string Name, string Key)> KeyProperties => _sorted;

    /// <summary>Key sets kept to be shared: a real store mixes a few (visitors, logins with optional keys, older rows).</summary>
    internal const int MaxKeySets = 256;

    private readonly Dictionary<int, SessionKeySet> _keySets = new();
    private SessionKeySet? _lastKeySet;

    /// <summary>
    /// Adds a session's keys; returns its key set, shared with every earlier session that held the same keys, whatever
    /// came between them, so that a session costs the same whether its neighbours hold its keys or others.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal SessionKeySet Add(IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        if (_lastKeySet != null && _lastKeySet.Matches(values))
        {
            return _lastKeySet;
        }

        var fingerprint = SessionKeySet.Fingerprint(values);
        if (_keySets.TryGetValue(fingerprint, out var known) && known.Matches(values))
        {
            return _lastKeySet = known;
        }

        foreach (var pair in values)
        {
            NameOf(pair.Key);
        }

        var keySet = new SessionKeySet(values);
        if (_keySets.Count < MaxKeySets)
        {
            _keySets[fingerprint] = keySet;
        }

        return _lastKeySet = keySet;
    }

    /// <summary>The property name a session key is shown under; adds the key when it is new.</summary>
    public string NameOf(string key)
    {
        if (_nameByKey.TryGetValue(key, out var name))
        {
            return name;
        }

        name = key.Length == 0 ? "(empty)" : key;
        if (_keyByName.ContainsKey(name) || Reserved.Contains(name))
        {
            name = Suffixed(name, key);
        }

        _keyByName[name] = key;
        _nameByKey[key] = name;
        var at = _sorted.FindIndex(p => string.CompareOrdinal(p.Key, key) > 0);
        _sorted.Insert(at < 0 ? _sorted.Count : at, (name, key));
        return name;
    }

    /// <summary>'key~' and eight hex digits of the key's FNV-1a hash: the same for a key in every call.</summary>
    internal static string Suffixed(string name, string key)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return name + "~" + hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Finds a property by name (ignoring case, as PowerShell does): the session key it shows, or null for a row field.</summary>
    public bool TryGetKey(string name, out string? key) => _keyByName.TryGetValue(name, out key);
}
