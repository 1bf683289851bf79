using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace BeakerHelpers.Module.Commands;

/// <summary>
/// Tells files from ids in -Id. PowerShell binds a file piped to Remove-BeakerSession (Get-ChildItem *.ini | ...) to -Id
/// by converting it to its path, before it tries -LiteralPath by the file's PSPath, and a transformation that refuses it
/// stops the pipeline. So a file becomes a path string marked as one (by reference: a visitor's id that spells the same
/// path is not marked), and the command takes it as an ini file.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class PipedFileTransformationAttribute : ArgumentTransformationAttribute
{
    private static readonly ConditionalWeakTable<string, object> Files = new();

    /// <summary>Whether <paramref name="value"/> is the path of a file that came in place of an id.</summary>
    public static bool IsFile(string value) => Files.TryGetValue(value, out _);

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData) =>
        (inputData is PSObject wrapped ? wrapped.BaseObject : inputData) is FileSystemInfo file ? Mark(file.FullName) : inputData;

    private static string Mark(string path)
    {
        var marked = new string(path.AsSpan());
        Files.AddOrUpdate(marked, Files);
        return marked;
    }
}
