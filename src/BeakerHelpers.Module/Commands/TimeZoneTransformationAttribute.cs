using System.Management.Automation;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Time;

namespace BeakerHelpers.Module.Commands;

/// <summary>Lets -TimeZone take an IANA id, a Windows id, 'UTC', 'Local' or what Get-TimeZone returns.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class TimeZoneTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        if (value is TimeZoneInfo zone)
        {
            return zone;
        }

        try
        {
            return TimeZoneNames.Find(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty, "-TimeZone");
        }
        catch (BeakerException ex)
        {
            throw new ArgumentTransformationMetadataException(ex.Message, ex);
        }
    }
}
