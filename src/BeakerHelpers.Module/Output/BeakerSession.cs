using BeakerHelpers.Core.Sessions;

namespace BeakerHelpers.Module.Output;

/// <summary>
/// One session as Get-BeakerSession emits it. Its PowerShell properties are the session's keys
/// (through <see cref="BeakerSessionAdapter"/>) plus BeakerId, BeakerAccessed, BeakerCreated and BeakerStore.
/// </summary>
public sealed class BeakerSession
{
    public const string TypeName = "BeakerHelpers.Session";

    private readonly Dictionary<string, object?> _values;

    internal BeakerSession(SessionRecord record, SessionPropertySet properties)
    {
        Id = record.Id;
        Accessed = record.Accessed;
        Created = record.Created;
        Store = record.Store;
        Properties = properties;
        _values = new Dictionary<string, object?>(record.Values.Count, StringComparer.Ordinal);
        foreach (var pair in record.Values)
        {
            _values[pair.Key] = pair.Value;
            properties.NameOf(pair.Key);
        }
    }

    public string Id { get; }

    public DateTime Accessed { get; }

    public DateTime Created { get; }

    public string Store { get; }

    internal SessionPropertySet Properties { get; }

    /// <summary>The session's keys and values, as stored.</summary>
    public IReadOnlyDictionary<string, object?> Values => _values;

    internal object? GetValue(string key) => _values.TryGetValue(key, out var value) ? value : null;

    public override string ToString() => Id;
}
