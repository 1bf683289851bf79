using System.Management.Automation;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Time;

namespace BeakerHelpers.Module.Commands;

/// <summary>Lets -Timeout take '36h', '2d', 3600 or a [TimeSpan], as the original tool's -t did.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class TimeoutTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;

        // PowerShell parses the arguments 2d and 3s as the numbers [decimal]2 and [short]3, but keeps the
        // typed text in the PSObject around them: read that text, so '-Timeout 2d' means two days.
        if (inputData is PSObject typed && value is decimal or short or sbyte or long or int)
        {
            value = typed.ToString();
        }

        switch (value)
        {
            case TimeSpan span when span >= TimeSpan.Zero:
                return span;
            case int or long or short or sbyte or byte or uint or ulong:
                var seconds = Convert.ToDecimal(value, System.Globalization.CultureInfo.InvariantCulture);
                if (seconds >= 0 && seconds <= (decimal)TimeSpan.MaxValue.TotalSeconds / 2)
                {
                    return TimeSpan.FromSeconds((double)seconds);
                }

                break;
            case string text:
                try
                {
                    return TimeoutParser.Parse(text);
                }
                catch (BeakerException ex)
                {
                    throw new ArgumentTransformationMetadataException(ex.Message, ex);
                }
        }

        throw new ArgumentTransformationMetadataException($"The timeout '{value}' is not understood. Use {TimeoutParser.AcceptedForms}.");
    }
}
