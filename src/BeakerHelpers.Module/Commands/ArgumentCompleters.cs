using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using BeakerHelpers.Core;
using BeakerHelpers.Core.Config;

namespace BeakerHelpers.Module.Commands;

/// <summary>What the completers share: matching the word typed so far, and quoting a completion where PowerShell needs it.</summary>
internal static class Completion
{
    public static IEnumerable<CompletionResult> Of(IEnumerable<string> candidates, string word, string? tooltip = null)
    {
        var typed = Unquoted(word);
        return candidates
            .Where(c => c.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(c => new CompletionResult(Quoted(c), c, CompletionResultType.ParameterValue, tooltip ?? c));
    }

    public static string Unquoted(string word) => word.Trim('\'', '"');

    /// <summary>What makes PowerShell read a completed word as more than one token.</summary>
    private static readonly System.Buffers.SearchValues<char> NeedsQuotes = System.Buffers.SearchValues.Create(" '\"$`(){};,&@[]");

    private static string Quoted(string text) =>
        text.AsSpan().IndexOfAny(NeedsQuotes) >= 0
            ? "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'"
            : text;

    /// <summary>
    /// A path as the current location resolves it, or null where it names no file. A completer runs inside the
    /// pipeline that asked for completion, so it asks the current runspace through a nested pipeline.
    /// </summary>
    public static string? FileSystemPath(string path)
    {
        try
        {
            using var shell = PowerShell.Create(RunspaceMode.CurrentRunspace);
            shell.AddScript("param($Path) $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)").AddArgument(path);
            var resolved = shell.Invoke<string>().FirstOrDefault();
            return resolved != null && File.Exists(resolved) ? resolved : null;
        }
        catch (Exception ex) when (ex is RuntimeException or IOException or ArgumentException or NotSupportedException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The first -ConfigPath or -LiteralPath already typed on the command line.</summary>
    public static string? ConfigPathOf(IDictionary fakeBoundParameters)
    {
        foreach (var name in new[] { "ConfigPath", "LiteralPath", "Path", "Config" })
        {
            if (fakeBoundParameters.Contains(name))
            {
                var value = fakeBoundParameters[name];
                return (value is IEnumerable list and not string ? list.Cast<object?>().FirstOrDefault() : value)?.ToString();
            }
        }

        return null;
    }
}

/// <summary>-TimeZone: the zone ids this machine knows, UTC and Local.</summary>
public sealed class TimeZoneCompleter : IArgumentCompleter
{
    private static readonly string[] AlwaysKnown = { "UTC", "Local" };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Of(AlwaysKnown.Concat(TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id).Order(StringComparer.Ordinal)), wordToComplete);
}

/// <summary>
/// -ConfigPath and -LiteralPath after a '#': the app names the ini file can select ('prod.ini#admin'). Before any '#',
/// file names, as PowerShell completes paths.
/// </summary>
public sealed class ConfigSectionCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = Completion.Unquoted(wordToComplete);
        var hash = word.LastIndexOf('#');
        if (hash < 0)
        {
            return CompletionCompleters.CompleteFilename(wordToComplete);
        }

        if (Completion.FileSystemPath(word[..hash]) is not { } file)
        {
            return Array.Empty<CompletionResult>();
        }

        try
        {
            return Completion.Of(PasteDeployLoader.AppNames(file).Select(name => word[..(hash + 1)] + name), word);
        }
        catch (BeakerException)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}

/// <summary>-Prefix: the prefixes under which the ini file (from -ConfigPath or -LiteralPath) holds Beaker options.</summary>
public sealed class PrefixCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        if (Completion.ConfigPathOf(fakeBoundParameters) is not { } given)
        {
            return Array.Empty<CompletionResult>();
        }

        var (path, name) = Completion.FileSystemPath(given) is { } whole ? (whole, null) : PasteDeployLoader.SplitConfigUri(given);
        if (Completion.FileSystemPath(path) is not { } file)
        {
            return Array.Empty<CompletionResult>();
        }

        try
        {
            return Completion.Of(SessionSettings.PrefixesIn(PasteDeployLoader.Load(file, name)), wordToComplete);
        }
        catch (BeakerException)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}
