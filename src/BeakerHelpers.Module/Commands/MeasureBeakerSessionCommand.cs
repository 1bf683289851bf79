using System.Management.Automation;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Module.Output;

namespace BeakerHelpers.Module.Commands;

/// <summary>
/// How big a store is and how much a cleanup would remove: counted by the database (or one walk of a folder tree)
/// without decoding; -Detailed decodes every session once for what only the payloads tell.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "BeakerSession", DefaultParameterSetName = ConfigParameterSet)]
[OutputType(typeof(BeakerSessionStatistics))]
public sealed class MeasureBeakerSessionCommand : PipedConfigCommandBase
{
    /// <summary>Also decode every session: empty ones, unreadable ones, and the most common keys.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void ProcessStore(SessionSettings settings)
    {
        var age = ResolveCutoff(settings);
        using var store = OpenStore(settings);
        var bounds = age.Bounds();
        WriteVerbose(age.Said is { } said
            ? $"Counting sessions accessed before {said} as old."
            : $"No timeout ({age.Source}): Active and Old are not counted.");
        var (measured, content) = Detailed
            ? SessionContentTally.Measure(store, new SessionReader(settings.Decoder(), AppTimeZone), bounds, CancellationToken)
            : (store.Measure(bounds, CancellationToken), null);

        var output = new PSObject(new BeakerSessionStatistics(measured, age.Limit.Age, age.Cutoff, AppTimeZone.Id, content));
        output.TypeNames.Insert(0, BeakerSessionStatistics.TypeName);
        WriteObject(output);
    }
}
