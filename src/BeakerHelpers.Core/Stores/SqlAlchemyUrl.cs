using System.Text.RegularExpressions;

namespace BeakerHelpers.Core.Stores;

/// <summary>
/// A SQLAlchemy database URL, split by SQLAlchemy's own rules:
/// <c>dialect[+driver]://[user[:password]@][host|[ipv6]][:port][/database][?query]</c>,
/// with user and password percent-decoded. <see cref="ToString"/> masks the password.
/// </summary>
public sealed class SqlAlchemyUrl
{
    private static readonly Regex Pattern = new(
        @"^(?<name>[\w\+]+)://" +
        @"(?:(?<username>[^:/]*)(?::(?<password>[^@]*))?@)?" +
        @"(?:(?:\[(?<ipv6host>[^/\?]+)\]|(?<ipv4host>[^/:\?]+))?(?::(?<port>[^/\?]*))?)?" +
        @"(?:/(?<database>[^\?]*))?" +
        @"(?:\?(?<query>.*))?$",
        RegexOptions.CultureInvariant | RegexOptions.Singleline);

    private SqlAlchemyUrl()
    {
    }

    /// <summary>'sqlite', 'postgresql', 'mysql', ...</summary>
    public string Dialect { get; private init; } = string.Empty;

    /// <summary>The part after '+', such as 'psycopg2', or null.</summary>
    public string? Driver { get; private init; }

    public string? Username { get; private init; }

    public string? Password { get; private init; }

    public string? Host { get; private init; }

    public int? Port { get; private init; }

    public string? Database { get; private init; }

    public IReadOnlyList<KeyValuePair<string, string>> Query { get; private init; } = Array.Empty<KeyValuePair<string, string>>();

    /// <param name="url">The URL text.</param>
    /// <param name="where">Names the setting the URL came from, for error messages.</param>
    public static SqlAlchemyUrl Parse(string url, string where)
    {
        var match = Pattern.Match(url.Trim());
        if (!match.Success)
        {
            // Only the scheme is quoted: a malformed URL cannot be relied on to mask its own password.
            throw new BeakerException("UrlInvalid", BeakerErrorKind.InvalidArgument,
                $"{where} is not a SQLAlchemy URL such as sqlite:///path/to/sessions.db or postgresql://user:password@host/dbname (it starts '{SafeStart(url)}'; the dialect is followed by '://').");
        }

        var name = match.Groups["name"].Value;
        var plus = name.IndexOf('+');
        int? port = null;
        var portText = match.Groups["port"].Value;
        if (portText.Length > 0)
        {
            if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                throw new BeakerException("UrlInvalid", BeakerErrorKind.InvalidArgument,
                    $"{where} has a port that is not a number from 1 to 65535{(portText.Length <= 6 && portText.All(char.IsAsciiDigit) ? $" ('{portText}')" : string.Empty)}.");
            }

            port = p;
        }

        var host = match.Groups["ipv6host"].Success ? match.Groups["ipv6host"].Value : match.Groups["ipv4host"].Value;
        if (host.Contains('@'))
        {
            // user:p@ss@host: the rest of the password would be taken for the host and shown in every message.
            throw new BeakerException("UrlInvalid", BeakerErrorKind.InvalidArgument,
                $"{where} has an '@' after the one that ends the user and password. Percent-encode an '@' in the password as %40 (in an ini file %%40).");
        }

        return new SqlAlchemyUrl
        {
            Dialect = (plus < 0 ? name : name.Substring(0, plus)).ToLowerInvariant(),
            Driver = plus < 0 ? null : name.Substring(plus + 1).ToLowerInvariant(),
            Username = match.Groups["username"].Success ? Uri.UnescapeDataString(match.Groups["username"].Value) : null,
            Password = match.Groups["password"].Success ? Uri.UnescapeDataString(match.Groups["password"].Value) : null,
            Host = host.Length == 0 ? null : host,
            Port = port,
            Database = match.Groups["database"].Success ? match.Groups["database"].Value : null,
            Query = ParseQuery(match.Groups["query"].Value),
        };
    }

    /// <summary>The URL with any password replaced by '***', safe to show.</summary>
    public static string Mask(string url)
    {
        return Regex.Replace(url, @"^([\w\+]+://[^:/@]*:)[^@]*@", "$1***@", RegexOptions.CultureInvariant);
    }

    public override string ToString()
    {
        var user = Username == null ? string.Empty : Uri.EscapeDataString(Username) + (Password == null ? string.Empty : ":***") + "@";
        var host = Host == null ? string.Empty : (Host.Contains(':') ? "[" + Host + "]" : Host);
        var port = Port == null ? string.Empty : ":" + Port;
        var database = Database == null ? string.Empty : "/" + Database;
        var query = Query.Count == 0 ? string.Empty : "?" + string.Join("&", Query.Select(q => q.Key + "=" + (IsSecretOption(q.Key) ? "***" : q.Value)));
        return $"{Dialect}{(Driver == null ? string.Empty : "+" + Driver)}://{user}{host}{port}{database}{query}";
    }

    /// <summary>A query option that carries a secret (password=, sslpassword=, secret=, ...): its value is never shown.</summary>
    public static bool IsSecretOption(string key)
    {
        var k = key.ToLowerInvariant();
        return k.Contains("pass", StringComparison.Ordinal) || k.Contains("pwd", StringComparison.Ordinal) || k.Contains("secret", StringComparison.Ordinal)
            || k.Contains("key", StringComparison.Ordinal) || k.Contains("token", StringComparison.Ordinal);
    }

    /// <summary>What an error may quote of a URL that did not parse: its scheme, up to the first ':' and the slashes after it.</summary>
    private static string SafeStart(string url)
    {
        var text = url.Trim();
        var colon = text.IndexOf(':');
        if (colon < 0)
        {
            return Regex.Match(text, @"^[\w\+]{0,20}", RegexOptions.CultureInvariant).Value + "…";
        }

        var end = colon + 1;
        while (end < text.Length && end < colon + 4 && text[end] == '/')
        {
            end++;
        }

        return (colon <= 30 ? text[..end] : text[..20]) + "…";
    }

    private static IReadOnlyList<KeyValuePair<string, string>> ParseQuery(string query)
    {
        if (query.Length == 0)
        {
            return Array.Empty<KeyValuePair<string, string>>();
        }

        var result = new List<KeyValuePair<string, string>>();
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=');
            var key = Uri.UnescapeDataString((equals < 0 ? part : part.Substring(0, equals)).Replace('+', ' '));
            var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(part.Substring(equals + 1).Replace('+', ' '));
            result.Add(new KeyValuePair<string, string>(key, value));
        }

        return result;
    }
}
