using System.Globalization;
using System.Net.Sockets;
using System.Text;
using BeakerHelpers.Core.Time;

namespace BeakerHelpers.Core.Stores.Memcached;

/// <summary>
/// Beaker's ext:memcached sessions (docs/memcached.md): keys '&lt;id&gt;_session' on every server the url lists, found
/// with lru_crawler metadump all and read with pipelined meta gets; the value is the session dict as the client library
/// stored it (a pickle, zlib-compressed or not, or the text of an encrypted session). Beaker stores them without an
/// expiry, so their age is their _accessed_time. Other keys (the app's cache) are never touched.
/// </summary>
public sealed class MemcachedSessionStore : ISessionStore
{
    /// <summary>Keys fetched or deleted per pipelined round trip.</summary>
    public const int Page = 500;

    private const string KeySuffix = "_session";

    // python-memcached and pylibmc: 1 pickled, 8 zlib-compressed; anything else is text (16 in python-memcached).
    private const int FlagPickled = 1;
    private const int FlagCompressed = 8;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly List<MemcachedConnection> _servers;
    private readonly Func<byte[], StoredPayload, double?> _accessedOf;
    private readonly TimeZoneInfo _zone;
    private readonly Action<string>? _notes;

    private MemcachedSessionStore(List<MemcachedConnection> servers, Func<byte[], StoredPayload, double?> accessedOf, TimeZoneInfo zone, Action<string>? notes)
    {
        _servers = servers;
        _accessedOf = accessedOf;
        _zone = zone;
        _notes = notes;
        Description = "memcached " + string.Join(", ", servers.Select(s => s.Where));
    }

    public string Description { get; }

    /// <summary>
    /// Connects to every server of a url (Beaker's 'host:port;host:port', or memcached://host:port), checks that each
    /// speaks the commands the store needs (memcached 1.6 or later, metadump allowed, no SASL), and fails naming the
    /// server and what it lacks.
    /// </summary>
    public static MemcachedSessionStore Open(string url, string urlSource, Func<byte[], StoredPayload, double?> accessedOf, TimeZoneInfo zone, Action<string>? notes, CancellationToken cancellationToken)
    {
        var servers = new List<MemcachedConnection>();
        try
        {
            foreach (var (host, port) in Servers(url, urlSource))
            {
                MemcachedConnection connection;
                try
                {
                    connection = MemcachedConnection.Open(host, port, Timeout, cancellationToken);
                }
                catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    throw new BeakerException("StoreConnectFailed", BeakerErrorKind.ConnectionError, $"Cannot connect to memcached {host}:{port}: {ex.Message}", ex);
                }

                servers.Add(connection);
                Check(connection);
            }

            return new MemcachedSessionStore(servers, accessedOf, zone, notes);
        }
        catch
        {
            servers.ForEach(s => s.Dispose());
            throw;
        }
    }

    /// <summary>The servers of a url as Beaker's client libraries read it: 'host:port' entries separated by ';' (or ','), port 11211 by default.</summary>
    internal static List<(string Host, int Port)> Servers(string url, string urlSource)
    {
        var text = url.Trim();
        if (text.StartsWith("memcached://", StringComparison.OrdinalIgnoreCase))
        {
            text = text["memcached://".Length..].TrimEnd('/');
        }

        var servers = new List<(string, int)>();
        foreach (var part in text.Split(';', ',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var entry = part.StartsWith("inet:", StringComparison.Ordinal) ? part[5..] : part;
            var colon = entry.LastIndexOf(':');
            var host = colon < 0 ? entry : entry[..colon];
            var port = 11211;
            if (colon >= 0 && (!int.TryParse(entry[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            {
                throw new BeakerException("UrlInvalid", BeakerErrorKind.InvalidArgument,
                    $"{urlSource} lists the memcached server '{entry}' with a port that is not a number from 1 to 65535. Beaker's form is host:port;host:port.");
            }

            if (host.Length == 0 || host.Contains('/', StringComparison.Ordinal))
            {
                throw new BeakerException("UrlInvalid", BeakerErrorKind.InvalidArgument,
                    $"{urlSource} lists the memcached server '{entry}', which is not host:port (a unix socket is not read here).");
            }

            servers.Add((host, port));
        }

        if (servers.Count == 0)
        {
            throw new BeakerException("UrlInvalid", BeakerErrorKind.InvalidArgument, $"{urlSource} names no memcached server. Beaker's form is host:port;host:port.");
        }

        return servers;
    }

    private static void Check(MemcachedConnection server)
    {
        server.Send("version");
        var reply = server.ReadLine();
        if (!reply.StartsWith("VERSION ", StringComparison.Ordinal))
        {
            throw new BeakerException("StoreOpenFailed", BeakerErrorKind.ConnectionError,
                $"memcached {server.Where} refused the text protocol ({Shorten(reply)}): a server started with SASL authentication (-S) takes only the binary protocol, which BeakerHelpers does not speak. Read the sessions through a server without SASL, or over a local port.");
        }

        var version = reply["VERSION ".Length..].Trim();
        if (!Version.TryParse(version.Split('-')[0], out var parsed) || parsed < new Version(1, 6))
        {
            throw new BeakerException("StoreNotSupported", BeakerErrorKind.NotImplemented,
                $"memcached {server.Where} is version {Shorten(version)}: listing sessions needs lru_crawler metadump (1.4.31 and later), and removing only unchanged ones needs the meta commands of 1.6 and later. Upgrade the server to 1.6 or later.");
        }
    }

    /// <summary>
    /// Bytes of values a listing keeps from its first pass; past them, it reads the values again in order. Small: a large
    /// store's values kept and then dropped would be garbage the collector still walks (docs/memcached.md).
    /// </summary>
    private const long KeptValueBytes = 16L * 1024 * 1024;

    public IEnumerable<StoredSession> ReadSessions(DateTime? accessedSince, CancellationToken cancellationToken)
    {
        // Oldest first: the keys and times first, then the values in that order. While they fit in KeptValueBytes the
        // values of the first pass are kept and yielded in that order; past that, only notes are kept (a session's id as
        // 16 bytes when it is Beaker's 32 hex digits, its time and its server) and the values read again.
        var since = accessedSince is { } wall ? Epoch(wall) : double.NegativeInfinity;
        var notes = new List<Note>();
        var kept = new List<Item>();
        var keeping = true;
        long keptBytes = 0;
        foreach (var (server, items) in Sessions(cancellationToken))
        {
            foreach (var item in items)
            {
                var accessed = _accessedOf(item.Data, item.Payload) ?? double.NaN;
                if (!double.IsNaN(accessed) && accessed < since)
                {
                    continue;
                }

                keeping = keeping && keptBytes + item.Data.Length <= KeptValueBytes;
                if (keeping)
                {
                    keptBytes += item.Data.Length;
                    kept.Add(item);
                }
                else if (kept.Count > 0)
                {
                    kept.Clear();
                    kept.TrimExcess();
                }

                notes.Add(Note.Of(IdOf(item.Key), accessed, server, keeping ? kept.Count - 1 : -1));
            }
        }

        notes.Sort(static (a, b) => double.IsNaN(a.Accessed) ? (double.IsNaN(b.Accessed) ? 0 : -1) : double.IsNaN(b.Accessed) ? 1 : a.Accessed.CompareTo(b.Accessed));
        if (keeping)
        {
            foreach (var note in notes)
            {
                yield return Stored(kept[note.Kept], double.IsNaN(note.Accessed) ? default : Wall(note.Accessed));
            }

            yield break;
        }

        foreach (var batch in notes.Chunk(Page))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var fetched = new Dictionary<(int, string), Item>();
            foreach (var group in batch.GroupBy(n => n.Server))
            {
                foreach (var item in Get(_servers[group.Key], group.Select(n => KeyOf(n.Id)).ToList(), cancellationToken).OfType<Item>())
                {
                    fetched[(group.Key, item.Key)] = item;
                }
            }

            // In the batch's order, which is the oldest-first order across every server.
            foreach (var note in batch)
            {
                if (fetched.TryGetValue((note.Server, KeyOf(note.Id)), out var found))
                {
                    yield return Stored(found, double.IsNaN(note.Accessed) ? default : Wall(note.Accessed));
                }
            }
        }
    }

    /// <summary>
    /// What a listing keeps of a session between its two passes: the id (as a Guid when it is 32 hex digits, as Beaker's
    /// are; else the text), its time, its server, and where its value was kept (-1: read again).
    /// </summary>
    private readonly record struct Note(Guid Hex, string? Text, double Accessed, int Server, int Kept)
    {
        public string Id => Text ?? Hex.ToString("N");

        public static Note Of(string id, double accessed, int server, int kept) =>
            id.Length == 32 && Guid.TryParseExact(id, "N", out var hex) && hex.ToString("N") == id
                ? new Note(hex, null, accessed, server, kept)
                : new Note(Guid.Empty, id, accessed, server, kept);
    }

    public IEnumerable<StoredSession> ReadIds(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        foreach (var chunk in ids.Chunk(Page))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var keys = chunk.Select(KeyOf).ToList();
            var found = new Dictionary<string, Item>(StringComparer.Ordinal);
            foreach (var server in _servers)
            {
                foreach (var item in Get(server, keys.Where(k => !found.ContainsKey(k)).ToList(), cancellationToken))
                {
                    if (item is { } hit)
                    {
                        found[hit.Key] = hit;
                    }
                }
            }

            foreach (var key in keys)
            {
                if (found.TryGetValue(key, out var item))
                {
                    yield return Stored(item, _accessedOf(item.Data, item.Payload) is { } epoch ? Wall(epoch) : default);
                }
            }
        }
    }

    public AgeCount CountAccessedBefore(DateTime cutoff, CancellationToken cancellationToken) =>
        AgeCount.Of(Sessions(cancellationToken).SelectMany(page => page.Items).Select(item => _accessedOf(item.Data, item.Payload)), Epoch(cutoff));

    public StoreStatistics Measure(StatisticsBounds bounds, CancellationToken cancellationToken)
    {
        var tally = new StoreStatisticsTally(bounds);
        foreach (var (_, items) in Sessions(cancellationToken))
        {
            foreach (var item in items)
            {
                if (_accessedOf(item.Data, item.Payload) is { } accessed)
                {
                    tally.Add(Wall(accessed), item.Data.Length, isSession: true);
                }
                else
                {
                    tally.AddUndated(item.Data.Length);
                }
            }
        }

        long bytes = 0, limit = 0, evictions = 0;
        foreach (var server in _servers)
        {
            var stats = Stats(server);
            bytes += stats.GetValueOrDefault("bytes");
            limit += stats.GetValueOrDefault("limit_maxbytes");
            evictions += stats.GetValueOrDefault("evictions");
        }

        return tally.Result(Description) with { ServerBytes = bytes, ServerLimitBytes = limit, Evictions = evictions };
    }

    /// <summary>A server's general statistics (stats), the numeric ones.</summary>
    private Dictionary<string, long> Stats(MemcachedConnection server) => Guard(server, () =>
    {
        server.Send("stats");
        var stats = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var line = server.ReadLine(); line != "END"; line = server.ReadLine())
        {
            var parts = line.Split(' ');
            if (parts.Length == 3 && parts[0] == "STAT" && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                stats[parts[1]] = value;
            }
            else if (!line.StartsWith("STAT ", StringComparison.Ordinal))
            {
                throw new IOException($"memcached {server.Where} answered stats with '{Shorten(line)}'");
            }
        }

        return stats;
    });

    public RemovalResult RemoveAccessedBefore(DateTime cutoff, RemovalOptions options)
    {
        var (batchSize, _, progress, cancellationToken) = options;
        var before = Epoch(cutoff);
        var tally = new BatchTally();
        foreach (var (server, items) in Sessions(cancellationToken))
        {
            var old = items.Where(i => _accessedOf(i.Data, i.Payload) is { } at && at < before).ToList();
            foreach (var chunk in old.Chunk(Math.Clamp(batchSize, 1, Page)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                tally.Start();
                tally.Finish(DeleteUnchanged(_servers[server], chunk, tally.Removed));
                progress?.Invoke(tally.Removed);
            }
        }

        return tally.Result();
    }

    public RemovalResult RemoveIds(IEnumerable<string> ids, RemovalOptions options, DateTime? accessedBefore = null)
    {
        var (batchSize, _, progress, cancellationToken) = options;
        var before = accessedBefore is { } cutoff ? Epoch(cutoff) : (double?)null;
        var tally = new BatchTally();
        foreach (var chunk in ids.Select(KeyOf).Chunk(Math.Clamp(batchSize, 1, Page)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            tally.Start();
            long removed = 0;
            foreach (var server in _servers)
            {
                var items = Get(server, chunk.ToList(), cancellationToken).OfType<Item>()
                    .Where(i => before == null || (_accessedOf(i.Data, i.Payload) is { } at && at < before)).ToList();
                removed += DeleteUnchanged(server, items, tally.Removed + removed);
            }

            tally.Finish(removed);
            progress?.Invoke(tally.Removed);
        }

        return tally.Result();
    }

    public void Dispose()
    {
        _servers.ForEach(s => s.Dispose());
        GC.SuppressFinalize(this);
    }

    /// <summary>One session item: its key, value as the client library stored it, and CAS.</summary>
    private sealed record Item(string Key, byte[] Data, StoredPayload Payload, ulong Cas);

    private static StoredSession Stored(Item item, DateTime accessed) => new(IdOf(item.Key), accessed, null, item.Data) { Payload = item.Payload };

    /// <summary>Every server's session items, a page at a time: keys from metadump, values from pipelined meta gets.</summary>
    private IEnumerable<(int Server, List<Item> Items)> Sessions(CancellationToken cancellationToken)
    {
        for (var s = 0; s < _servers.Count; s++)
        {
            foreach (var keys in SessionKeys(_servers[s], cancellationToken).Chunk(Page))
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return (s, Get(_servers[s], keys.ToList(), cancellationToken).OfType<Item>().ToList());
            }
        }
    }

    /// <summary>
    /// The session keys a server holds (read whole before the values are asked for: one connection carries one reply
    /// at a time; only the keys are kept). 'lru_crawler metadump hash' walks the hash table, so that items the server
    /// moves between its LRUs meanwhile are not missed, as a walk of the LRUs ('metadump all', the fallback on servers
    /// that lack it) can miss them (docs/memcached.md#listing).
    /// </summary>
    private List<string> SessionKeys(MemcachedConnection server, CancellationToken cancellationToken) =>
        SessionKeys(server, "lru_crawler metadump hash", cancellationToken) ?? SessionKeys(server, "lru_crawler metadump all", cancellationToken)
        ?? throw new BeakerException("StoreNotSupported", BeakerErrorKind.NotImplemented,
            $"memcached {server.Where} refused to list its keys: the LRU crawler is off (the server was started with -X or with lru_crawler disabled). Start it without -X, or enable the crawler ('lru_crawler enable').");

    /// <summary>The keys one metadump command lists; null when the server refuses the command.</summary>
    private List<string>? SessionKeys(MemcachedConnection server, string command, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        var refused = false;
        long others = 0;
        Guard(server, () =>
        {
            server.Send(command);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var line = server.ReadLine();
                if (line == "END")
                {
                    return 0;
                }

                if (line.StartsWith("BUSY", StringComparison.Ordinal))
                {
                    throw new BeakerException("StoreReadFailed", BeakerErrorKind.ConnectionError,
                        $"memcached {server.Where} is crawling its items for another client ({Shorten(line)}); run the command again in a moment.");
                }

                if (line.StartsWith("ERROR", StringComparison.Ordinal) || line.StartsWith("CLIENT_ERROR", StringComparison.Ordinal))
                {
                    refused = true;
                    return 0;
                }

                if (line.StartsWith("key=", StringComparison.Ordinal))
                {
                    var end = line.IndexOf(' ', StringComparison.Ordinal);
                    var key = Uri.UnescapeDataString(end < 0 ? line[4..] : line[4..end]);
                    if (key.EndsWith(KeySuffix, StringComparison.Ordinal) && key.Length > KeySuffix.Length)
                    {
                        keys.Add(key);
                    }
                    else
                    {
                        others++;
                    }
                }
            }
        });
        if (!refused && others > 0)
        {
            _notes?.Invoke($"memcached {server.Where}: {others} key(s) that are not sessions (the app's cache, Beaker cache regions) were left untouched.");
        }

        return refused ? null : keys;
    }

    /// <summary>The items of these keys on one server, in order (null for a key it does not hold), in one pipelined round trip.</summary>
    private List<Item?> Get(MemcachedConnection server, List<string> keys, CancellationToken cancellationToken)
    {
        var items = new List<Item?>(keys.Count);
        if (keys.Count == 0)
        {
            return items;
        }

        Guard(server, () =>
        {
            // u: without bumping the item in the server's LRU (a listing is no use of the session).
            server.Send(keys.Select(k => $"mg {k} v f c u"));
            foreach (var key in keys)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var header = server.ReadLine();
                if (header == "EN")
                {
                    items.Add(null);
                    continue;
                }

                var parts = header.Split(' ');
                if (parts.Length < 2 || parts[0] != "VA" || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
                {
                    throw new IOException($"memcached {server.Where} answered a meta get with '{Shorten(header)}'");
                }

                var flags = 0;
                ulong cas = 0;
                foreach (var part in parts.Skip(2))
                {
                    if (part.StartsWith('f'))
                    {
                        _ = int.TryParse(part.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out flags);
                    }
                    else if (part.StartsWith('c'))
                    {
                        _ = ulong.TryParse(part.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out cas);
                    }
                }

                items.Add(ItemOf(key, server.ReadBlock(length), flags, cas));
            }

            return 0;
        });
        return items;
    }

    private static Item ItemOf(string key, byte[] data, int flags, ulong cas)
    {
        if ((flags & FlagCompressed) != 0)
        {
            data = Inflate(data);
        }

        return new Item(key, data, (flags & FlagPickled) != 0 ? StoredPayload.SessionValue : StoredPayload.SessionText, cas);
    }

    private static byte[] Inflate(byte[] compressed)
    {
        try
        {
            return Payload.SessionPayloadDecoder.Inflate(compressed, "the compressed value");
        }
        catch (Payload.PayloadException)
        {
            // Left as it is: decoding it fails as that session's own error.
            return compressed;
        }
    }

    /// <summary>Deletes each item only while its CAS is the one read (md with C): a session saved meanwhile stays.</summary>
    private long DeleteUnchanged(MemcachedConnection server, IReadOnlyCollection<Item> items, long removedSoFar)
    {
        if (items.Count == 0)
        {
            return 0;
        }

        return Guard(server, () =>
        {
            server.Send(items.Select(i => $"md {i.Key} C{i.Cas.ToString(CultureInfo.InvariantCulture)}"));
            long removed = 0;
            foreach (var _ in items)
            {
                var reply = server.ReadLine();
                if (reply == "HD")
                {
                    removed++;
                }
                else if (reply is not ("EX" or "NF"))
                {
                    throw new IOException($"memcached {server.Where} answered a delete with '{Shorten(reply)}'");
                }
            }

            return removed;
        }, removedSoFar);
    }

    private T Guard<T>(MemcachedConnection server, Func<T> action, long? removedSoFar = null)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            throw removedSoFar is { } removed
                ? new BeakerException("RemovalFailed", BeakerErrorKind.ConnectionError,
                    $"Removing sessions from {Description} failed after {removed} session(s) were removed: memcached {server.Where}: {ex.Message}. Each session is removed whole or not at all; run the command again to finish.", ex)
                : new BeakerException("StoreReadFailed", BeakerErrorKind.ConnectionError, $"{Description}: reading memcached {server.Where} failed: {ex.Message}", ex);
        }
    }

    private static string KeyOf(string id) => id + KeySuffix;

    private static string IdOf(string key) => key[..^KeySuffix.Length];

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "…" : text;

    private double Epoch(DateTime wall) => AppWallClock.Epoch(wall, _zone);

    private DateTime Wall(double epoch) => AppWallClock.Wall(epoch, _zone);
}
