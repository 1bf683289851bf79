using System.Globalization;
using System.Management.Automation;
using BeakerHelpers.Core.Payload.Values;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Text;

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

    /// <summary>Any text a view shows (an id, a store): control characters escaped (docs/views.md#escaping).</summary>
    public static string Text(object? value) => (value is PSObject wrapped ? wrapped.BaseObject : value) switch
    {
        null => string.Empty,
        string s => ScreenText.Escape(s),
        var other => ScreenText.Escape(other.ToString()),
    };

    /// <summary>
    /// The own keys of a session that holds control characters, one 'key : value' line each, escaped: what Format-List
    /// shows of it instead of its keys as properties (docs/views.md#escaping).
    /// </summary>
    public static string Lines(object? session)
    {
        if (Unwrap(session) is not { } s)
        {
            return string.Empty;
        }

        var own = SessionSummary.OwnKeys(s.Values).Select(pair => (Key: ScreenText.Escape(pair.Key), pair.Value)).ToList();
        var width = own.Count == 0 ? 0 : own.Max(pair => pair.Key.Length);
        return string.Join('\n', own.Select(pair => pair.Key.PadRight(width) + " : " + Shown(pair.Value)));
    }

    private static string Shown(object? value) => value switch
    {
        null => string.Empty,
        string s => ScreenText.Escape(s),
        PythonList items => "{" + string.Join(", ", items.Select(i => i is string t ? ScreenText.Escape(t) : PythonText.Display(i))) + "}",
        _ => PythonText.Display(value),
    };

    /// <summary>A row time as the table shows it, sortable, the same in every culture, to the minute as Measure-BeakerSession's.</summary>
    public static string Time(object? time) => (time is PSObject wrapped ? wrapped.BaseObject : time) is DateTime t
        ? t.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)
        : string.Empty;

    private static BeakerSession? Unwrap(object? value) => (value is PSObject wrapped ? wrapped.BaseObject : value) as BeakerSession;
}
