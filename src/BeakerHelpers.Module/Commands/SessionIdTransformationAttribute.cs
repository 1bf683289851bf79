using System.Collections;
using System.Management.Automation;

namespace BeakerHelpers.Module.Commands;

/// <summary>
/// Keeps files out of -Id: a file or folder piped to Remove-BeakerSession (Get-ChildItem *.ini | ...) is an ini file,
/// which then binds to -LiteralPath by its PSPath, never a session id named like its path.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SessionIdTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        if (IsFile(inputData) || (Unwrap(inputData) is IEnumerable items and not string && items.Cast<object?>().Any(IsFile)))
        {
            throw new ArgumentTransformationMetadataException(
                "A file is not a session id: files piped to Remove-BeakerSession are the apps' ini files (-LiteralPath).");
        }

        return inputData;
    }

    private static object? Unwrap(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;

    private static bool IsFile(object? value) => Unwrap(value) is FileSystemInfo;
}
