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
            throw new BeakerException("UrlInvalid", BeakerErrorKind.InvalidArgument,
                $"{where} is not a SQLAlchemy URL such as sqlite:///path/to/sessions.db or postgresql://user:password@host/dbname: '{Mask(url)}'.");
        }

        var name = match.Groups["name"].Value;
        var plus = name.IndexOf('+');
        int? port = null;
        var portText = match.Groups["port"].Value;
        if (portText.Length > 0)
        {
            if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) || p > 65535)
            {
                throw new BeakerException("UrlInvalid", BeakerErrorKind.InvalidArgument,
                    $"{where} has port '{portText}', which is not a number from 0 to 65535.");
            }

            port = p;
        }

        var host = match.Groups["ipv6host"].Success ? match.Groups["ipv6host"].Value : match.Groups["ipv4host"].Value;
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
        var query = Query.Count == 0 ? string.Empty : "?" + string.Join("&", Query.Select(q => q.Key + "=" + q.Value));
        return $"{Dialect}{(Driver == null ? string.Empty : "+" + Driver)}://{user}{host}{port}{database}{query}";
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
