using System.Text.RegularExpressions;

namespace BeakerHelpers.Core.Config;

/// <summary>
/// The one place that turns any text on its way to the user into its masked form (docs/secrets.md): the secrets the
/// settings hold (a URL's password, encrypt_key, validate_key), as written and percent-encoded, wherever they occur,
/// and whatever looks like a URL's password or a password option even when it is no secret known here (a URL that
/// failed to parse, a driver's message).
/// </summary>
public sealed partial class SecretMask
{
    public const string Masked = "***";

    private readonly List<string> _secrets = new();

    /// <summary>Remembers a secret; empty ones and single characters (which would mask every such character) are ignored.</summary>
    public void Add(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length < 2)
        {
            return;
        }

        foreach (var form in new[] { secret, Uri.EscapeDataString(secret), secret.Replace("%", "%%", StringComparison.Ordinal) })
        {
            if (!_secrets.Contains(form))
            {
                _secrets.Add(form);
            }
        }

        // Longest first, so that a secret containing another is masked whole.
        _secrets.Sort((a, b) => b.Length.CompareTo(a.Length));
    }

    /// <summary>The text with every known secret and every URL password or password option replaced by ***.</summary>
    public string Mask(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Masked, StringComparison.Ordinal);
        }

        text = UrlPassword().Replace(text, m => m.Groups["pw"].Value == Masked ? m.Value : m.Groups["head"].Value + Masked + "@");
        return PasswordOption().Replace(text, m => m.Groups["value"].Value == Masked ? m.Value : m.Groups["name"].Value + Masked);
    }

    /// <summary>scheme://user:password@ (the user part may be empty, as in redis://:password@host).</summary>
    [GeneratedRegex(@"(?<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@'""]*:)(?<pw>[^\s@'""]+)@")]
    private static partial Regex UrlPassword();

    /// <summary>password=…, pwd=…, secret=… and the like in a query string or a connection string.</summary>
    [GeneratedRegex(@"(?<name>\b(?:[A-Za-z_]*pass(?:word|wd)?|pwd|secret|sslpassword)\s*=\s*)(?<value>[^\s&;'"",)]+)", RegexOptions.IgnoreCase)]
    private static partial Regex PasswordOption();
}
