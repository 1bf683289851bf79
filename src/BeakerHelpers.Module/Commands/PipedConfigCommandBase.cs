using System.Management.Automation;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;

namespace BeakerHelpers.Module.Commands;

/// <summary>
/// The cmdlets that take their ini files from the pipeline too (Get- and Measure-BeakerSession): paths piped as text
/// bind to -ConfigPath, files from Get-ChildItem to -LiteralPath by their PSPath. Remove-BeakerSession declares its
/// own, because strings piped to it are session ids.
/// </summary>
public abstract class PipedConfigCommandBase : BeakerCommandBase
{
    /// <summary>The app's paste.deploy ini files; wildcards allowed; 'file.ini#name' selects [app:name].</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ConfigParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Path", "Config")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ConfigSectionCompleter))]
    public string[]? ConfigPath { get; set; }

    /// <summary>The same, taken as written: no wildcards. Files piped from Get-ChildItem bind here by their PSPath.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralParameterSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ConfigSectionCompleter))]
    public string[]? LiteralPath { get; set; }

    protected override string[]? ConfigPaths => ConfigPath;

    protected override string[]? LiteralPaths => LiteralPath;

    /// <summary>What the cmdlet does with one store's settings; called for each ini file (or the -Url) in turn.</summary>
    protected abstract void ProcessStore(SessionSettings settings);

    protected override void ProcessRecord() => ProcessStores(ProcessStore);
}
