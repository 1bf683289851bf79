using System.Management.Automation;
using BeakerHelpers.Core.Audit;
using BeakerHelpers.Core.Config;

namespace BeakerHelpers.Module.Commands;

/// <summary>
/// Audits a site's session set-up (docs/audit.md): one finding per rule that applies to the settings read from the
/// ini file as the other cmdlets read them. -Quiet answers only whether the set-up is free of errors and warnings.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "BeakerConfiguration", DefaultParameterSetName = ConfigParameterSet)]
[OutputType("BeakerHelpers.ConfigurationFinding")]
[OutputType(typeof(bool))]
public sealed class TestBeakerConfigurationCommand : PipedConfigCommandBase
{
    public const string FindingTypeName = "BeakerHelpers.ConfigurationFinding";

    /// <summary>Also reads the store, read-only: planted payloads, expired and unreadable sessions, plain ones under keys, lock files.</summary>
    [Parameter]
    public SwitchParameter Scan { get; set; }

    /// <summary>Returns $true when no finding is an Error or a Warning, and nothing else (for deployment pipelines).</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    private bool _clean = true;

    protected override void ProcessStore(SessionSettings settings)
    {
        WriteVerbose($"Auditing the settings of {settings.Source} under '{settings.Prefix}' (store type {SettingsAudit.StoreType(settings)}).");
        foreach (var finding in SettingsAudit.Check(settings))
        {
            Emit(finding);
        }

        if (Scan)
        {
            using var store = OpenStore(settings);
            foreach (var finding in StoreAudit.Scan(store, settings, AppTimeZone, CancellationToken))
            {
                Emit(finding);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (Quiet)
        {
            WriteObject(_clean);
        }
    }

    private void Emit(ConfigurationFinding finding)
    {
        _clean &= finding.Severity == FindingSeverity.Information;
        if (Quiet)
        {
            return;
        }

        // What the finding says passes the command's mask and escaper, as every message does.
        var output = new PSObject(finding with { Message = Said(finding.Message), Source = Said(finding.Source), SessionId = finding.SessionId });
        output.TypeNames.Insert(0, FindingTypeName);
        WriteObject(output);
    }
}
