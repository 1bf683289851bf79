using System.Collections.ObjectModel;
using System.Management.Automation;

namespace BeakerHelpers.Module.Output;

/// <summary>
/// Shows a <see cref="BeakerSession"/>'s keys as properties. Cheaper than a PSObject with a note
/// property per key, and every session of one command reports the same property set, so Format-Table
/// gets a column for every key.
/// </summary>
public sealed class BeakerSessionAdapter : PSPropertyAdapter
{
    public override Collection<PSAdaptedProperty> GetProperties(object baseObject)
    {
        var session = (BeakerSession)baseObject;
        var keys = session.Properties.KeyProperties;
        var result = new Collection<PSAdaptedProperty>();
        foreach (var (name, key) in keys)
        {
            result.Add(new PSAdaptedProperty(name, key));
        }

        foreach (var name in session.Properties.RowProperties)
        {
            result.Add(new PSAdaptedProperty(name, null));
        }

        return result;
    }

    public override PSAdaptedProperty? GetProperty(object baseObject, string propertyName)
    {
        var session = (BeakerSession)baseObject;
        if (!session.Properties.TryGetKey(propertyName, out var key) || (key != null && !session.Has(key)))
        {
            // A key this session does not hold is missing here, as on any object without that property, so that
            // Measure-Object -Property counts only the sessions that hold it (docs/views.md#absent).
            return null;
        }

        var name = key == null ? session.Properties.RowProperties.First(p => p.Equals(propertyName, StringComparison.OrdinalIgnoreCase)) : session.Properties.NameOf(key);
        return new PSAdaptedProperty(name, key);
    }

    public override object? GetPropertyValue(PSAdaptedProperty adaptedProperty)
    {
        var session = (BeakerSession)adaptedProperty.BaseObject;
        if (adaptedProperty.Tag is string key)
        {
            return session.GetValue(key);
        }

        return adaptedProperty.Name switch
        {
            SessionPropertySet.IdProperty => session.Id,
            SessionPropertySet.AccessedProperty => session.Accessed,
            SessionPropertySet.CreatedProperty => session.Created,
            SessionPropertySet.TtlProperty => session.ExpiresIn,
            _ => session.Store,
        };
    }

    public override string GetPropertyTypeName(PSAdaptedProperty adaptedProperty)
    {
        var value = GetPropertyValue(adaptedProperty);
        return value?.GetType().FullName ?? typeof(object).FullName!;
    }

    public override Collection<string> GetTypeNameHierarchy(object baseObject) => ((BeakerSession)baseObject).TypeNames;

    public override bool IsGettable(PSAdaptedProperty adaptedProperty) => true;

    public override bool IsSettable(PSAdaptedProperty adaptedProperty) => false;

    public override void SetPropertyValue(PSAdaptedProperty adaptedProperty, object value)
    {
        throw new NotSupportedException("Session properties are read-only: BeakerHelpers never changes a stored session.");
    }
}
