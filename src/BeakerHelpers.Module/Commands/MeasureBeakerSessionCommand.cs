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
        StoreStatistics measured;
        SessionContentTally? content = null;
        if (Detailed)
        {
            // One pass that decodes every row; where the figures would otherwise take a query that scans the table
            // again, the same pass counts them (exactly: a row is a session when it decodes as one, or fails to).
            content = new SessionContentTally();
            var reader = new SessionReader(settings.Decoder(), AppTimeZone);
            var tally = store.MeasuresInDatabase ? new StoreStatisticsTally(bounds) : null;
            foreach (var (row, result) in reader.ReadWithRows(store, null, CancellationToken))
            {
                tally?.Add(row.Accessed, row.Data.LongLength, isSession: !result.IsSkipped);
                content.Add(result);
            }

            measured = tally?.Result(store.Description) ?? store.Measure(bounds, CancellationToken);
        }
        else
        {
            measured = store.Measure(bounds, CancellationToken);
        }

        var output = new PSObject(new BeakerSessionStatistics(measured, age.Limit.Age, age.Cutoff, AppTimeZone.Id, content));
        output.TypeNames.Insert(0, BeakerSessionStatistics.TypeName);
        WriteObject(output);
    }
}
