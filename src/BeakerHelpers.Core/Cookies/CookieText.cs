using System.Text;

namespace BeakerHelpers.Core.Cookies;

/// <summary>
/// Finds one cookie's value in what a person pastes: a bare value, name=value, or a whole Cookie: or Set-Cookie: header
/// (docs/cookies.md). Quoted values are unquoted as Python's http.cookies quotes them (octal escapes, \" and \\).
/// </summary>
public static class CookieText
{
    /// <summary>The longest input taken: a Cookie header of a browser is at most a few KB; Beaker's cookie at most 4064 characters.</summary>
    public const int MaxInputLength = 64 * 1024;

    /// <summary>The value of the cookie <paramref name="name"/> in <paramref name="input"/>.</summary>
    public static string ValueOf(string input, string name)
    {
        if (input.Length > MaxInputLength)
        {
            throw new BeakerException("CookieMalformed", BeakerErrorKind.InvalidArgument,
                $"The value given is {input.Length} characters long; a cookie or a Cookie header is at most {MaxInputLength / 1024} KB. Give the cookie's value or its header.");
        }

        var text = input.Trim();
        var header = false;
        foreach (var prefix in new[] { "Set-Cookie:", "Cookie:" })
        {
            if (text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                text = text[prefix.Length..].Trim();
                header = true;
                break;
            }
        }

        var pairs = header || text.Contains(';', StringComparison.Ordinal) || text.StartsWith(name + "=", StringComparison.Ordinal)
            ? Pairs(text).ToList()
            : null;
        if (pairs == null)
        {
            return Unquoted(text);
        }

        foreach (var (key, value) in pairs)
        {
            if (key == name)
            {
                return Unquoted(value);
            }
        }

        var names = pairs.Select(p => p.Key).Where(k => k.Length > 0).Take(20).ToList();
        throw new BeakerException("CookieNotFound", BeakerErrorKind.NotFound,
            $"The header holds no cookie named '{name}' (it holds {(names.Count == 0 ? "none" : string.Join(", ", names.Select(n => $"'{n}'")))}). " +
            "The ini's <prefix>.key names the session cookie; check -Prefix, or give the value alone.");
    }

    private static IEnumerable<(string Key, string Value)> Pairs(string text)
    {
        foreach (var part in text.Split(';'))
        {
            var at = part.IndexOf('=', StringComparison.Ordinal);
            yield return at < 0 ? (part.Trim(), string.Empty) : (part[..at].Trim(), part[(at + 1)..].Trim());
        }
    }

    /// <summary>A value as Python's http.cookies writes a quoted one: "...", with \ooo octal escapes and \" and \\.</summary>
    public static string Unquoted(string value)
    {
        if (value.Length < 2 || value[0] != '"' || value[^1] != '"')
        {
            return value;
        }

        var inner = value[1..^1];
        var text = new StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            if (inner[i] == '\\' && IsOctal(inner, i + 1))
            {
                text.Append((char)Convert.ToInt32(inner.Substring(i + 1, 3), 8));
                i += 3;
            }
            else if (inner[i] == '\\' && i + 1 < inner.Length)
            {
                text.Append(inner[++i]);
            }
            else
            {
                text.Append(inner[i]);
            }
        }

        return text.ToString();
    }

    private static bool IsOctal(string text, int at) =>
        at + 3 <= text.Length && text[at] is >= '0' and <= '3' && text[at + 1] is >= '0' and <= '7' && text[at + 2] is >= '0' and <= '7';
}
