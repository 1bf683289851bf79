using System.Net;
using System.Net.Sockets;

namespace BeakerHelpers.Core.Stores.Redis;

/// <summary>
/// A Redis URL as Beaker's ext:redis hands it to redis-py (docs/redis.md#url): redis://[[user]:password@]host[:port][/db],
/// rediss:// (TLS), unix://[[user]:password@]/path/to/socket[?db=N]; ext:rediscluster takes several, comma-separated.
/// User and password are percent-decoded; <see cref="ToString"/> never shows the password.
/// </summary>
public sealed class RedisUrl
{
    public const int DefaultPort = 6379;

    private RedisUrl(IReadOnlyList<EndPoint> endPoints, string? user, string? password, int database, bool tls, string shown)
    {
        EndPoints = endPoints;
        User = user;
        Password = password;
        Database = database;
        Tls = tls;
        Shown = shown;
    }

    public IReadOnlyList<EndPoint> EndPoints { get; }

    public string? User { get; }

    public string? Password { get; }

    public int Database { get; }

    public bool Tls { get; }

    /// <summary>The URL with its password masked, for messages and the store's description.</summary>
    public string Shown { get; }

    public override string ToString() => Shown;

    /// <summary>Parses one URL, or for a cluster several separated by commas; <paramref name="source"/> names where it came from.</summary>
    public static RedisUrl Parse(string text, string source)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw Invalid(source, "it is empty");
        }

        var endPoints = new List<EndPoint>();
        string? user = null, password = null;
        int? database = null;
        var tls = false;
        var shown = new List<string>();
        foreach (var part in parts)
        {
            var one = ParseOne(part, source);
            endPoints.Add(one.EndPoint);
            user ??= one.User;
            password ??= one.Password;
            database ??= one.Database;
            tls |= one.Tls;
            shown.Add(one.Shown);
        }

        return new RedisUrl(endPoints, user, password, database ?? 0, tls, string.Join(",", shown));
    }

    private static (EndPoint EndPoint, string? User, string? Password, int? Database, bool Tls, string Shown) ParseOne(string text, string source)
    {
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        var scheme = schemeEnd > 0 ? text[..schemeEnd].ToLowerInvariant() : null;
        if (scheme is not ("redis" or "rediss" or "unix"))
        {
            // Only the scheme is quoted: what follows may hold a password.
            throw Invalid(source, $"it must start with redis://, rediss:// or unix://{(scheme == null ? string.Empty : $", not {Quote(scheme)}://")}");
        }

        var rest = text[(schemeEnd + 3)..];
        var query = string.Empty;
        var q = rest.IndexOf('?');
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        string? user = null, password = null;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            user = Blank(Uri.UnescapeDataString(colon >= 0 ? userInfo[..colon] : userInfo));
            password = colon >= 0 ? Uri.UnescapeDataString(userInfo[(colon + 1)..]) : null;
        }

        int? database = null;
        foreach (var option in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = option.IndexOf('=');
            var name = (eq >= 0 ? option[..eq] : option).ToLowerInvariant();
            var value = eq >= 0 ? Uri.UnescapeDataString(option[(eq + 1)..]) : string.Empty;
            switch (name)
            {
                case "db":
                    database = ParseDatabase(value, source);
                    break;
                case "password":
                    password = value;
                    break;
                case "username":
                    user = Blank(value);
                    break;
            }
        }

        var secret = password == null ? string.Empty : (user ?? string.Empty) + ":***@";
        if (scheme == "unix")
        {
            if (!rest.StartsWith('/'))
            {
                throw Invalid(source, "a unix:// URL needs the socket's absolute path, as in unix:///var/run/redis/redis.sock");
            }

            return (new UnixDomainSocketEndPoint(rest), user, password, database, false, $"unix://{secret}{rest}" + (database is { } d ? $"?db={d}" : string.Empty));
        }

        var path = rest.IndexOf('/');
        var hostPort = path >= 0 ? rest[..path] : rest;
        if (path >= 0 && rest[(path + 1)..] is { Length: > 0 } db)
        {
            database ??= ParseDatabase(db, source);
        }

        string host;
        var port = DefaultPort;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']');
            if (close < 0)
            {
                throw Invalid(source, "an IPv6 host's closing ']' is missing");
            }

            host = hostPort[1..close];
            if (hostPort.Length > close + 1)
            {
                port = ParsePort(hostPort[(close + 1)..].TrimStart(':'), source);
            }
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            host = colon >= 0 ? hostPort[..colon] : hostPort;
            if (colon >= 0)
            {
                port = ParsePort(hostPort[(colon + 1)..], source);
            }
        }

        if (host.Length == 0)
        {
            host = "localhost";
        }

        EndPoint endPoint = IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
        var shownHost = host.Contains(':') ? $"[{host}]" : host;
        return (endPoint, user, password, database, scheme == "rediss", $"{scheme}://{secret}{shownHost}:{port}/{database ?? 0}");
    }

    private static int ParsePort(string text, string source) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
            ? port
            : throw Invalid(source, "its port must be a number from 1 to 65535");

    private static int ParseDatabase(string text, string source) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var db) && db is >= 0 and <= 100_000
            ? db
            : throw Invalid(source, "its database must be a number, as in redis://host:6379/0");

    private static string? Blank(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static string Quote(string text) => "'" + (text.Length > 20 ? text[..20] + "…" : text) + "'";

    private static BeakerException Invalid(string source, string why) =>
        new("UrlInvalid", BeakerErrorKind.InvalidArgument, $"The Redis URL in {source} cannot be used: {why}.");
}
