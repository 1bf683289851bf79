using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace BeakerHelpers.Core.Text;

/// <summary>
/// Text from a store (ids, values, keys) or from an ini file as a terminal may show it: C0 and C1 controls, DEL, the
/// line and paragraph separators, the bidi controls and lone surrogates as visible escapes (\x1b, \n, \u202e,
/// \udc80), so that what a visitor chose can neither move the cursor, retitle the window nor reorder a line
/// (docs/views.md#escaping). Everything else is left as it is; the data itself is never changed, only what is said or
/// shown of it.
/// </summary>
public static class ScreenText
{
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(UnsafeCharacters());

    /// <summary>The same, and every surrogate: a search stops at a pair too, and looks whether it is one.</summary>
    private static readonly SearchValues<char> UnsafeOrSurrogate = SearchValues.Create(UnsafeCharacters() + Surrogates());

    /// <summary>Whether <paramref name="text"/> holds a character a terminal would act on.</summary>
    public static bool NeedsEscape(ReadOnlySpan<char> text) => FirstUnsafe(text) >= 0;

    /// <summary>The text with every such character escaped; the same string when there is none.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        var first = FirstUnsafe(text);
        if (first < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    escaped.Append(c).Append(text[++i]);
                }
                else
                {
                    escaped.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                }

                continue;
            }

            if (!Unsafe.Contains(c))
            {
                escaped.Append(c);
                continue;
            }

            escaped.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < '\u0100' => "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
                _ => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
            });
        }

        return escaped.ToString();
    }

    /// <summary>The first character to escape, or -1: one vectorized search over the text (it runs for every value a listing shows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int FirstUnsafe(ReadOnlySpan<char> text)
    {
        var start = 0;
        while (true)
        {
            var at = text[start..].IndexOfAny(UnsafeOrSurrogate);
            if (at < 0)
            {
                return -1;
            }

            at += start;
            if (char.IsHighSurrogate(text[at]) && at + 1 < text.Length && char.IsLowSurrogate(text[at + 1]))
            {
                // A pair (an emoji, say) is a character like any other.
                start = at + 2;
                continue;
            }

            return at;
        }
    }

    private static string Surrogates()
    {
        var all = new StringBuilder(0x800);
        for (var c = '\ud800'; c <= '\udfff'; c++)
        {
            all.Append(c);
        }

        return all.ToString();
    }

    private static string UnsafeCharacters()
    {
        var all = new StringBuilder();
        for (var c = '\0'; c < '\u00a0'; c++)
        {
            if (char.IsControl(c))
            {
                all.Append(c);
            }
        }

        all.Append("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069");
        return all.ToString();
    }
}
