using System.Management.Automation;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;

namespace BeakerHelpers.Module.Commands;

/// <summary>Which ini files -ConfigPath and -LiteralPath name, resolved as PowerShell resolves paths.</summary>
public abstract partial class BeakerCommandBase
{
    /// <summary>
    /// The ini files one -ConfigPath or -LiteralPath value names. 'file.ini#name' selects [app:name]; a file that exists
    /// as written keeps any '#' in its name. Paths resolve as PowerShell's do (current location, ~, drives); a
    /// -ConfigPath with wildcards names every file it matches, and none is an error.
    /// </summary>
    protected IReadOnlyList<ConfigTarget> ResolveConfigTargets(string value, bool literal)
    {
        var parameter = literal ? "-LiteralPath" : "-ConfigPath";
        var whole = ResolveFileSystemPath(value, parameter);
        if (File.Exists(whole))
        {
            return new[] { new ConfigTarget(value, whole, null) };
        }

        var (path, name) = PasteDeployLoader.SplitConfigUri(value);
        if (literal || !WildcardPattern.ContainsWildcardCharacters(path))
        {
            return new[] { new ConfigTarget(value, ResolveFileSystemPath(path, parameter), name) };
        }

        var files = new List<ConfigTarget>();
        try
        {
            foreach (var match in SessionState.Path.GetResolvedProviderPathFromPSPath(path, out var provider))
            {
                if (provider.Name != "FileSystem")
                {
                    throw NotFileSystem(path, provider.Name, parameter);
                }

                if (File.Exists(match))
                {
                    files.Add(new ConfigTarget(value, match, name));
                }
            }
        }
        catch (ItemNotFoundException)
        {
        }

        if (files.Count == 0)
        {
            throw new BeakerException("ConfigFileNotFound", BeakerErrorKind.NotFound,
                $"-ConfigPath '{value}' matches no file. Check the path and the pattern (Get-ChildItem '{path}' lists what it matches); " +
                "a file whose name holds [ or ] is named with -LiteralPath.");
        }

        return files;
    }

    private string ResolveFileSystemPath(string path, string parameter)
    {
        var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
        if (provider.Name != "FileSystem")
        {
            throw NotFileSystem(path, provider.Name, parameter);
        }

        return resolved;
    }

    private static BeakerException NotFileSystem(string path, string provider, string parameter) =>
        new("ConfigPathNotFile", BeakerErrorKind.InvalidArgument, $"{parameter} '{path}' is on the {provider} provider; it must be a file.");
}
