using System.Collections.ObjectModel;
using BeakerHelpers.Core.Sessions;

namespace BeakerHelpers.Module.Output;

/// <summary>
/// One session as Get-BeakerSession emits it. Its PowerShell properties are the session's keys
/// (through <see cref="BeakerSessionAdapter"/>) plus BeakerId, BeakerAccessed, BeakerCreated and BeakerStore.
/// Its .NET members are internal so that PowerShell shows only those.
/// </summary>
public sealed class BeakerSession
{
    public const string TypeName = "BeakerHelpers.Session";

    /// <summary>The type name of a session that expires by itself (Redis), whose default table also shows BeakerTtl.</summary>
    public const string ExpiringTypeName = "BeakerHelpers.Session#Expiring";

    /// <summary>The type name of a session that holds control characters, whose list view shows them escaped (docs/views.md#escaping).</summary>
    public const string EscapedTypeName = "BeakerHelpers.Session#Escaped";

    private readonly IReadOnlyList<KeyValuePair<string, object?>> _values;

    /// <summary>The values by key, made when a property is first read: a session that is only counted or passed on never needs it.</summary>
    private Dictionary<string, object?>? _byKey;

    internal BeakerSession(SessionRecord record, BeakerStoreInfo store, SessionPropertySet properties)
    {
        Id = record.Id;
        Accessed = record.Accessed;
        Created = record.Created;
        ExpiresIn = record.ExpiresIn;
        Store = store;
        Properties = properties;
        _values = record.Values;
        KeySet = properties.Add(_values);
    }

    internal string Id { get; }

    /// <summary>The plain type names, until Get-BeakerSession gives the session its key set's (shared, as those are).</summary>
    private static readonly Collection<string> PlainTypeNames = new() { TypeName, typeof(BeakerSession).FullName!, "System.Object" };

    private Collection<string> _typeNames = PlainTypeNames;

    /// <summary>The type names of a session that holds control characters; null once looked at, or when there are none to give.</summary>
    private Collection<string>? _escapedTypeNames;

    /// <summary>
    /// The type names PowerShell sees (SessionDisplayTypes): one for its key set, then the plain ones; or, for a session
    /// that holds control characters, the escaped list view's. Which is decided when PowerShell first asks (to format
    /// the session, or to look up a property), so that a session that is only counted or passed on never pays for it.
    /// </summary>
    internal Collection<string> TypeNames
    {
        get
        {
            if (_escapedTypeNames != null)
            {
                _typeNames = SessionDisplayTypes.HoldsControlCharacters(this) ? _escapedTypeNames : _typeNames;
                _escapedTypeNames = null;
            }

            return _typeNames;
        }
    }

    /// <summary>Gives the session its key set's type names, and those it has instead if it holds control characters.</summary>
    internal void SetTypeNames(Collection<string> keySet, Collection<string> escaped)
    {
        _typeNames = keySet;
        _escapedTypeNames = escaped;
    }

    internal DateTime Accessed { get; }

    internal DateTime? Created { get; }

    internal TimeSpan? ExpiresIn { get; }

    internal BeakerStoreInfo Store { get; }

    internal SessionPropertySet Properties { get; }

    /// <summary>The keys this session holds, shared with the sessions of the same call that hold the same keys.</summary>
    internal SessionKeySet KeySet { get; }

    /// <summary>Whether this session holds the key (every session of a call reports the union of keys; see the adapter).</summary>
    internal bool Has(string key)
    {
        GetValue(key);
        return _byKey!.ContainsKey(key);
    }

    /// <summary>The session's own values in its order, for the default views.</summary>
    internal IReadOnlyList<KeyValuePair<string, object?>> Values => _values;

    internal object? GetValue(string key)
    {
        if (_byKey == null)
        {
            // A key stored twice (a Python 2 str and unicode of the same text) shows its last value, as before.
            var byKey = new Dictionary<string, object?>(_values.Count, StringComparer.Ordinal);
            foreach (var pair in _values)
            {
                byKey[pair.Key] = pair.Value;
            }

            _byKey = byKey;
        }

        return _byKey.TryGetValue(key, out var value) ? value : null;
    }

    public override string ToString() => Id;
}
