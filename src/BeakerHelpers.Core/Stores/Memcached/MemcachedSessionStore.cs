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

    // python-memcached and pylibmc: 1 pickled, 8 zlib-compressed; anything else is text (16 in python-memcached).
    private const int FlagPickled = 1;
    private const int FlagCompressed = 8;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly List<MemcachedConnection> _servers;
    private readonly Func<byte[], StoredPayload, double?> _accessedOf;
    private readonly TimeZoneInfo _zone;
    private readonly Action<string>? _notes;
    private readonly long _keptValueBytes;

    private MemcachedSessionStore(List<MemcachedConnection> servers, Func<byte[], StoredPayload, double?> accessedOf, TimeZoneInfo zone, Action<string>? notes, long keptValueBytes)
    {
        _keptValueBytes = keptValueBytes;
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
    public static MemcachedSessionStore Open(string url, string urlSource, Func<byte[], StoredPayload, double?> accessedOf, TimeZoneInfo zone, Action<string>? notes, CancellationToken cancellationToken) =>
        Open(url, urlSource, accessedOf, zone, notes, metaAllowed: true, cancellationToken);

    /// <param name="metaAllowed">False: the classic commands on every server, as on servers before 1.6 (for tests).</param>
    /// <param name="keptValueBytes">How much of the first pass's values a listing keeps (for tests: 0 reads every value again).</param>
    internal static MemcachedSessionStore Open(string url, string urlSource, Func<byte[], StoredPayload, double?> accessedOf, TimeZoneInfo zone, Action<string>? notes, bool metaAllowed, CancellationToken cancellationToken, long keptValueBytes = KeptValueBytes)
    {
        var servers = new List<MemcachedConnection>();
        try
        {
            foreach (var (host, port) in Servers(url, urlSource))
            {
                var connection = Connect(host, port, metaAllowed, cancellationToken);
                servers.Add(connection);
                Check(connection, notes);
            }

            return new MemcachedSessionStore(servers, accessedOf, zone, notes, keptValueBytes);
        }
        catch
        {
            servers.ForEach(s => s.Dispose());
            throw;
        }
    }

    private static MemcachedConnection Connect(string host, int port, bool metaAllowed, CancellationToken cancellationToken)
    {
        try
        {
            return MemcachedConnection.Open(host, port, Timeout, cancellationToken, metaAllowed);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new BeakerException("StoreConnectFailed", BeakerErrorKind.ConnectionError, $"Cannot connect to memcached {host}:{port}: {ex.Message}", ex);
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

    private static void Check(MemcachedConnection server, Action<string>? notes)
    {
        var reply = server.Hello();
        if (!reply.StartsWith("VERSION ", StringComparison.Ordinal))
        {
            throw new BeakerException("StoreOpenFailed", BeakerErrorKind.ConnectionError,
                $"memcached {server.Where} refused the text protocol ({Shorten(reply)}): a server started with SASL authentication (-S) takes only the binary protocol, which BeakerHelpers does not speak. Read the sessions through a server without SASL, or over a local port.");
        }

        if (server.Version is not { } version || version < MemcachedConnection.Oldest)
        {
            throw new BeakerException("StoreNotSupported", BeakerErrorKind.NotImplemented,
                $"memcached {server.Where} is version {Shorten(reply["VERSION ".Length..].Trim())}: listing its keys needs lru_crawler metadump, which came with 1.4.31. Upgrade the server to 1.4.31 or later (1.6 or later reads without touching the sessions' LRU positions).");
        }

        if (!server.Meta)
        {
            notes?.Invoke($"memcached {server.Where} is version {version}: sessions are read with gets (which counts as a use in the server's LRU) and removed with cas (only while unchanged), as the meta commands need 1.6.");
        }
    }

    /// <summary>
    /// Bytes of values a listing keeps from its first pass (split between the servers); the values past them are read
    /// again in order. Small: a large store's values kept would be memory the collector walks (docs/memcached.md).
    /// </summary>
    private const long KeptValueBytes = 16L * 1024 * 1024;

    public IEnumerable<StoredSession> ReadSessions(DateTime? accessedSince, CancellationToken cancellationToken)
    {
        // Oldest first: every server's keys and times first (the servers at once, each sorting its own notes), then the
        // values in the order of those sorted notes merged. The first values read, up to KeptValueBytes, are kept from
        // the first pass; of the others only a note is kept (the id as 16 bytes when it is Beaker's 32 hex digits, and
        // its time) and the value is read again.
        var since = accessedSince is { } wall ? Epoch(wall) : double.NegativeInfinity;
        var passes = FirstPasses(since, cancellationToken);
        using var values = new OrderedValues(_servers.Count, s => passes[s].Notes.Where(n => n.Kept < 0).Select(n => n.Key),
            (s, keys, token) => Guard(_servers[s], () => _servers[s].Get(keys, token)), Page, cancellationToken);
        var next = new int[passes.Length];
        while (true)
        {
            // The oldest note not yet yielded, of every server's sorted notes.
            var server = -1;
            for (var s = 0; s < passes.Length; s++)
            {
                if (next[s] < passes[s].Notes.Count && (server < 0 || Note.Older(passes[s].Notes[next[s]], passes[server].Notes[next[server]]) < 0))
                {
                    server = s;
                }
            }

            if (server < 0)
            {
                yield break;
            }

            var note = passes[server].Notes[next[server]++];
            var item = note.Kept >= 0 ? passes[server].Kept[note.Kept] : values.Next(server) is { } value ? ItemOf(note.Key, value) : null;

            // Gone since the first pass: not listed.
            if (item != null)
            {
                yield return Stored(item, double.IsNaN(note.Accessed) ? default : Wall(note.Accessed));
            }
        }
    }

    /// <summary>What the first pass over one server keeps: a note per session not older than asked, and the first values.</summary>
    private sealed record FirstPass(List<Note> Notes, List<Item> Kept);

    /// <summary>The first pass over every server, each on its own thread (each has its own connection).</summary>
    private FirstPass[] FirstPasses(double since, CancellationToken cancellationToken)
    {
        var keep = _keptValueBytes / _servers.Count;
        return Threading.AllAtOnce.Run(_servers.Count, (s, token) => FirstPassOf(s, since, keep, token), cancellationToken);
    }

    /// <summary>
    /// One server's first pass. Its keys stream in from a metadump on a second connection while this one reads their
    /// values a page at a time, so that the server's crawl and the reading overlap.
    /// </summary>
    private FirstPass FirstPassOf(int server, double since, long keep, CancellationToken cancellationToken)
    {
        var connection = _servers[server];
        using var dumper = Guard(connection, () => connection.Another(cancellationToken));
        using var pages = new System.Collections.Concurrent.BlockingCollection<List<SessionKey>>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var dump = Task.Run(() =>
        {
            try
            {
                var page = new List<SessionKey>(Page);
                ListSessionKeys(dumper, key =>
                {
                    page.Add(key);
                    if (page.Count == Page)
                    {
                        pages.Add(page);
                        page = new List<SessionKey>(Page);
                    }
                }, stop.Token);
                if (page.Count > 0)
                {
                    pages.Add(page);
                }
            }
            finally
            {
                pages.CompleteAdding();
            }
        }, CancellationToken.None);

        var pass = new FirstPass(new List<Note>(), new List<Item>());
        long kept = 0;
        try
        {
            foreach (var keys in pages.GetConsumingEnumerable(cancellationToken))
            {
                Guard(connection, () => connection.RequestValues(keys));

                // Each value is dated where it lies in the receive buffer; only those kept are copied.
                Guard(connection, () =>
                {
                    connection.ReadValues(keys.Count, (i, data, flags, cas) =>
                    {
                        // Made only when dating the value takes more than its leading entries, or when it is kept.
                        Item? item = null;
                        double accessed;
                        if ((flags & (FlagCompressed | FlagPickled)) == FlagPickled && Payload.SessionPayloadDecoder.TryLeadingAccessedTime(data, out var leading))
                        {
                            accessed = leading ?? double.NaN;
                        }
                        else
                        {
                            item = ItemOf(keys[i], new MemcachedValue(data.ToArray(), flags, cas));
                            accessed = _accessedOf(item.Data, item.Payload) ?? double.NaN;
                        }

                        if (!double.IsNaN(accessed) && accessed < since)
                        {
                            return;
                        }

                        var keeping = kept + data.Length <= keep;
                        if (keeping)
                        {
                            kept += data.Length;
                            pass.Kept.Add(item ?? ItemOf(keys[i], new MemcachedValue(data.ToArray(), flags, cas)));
                        }

                        pass.Notes.Add(new Note(keys[i], accessed, keeping ? pass.Kept.Count - 1 : -1));
                    }, cancellationToken);
                    return 0;
                });
            }
        }
        catch
        {
            // Ends the dump's read at once (closing its connection), and waits for its thread.
            stop.Cancel();
            dumper.Dispose();
            try
            {
                dump.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
                // Its failure came from this one's.
            }

            throw;
        }

        // The dump's own failure (refused, busy too long, connection lost), after the keys it gave.
        dump.GetAwaiter().GetResult();
        // By time as a key (undated first), which sorts without calling a comparison for every pair.
        var notes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pass.Notes);
        var times = new double[notes.Length];
        for (var n = 0; n < notes.Length; n++)
        {
            times[n] = notes[n].SortKey;
        }

        times.AsSpan().Sort(notes);
        return pass;
    }

    /// <summary>
    /// What a listing keeps of a session between its two passes: its key (16 bytes for Beaker's ids), its time (NaN:
    /// undated), and where its value was kept (-1: read again).
    /// </summary>
    private readonly record struct Note(SessionKey Key, double Accessed, int Kept)
    {
        /// <summary>What the listing's order sorts by: undated first (as the earliest time), then the oldest access.</summary>
        public double SortKey => double.IsNaN(Accessed) ? double.NegativeInfinity : Accessed;

        public static int Older(Note a, Note b) => a.SortKey.CompareTo(b.SortKey);
    }

    public IEnumerable<StoredSession> ReadIds(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        // An id no memcached key can be made of (a space, a control character, too long) is no session here.
        foreach (var chunk in ids.Select(id => SessionKey.TryOf(id, out var key) ? key : (SessionKey?)null).OfType<SessionKey>().Chunk(Page))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var found = new Item?[chunk.Length];
            foreach (var server in _servers)
            {
                var missing = Enumerable.Range(0, chunk.Length).Where(i => found[i] == null).ToList();
                var values = Guard(server, () => server.Get(missing.Select(i => chunk[i]).ToList(), cancellationToken));
                for (var v = 0; v < values.Count; v++)
                {
                    found[missing[v]] = values[v] is { } value ? ItemOf(chunk[missing[v]], value) : null;
                }
            }

            foreach (var item in found.OfType<Item>())
            {
                yield return Stored(item, _accessedOf(item.Data, item.Payload) is { } epoch ? Wall(epoch) : default);
            }
        }
    }

    public AgeCount CountAccessedBefore(DateTime cutoff, CancellationToken cancellationToken) =>
        AgeCount.Of(Sessions(cancellationToken).SelectMany(page => page.Items).Select(item => _accessedOf(item.Data, item.Payload)), Epoch(cutoff));

    public StoreStatistics Measure(StatisticsBounds bounds, CancellationToken cancellationToken)
    {
        var tally = new StoreStatisticsTally(bounds);
        var sessions = new long[_servers.Count];
        var sessionBytes = new long[_servers.Count];
        foreach (var (server, items) in Sessions(cancellationToken))
        {
            foreach (var item in items)
            {
                sessions[server]++;
                sessionBytes[server] += item.Data.Length;
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

        // What sessions take of each server, beside what it holds and may hold (stats).
        var servers = _servers.Select((server, s) =>
        {
            var stats = Guard(server, server.Stats);
            return new MemcachedServerFigures(server.Where, sessions[s], sessionBytes[s], stats.GetValueOrDefault("bytes"), stats.GetValueOrDefault("limit_maxbytes"), stats.GetValueOrDefault("evictions"));
        }).ToList();
        return tally.Result(Description) with
        {
            ServerBytes = servers.Sum(s => s.Bytes),
            ServerLimitBytes = servers.Sum(s => s.LimitBytes),
            Evictions = servers.Sum(s => s.Evictions),
            Servers = servers,
        };
    }

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
        var keys = ids.Select(id => SessionKey.TryOf(id, out var key) ? key : (SessionKey?)null).OfType<SessionKey>();
        foreach (var chunk in keys.Chunk(Math.Clamp(batchSize, 1, Page)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            tally.Start();
            long removed = 0;
            foreach (var server in _servers)
            {
                var values = Guard(server, () => server.Get(chunk, cancellationToken));
                var items = values.Select((v, i) => v is { } value ? ItemOf(chunk[i], value) : null).OfType<Item>()
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
    private sealed record Item(SessionKey Key, byte[] Data, StoredPayload Payload, ulong Cas);

    private static StoredSession Stored(Item item, DateTime accessed) => new(item.Key.Id, accessed, null, item.Data) { Payload = item.Payload };

    /// <summary>Every server's session items, a page at a time.</summary>
    private IEnumerable<(int Server, List<Item> Items)> Sessions(CancellationToken cancellationToken)
    {
        for (var s = 0; s < _servers.Count; s++)
        {
            foreach (var items in Pages(s, SessionKeys(_servers[s], cancellationToken), cancellationToken))
            {
                yield return (s, items);
            }
        }
    }

    /// <summary>One server's session items, a page at a time: its keys (from metadump), values from pipelined gets.</summary>
    private IEnumerable<List<Item>> Pages(int s, List<SessionKey> keys, CancellationToken cancellationToken)
    {
        var server = _servers[s];
        for (var first = 0; first < keys.Count; first += Page)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = keys.GetRange(first, Math.Min(Page, keys.Count - first));
            var values = Guard(server, () => server.Get(page, cancellationToken));
            var items = new List<Item>(page.Count);
            for (var i = 0; i < page.Count; i++)
            {
                if (values[i] is { } value)
                {
                    items.Add(ItemOf(page[i], value));
                }
            }

            yield return items;
        }
    }

    /// <summary>
    /// The session keys a server holds (read whole before the values are asked for: one connection carries one reply
    /// at a time; only the keys are kept, 24 bytes each for Beaker's ids). 'lru_crawler metadump hash' walks the hash
    /// table, so that items the server moves between its LRUs meanwhile are not missed, as a walk of the LRUs
    /// ('metadump all', the fallback on servers that lack it) can miss them (docs/memcached.md#listing).
    /// </summary>
    private List<SessionKey> SessionKeys(MemcachedConnection server, CancellationToken cancellationToken)
    {
        var keys = new List<SessionKey>();
        ListSessionKeys(server, keys.Add, cancellationToken);
        return keys;
    }

    /// <summary>Gives each session key of a server to <paramref name="add"/> as its metadump lists it.</summary>
    private void ListSessionKeys(MemcachedConnection server, Action<SessionKey> add, CancellationToken cancellationToken)
    {
        if (!TryListSessionKeys(server, "hash", add, cancellationToken) && !TryListSessionKeys(server, "all", add, cancellationToken))
        {
            throw new BeakerException("StoreNotSupported", BeakerErrorKind.NotImplemented,
                $"memcached {server.Where} refused to list its keys: the LRU crawler is off (the server was started with -X or with lru_crawler disabled). Start it without -X, or enable the crawler ('lru_crawler enable').");
        }
    }

    /// <summary>
    /// The keys one metadump lists; false when the server refuses the command (before any key). A crawler already
    /// running (another client's, or the server's own periodic crawl for expired items) is waited for, up to
    /// <see cref="BusyPatience"/>.
    /// </summary>
    private bool TryListSessionKeys(MemcachedConnection server, string which, Action<SessionKey> add, CancellationToken cancellationToken)
    {
        long others = 0;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        for (var pause = 50; ; pause = Math.Min(pause * 2, 1000))
        {
            var result = Guard(server, () => server.Metadump(which, key =>
            {
                if (SessionKey.TryParse(key, out var sessionKey))
                {
                    add(sessionKey);
                }
                else
                {
                    others++;
                }
            }, cancellationToken));
            if (result == MetadumpResult.Refused)
            {
                return false;
            }

            if (result == MetadumpResult.Listed)
            {
                break;
            }

            if (waited.Elapsed > BusyPatience)
            {
                throw new BeakerException("StoreReadFailed", BeakerErrorKind.ConnectionError,
                    $"memcached {server.Where} kept crawling its items for another client for {BusyPatience.TotalSeconds:0} s (its lru_crawler answered BUSY); run the command again later.");
            }

            if (cancellationToken.WaitHandle.WaitOne(pause))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        if (others > 0)
        {
            _notes?.Invoke($"memcached {server.Where}: {others} key(s) that are not sessions (the app's cache, Beaker cache regions) were left untouched.");
        }

        return true;
    }

    /// <summary>How long a listing waits for a server's crawler that is busy with another crawl.</summary>
    private static readonly TimeSpan BusyPatience = TimeSpan.FromSeconds(30);

    private static Item ItemOf(SessionKey key, MemcachedValue value)
    {
        var data = (value.Flags & FlagCompressed) != 0 ? Inflate(value.Data) : value.Data;
        return new Item(key, data, (value.Flags & FlagPickled) != 0 ? StoredPayload.SessionValue : StoredPayload.SessionText, value.Cas);
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

    /// <summary>Deletes each item only while its CAS is the one read: a session saved meanwhile stays.</summary>
    private long DeleteUnchanged(MemcachedConnection server, IReadOnlyCollection<Item> items, long removedSoFar) =>
        items.Count == 0 ? 0 : Guard(server, () => server.DeleteUnchanged(items.Select(i => (i.Key, i.Cas)).ToList()), removedSoFar);

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

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "…" : text;

    private double Epoch(DateTime wall) => AppWallClock.Epoch(wall, _zone);

    private DateTime Wall(double epoch) => AppWallClock.Wall(epoch, _zone);
}
