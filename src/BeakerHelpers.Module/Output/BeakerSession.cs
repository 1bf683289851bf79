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

    private readonly Dictionary<string, object?> _values;

    internal BeakerSession(SessionRecord record, BeakerStoreInfo store, SessionPropertySet properties)
    {
        Id = record.Id;
        Accessed = record.Accessed;
        Created = record.Created;
        Store = store;
        Properties = properties;
        _values = new Dictionary<string, object?>(record.Values.Count, StringComparer.Ordinal);
        foreach (var pair in record.Values)
        {
            _values[pair.Key] = pair.Value;
            properties.NameOf(pair.Key);
        }
    }

    internal string Id { get; }

    internal DateTime Accessed { get; }

    internal DateTime? Created { get; }

    internal BeakerStoreInfo Store { get; }

    internal SessionPropertySet Properties { get; }

    internal object? GetValue(string key) => _values.TryGetValue(key, out var value) ? value : null;

    public override string ToString() => Id;
}
