using System.Text;
using BeakerHelpers.Core.Payload.Values;
using BeakerHelpers.Core.Text;

namespace BeakerHelpers.Core.Sessions;

/// <summary>
/// A session's own keys on one line, as the default table shows them: <c>user_name=bob roles=[admin, editor]</c>.
/// Beaker's bookkeeping keys are left out while they hold what Beaker always writes there (docs/views.md).
/// </summary>
public static class SessionSummary
{
    /// <summary>Characters a summary stops at; a table cell is cut to the screen's width anyway.</summary>
    public const int MaxLength = 1000;

    /// <summary>The session's keys that say something about it, in the session's order.</summary>
    public static IEnumerable<KeyValuePair<string, object?>> OwnKeys(IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        foreach (var pair in values)
        {
            if (!BeakerKeys.IsBookkeeping(pair.Key, pair.Value))
            {
                yield return pair;
            }
        }
    }

    /// <summary>The one-line text: key=value pairs separated by spaces, control characters escaped.</summary>
    public static string Of(IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in OwnKeys(values))
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append(ScreenText.Escape(key)).Append('=');
            if (value is string s)
            {
                // A string that would run into the next pair is quoted as Python writes it.
                var cut = s.Length > MaxLength ? s[..MaxLength] : s;
                text.Append(cut.Length == 0 || cut.AsSpan().IndexOfAny(" =\t'\"") >= 0 ? PythonText.Repr(cut, 0) : ScreenText.Escape(cut));
            }
            else
            {
                text.Append(PythonText.Display(value));
            }

            if (text.Length >= MaxLength)
            {
                return text.ToString(0, MaxLength) + "…";
            }
        }

        return text.ToString();
    }
}
