using System.Globalization;
using System.Management.Automation;
using BeakerHelpers.Core.Sessions;

namespace BeakerHelpers.Module.Output;

/// <summary>
/// What the default views of a session show (BeakerHelpers.format.ps1xml calls these): one line per session in a
/// table (Format-List gets its properties from SessionDisplayTypes; docs/views.md).
/// </summary>
public static class BeakerSessionView
{
    /// <summary>The session's own keys on one line: user_name=bob roles=[admin, editor].</summary>
    public static string Summary(object? session) =>
        Unwrap(session) is { } s ? SessionSummary.Of(s.Values) : string.Empty;

    /// <summary>A row time as the table shows it, sortable, the same in every culture, to the minute as Measure-BeakerSession's.</summary>
    public static string Time(object? time) => (time is PSObject wrapped ? wrapped.BaseObject : time) is DateTime t
        ? t.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)
        : string.Empty;

    private static BeakerSession? Unwrap(object? value) => (value is PSObject wrapped ? wrapped.BaseObject : value) as BeakerSession;
}
