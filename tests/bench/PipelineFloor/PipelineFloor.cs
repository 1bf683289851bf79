using System.Management.Automation;

namespace BeakerHelpers.Bench;

/// <summary>One emitted object: a class of four properties, about what a session row carries besides its keys.</summary>
public sealed class FloorItem
{
    public FloorItem(int number) => (Id, Accessed, Created, Number) = (number.ToString("x32", System.Globalization.CultureInfo.InvariantCulture), DateTime.Now, DateTime.Now, number);

    public string Id { get; }

    public DateTime Accessed { get; }

    public DateTime Created { get; }

    public int Number { get; }
}

/// <summary>Get-FloorItem -Count N: writes N new objects, one WriteObject each, as Get-BeakerSession does.</summary>
[Cmdlet(VerbsCommon.Get, "FloorItem")]
[OutputType(typeof(FloorItem))]
public sealed class GetFloorItemCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public int Count { get; set; }

    protected override void ProcessRecord()
    {
        for (var i = 0; i < Count; i++)
        {
            WriteObject(new FloorItem(i));
        }
    }
}
