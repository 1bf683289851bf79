using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using BeakerHelpers.Core.Text;

namespace BeakerHelpers.Core.Payload.Values;

/// <summary>
/// How decoded values read as text: a dict key that is not a str (as Python writes it), and the short display of
/// nested values ({theme: dark}, acme.User{id=7}, [1, 2]) with control characters escaped. A display is bounded
/// in length and depth, so that a huge or self-containing value cannot flood a screen (docs/pickle.md).
/// </summary>
public static class PythonText
{
    /// <summary>Characters a nested display stops at.</summary>
    public const int DisplayLength = 400;

    private const int DisplayDepth = 6;

    /// <summary>A key's text: a str as it is; None, True, 7, 1.5, (1, 'a') as Python writes them.</summary>
    public static string KeyText(object? key) => key as string ?? Repr(key, 0);

    /// <summary>Python's repr of a plain value, for keys and the items of a tuple key.</summary>
    internal static string Repr(object? value, int depth) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => "'" + ScreenText.Escape(s).Replace("'", "\\'", StringComparison.Ordinal) + "'",
        double d => Float(d),
        byte[] bytes => Bytes(bytes),
        object[] items when depth < DisplayDepth => items.Length == 1 ? "(" + Repr(items[0], depth + 1) + ",)" : "(" + string.Join(", ", items.Select(i => Repr(i, depth + 1))) + ")",
        object[] => "(…)",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>Whether two typed keys are the same Python key (equal values of one kind).</summary>
    internal static bool SameKey(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (object[] x, object[] y) => x.Length == y.Length && x.Zip(y).All(p => SameKey(p.First, p.Second)),
        (byte[] x, byte[] y) => x.AsSpan().SequenceEqual(y),
        (null, _) or (_, null) => false,
        _ => a.GetType() == b.GetType() && a.Equals(b),
    };

    /// <summary>The short display of a nested value.</summary>
    public static string Display(object? value)
    {
        var text = new StringBuilder();
        Append(text, value, 0);
        return text.Length > DisplayLength ? text.ToString(0, DisplayLength) + "…" : text.ToString();
    }

    private static void Append(StringBuilder text, object? value, int depth)
    {
        if (text.Length > DisplayLength)
        {
            return;
        }

        switch (value)
        {
            case null:
                text.Append("None");
                break;
            case string s:
                text.Append(ScreenText.Escape(s.Length > DisplayLength ? s[..DisplayLength] : s));
                break;
            case PythonObject { CustomDisplay: { } custom }:
                text.Append(ScreenText.Escape(custom));
                break;
            case PythonObject obj:
                text.Append(obj.ClassName).Append('{');
                AppendEntries(text, obj, depth, "=", skipClass: true);
                text.Append('}');
                break;
            case PythonDict dict:
                text.Append('{');
                AppendEntries(text, dict, depth, ": ", skipClass: false);
                text.Append('}');
                break;
            case byte[] bytes:
                text.Append(Bytes(bytes.Length > DisplayLength ? bytes[..DisplayLength] : bytes));
                break;
            case IList list:
                text.Append('[');
                if (depth >= DisplayDepth)
                {
                    text.Append(list.Count == 0 ? string.Empty : "…");
                }
                else
                {
                    for (var i = 0; i < list.Count && text.Length <= DisplayLength; i++)
                    {
                        if (i > 0)
                        {
                            text.Append(", ");
                        }

                        Append(text, list[i], depth + 1);
                    }
                }

                text.Append(']');
                break;
            case bool b:
                text.Append(b ? "True" : "False");
                break;
            case double d:
                text.Append(Float(d));
                break;
            case DateTime time:
                text.Append(time.ToString(time.TimeOfDay == TimeSpan.Zero && time.Kind == DateTimeKind.Unspecified ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture).TrimEnd('.'));
                break;
            case DateTimeOffset moment:
                text.Append(moment.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFzzz", CultureInfo.InvariantCulture));
                break;
            case TimeSpan span:
                text.Append(span.ToString("c", CultureInfo.InvariantCulture));
                break;
            case BigInteger big:
                text.Append(big.ToString(CultureInfo.InvariantCulture));
                break;
            case IFormattable f:
                text.Append(f.ToString(null, CultureInfo.InvariantCulture));
                break;
            default:
                text.Append(ScreenText.Escape(value.ToString() ?? string.Empty));
                break;
        }
    }

    private static void AppendEntries(StringBuilder text, PythonDict dict, int depth, string separator, bool skipClass)
    {
        if (depth >= DisplayDepth)
        {
            text.Append(dict.Count == 0 ? string.Empty : "…");
            return;
        }

        var first = true;
        foreach (var entry in dict.Entries)
        {
            if (skipClass && entry.Name == PythonObject.ClassKey)
            {
                continue;
            }

            if (text.Length > DisplayLength)
            {
                return;
            }

            if (!first)
            {
                text.Append(", ");
            }

            first = false;
            text.Append(ScreenText.Escape(entry.Name)).Append(separator);
            Append(text, entry.Value, depth + 1);
        }
    }

    private static string Float(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        var text = d.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
        return text.Contains('.') || text.Contains('e') ? text : text + ".0";
    }

    private static string Bytes(byte[] bytes)
    {
        var text = new StringBuilder(bytes.Length + 3).Append("b'");
        foreach (var b in bytes)
        {
            text.Append(b switch
            {
                (byte)'\\' => "\\\\",
                (byte)'\'' => "\\'",
                (byte)'\n' => "\\n",
                (byte)'\r' => "\\r",
                (byte)'\t' => "\\t",
                < 0x20 or >= 0x7f => "\\x" + b.ToString("x2", CultureInfo.InvariantCulture),
                _ => ((char)b).ToString(),
            });
        }

        return text.Append('\'').ToString();
    }
}
