using System.Security.Cryptography;
using System.Text;
using BeakerHelpers.Core.Text;
using StackExchange.Redis;
using BeakerHelpers.Core.Time;

namespace BeakerHelpers.Core.Stores.Redis;

/// <summary>
/// Beaker's ext:redis and ext:rediscluster stores (docs/redis.md): one string key per session,
/// 'beaker_cache:&lt;id&gt;:session', holding pickle(V). There is no access-time column: a session's age is the
/// '_accessed_time' its payload holds, which <c>accessedOf</c> reads. Keys are found with SCAN, page by page (never
/// KEYS, which blocks the server), values fetched in pipelined batches; other keys are never touched.
/// </summary>
public sealed partial class RedisSessionStore : ISessionStore
{
    private const string KeyPrefix = "beaker_cache:";

    /// <summary>Keys and values handled per round trip: a SCAN page, a pipelined batch of GETs or deletes.</summary>
    public const int Page = 1000;

    /// <summary>
    /// Deletes a key only while it still holds the value read: a session saved meanwhile stays. A key turned into
    /// another type meanwhile answers GET with an error, which pcall keeps to itself: it stays too.
    /// </summary>
    private const string DeleteIfUnchanged = "if redis.pcall('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

    /// <summary>The suffixes of a session's key: ':session', or its SHA-1 when Beaker shortened a long key (docs/redis.md#keys).</summary>
#pragma warning disable CA5350 // Beaker's own key scheme (docs/redis.md#keys): not a security use.
    private static readonly string[] Suffixes = { ":session", ":" + Convert.ToHexString(SHA1.HashData("session"u8)).ToLowerInvariant() };
#pragma warning restore CA5350

    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _database;
    private readonly int _databaseIndex;
    private readonly Func<byte[], double?> _accessedOf;
    private readonly TimeZoneInfo _zone;
    private readonly Action<StoreProblem>? _problems;

    private RedisSessionStore(ConnectionMultiplexer redis, RedisUrl url, Func<byte[], double?> accessedOf, TimeZoneInfo zone, Action<StoreProblem>? problems)
    {
        _redis = redis;
        _databaseIndex = url.Database;
        _database = redis.GetDatabase(url.Database);
        _accessedOf = accessedOf;
        _zone = zone;
        _problems = problems;
        Description = $"redis '{url}'";
    }

    public string Description { get; }

    /// <summary>
    /// Connects (a failure names the server and where the password came from, never the password).
    /// <paramref name="accessedOf"/> gives a payload's _accessed_time (UNIX seconds), or null when it cannot be read.
    /// </summary>
    public static RedisSessionStore Open(RedisUrl url, string urlSource, Func<byte[], double?> accessedOf, TimeZoneInfo zone, Action<StoreProblem>? problems)
    {
        var options = new ConfigurationOptions
        {
            User = url.User,
            Password = url.Password,
            DefaultDatabase = url.Database,
            Ssl = url.Tls,
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            ConnectTimeout = 5000,
            SyncTimeout = 30000,
            ClientName = "BeakerHelpers",
        };
        foreach (var endPoint in url.EndPoints)
        {
            options.EndPoints.Add(endPoint);
        }

        ConnectionMultiplexer redis;
        try
        {
            redis = ConnectionMultiplexer.Connect(options);
        }
        catch (RedisConnectionException ex)
        {
            var note = string.IsNullOrEmpty(url.Password) ? " (no password given)" : $" (password from {urlSource})";
            var reason = ex.FailureType switch
            {
                ConnectionFailureType.AuthenticationFailure => "the server refused the user name or password",
                ConnectionFailureType.UnableToConnect or ConnectionFailureType.SocketFailure or ConnectionFailureType.UnableToResolvePhysicalConnection
                    => "nothing answered there (connection refused, or no Redis at that address and port)",
                _ => ex.FailureType.ToString(),
            };
            throw new BeakerException("StoreConnectFailed", BeakerErrorKind.ConnectionError, $"Cannot connect to redis '{url}'{note}: {reason}. Check {urlSource}.", ex);
        }

        try
        {
            // PING is answered without selecting the database; a key lookup is not.
            redis.GetDatabase(url.Database).KeyExists(KeyPrefix);
        }
        catch (Exception ex) when (ex is RedisException or RedisCommandException)
        {
            redis.Dispose();
            throw new BeakerException("StoreOpenFailed", BeakerErrorKind.NotFound,
                $"redis '{url}' has no database {url.Database} ({ex.Message.Split('\n')[0].TrimEnd('.')}). Check the /db part of {urlSource}.", ex);
        }

        return new RedisSessionStore(redis, url, accessedOf, zone, problems);
    }

    public bool TimesAreLocal => false;

    public bool SessionsExpire => true;

    public IEnumerable<StoredSession> ReadSessions(DateTime? accessedSince, CancellationToken cancellationToken)
    {
        // Oldest first, as the SQL stores list: the keys and times first (ids and times only in memory), then the
        // values again in that order. Sessions whose time cannot be read (encrypted without the keys) come first.
        var since = accessedSince is { } wall ? Epoch(wall) : double.NegativeInfinity;
        var dated = new List<(RedisKey Key, double Accessed)>();
        foreach (var page in Pages(cancellationToken))
        {
            foreach (var (key, value) in page)
            {
                var accessed = _accessedOf(value) ?? double.NaN;
                if (double.IsNaN(accessed) || accessed >= since)
                {
                    dated.Add((key, accessed));
                }
            }
        }

        dated.Sort((a, b) => double.IsNaN(a.Accessed) ? (double.IsNaN(b.Accessed) ? 0 : -1) : double.IsNaN(b.Accessed) ? 1 : a.Accessed.CompareTo(b.Accessed));
        for (var start = 0; start < dated.Count; start += Page)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = dated.GetRange(start, Math.Min(Page, dated.Count - start));
            var (values, ttls) = GetWithTtl(batch.Select(d => d.Key).ToList(), cancellationToken);
            for (var i = 0; i < batch.Count; i++)
            {
                if (values[i] is { } data)
                {
                    var accessed = double.IsNaN(batch[i].Accessed) ? default : Wall(batch[i].Accessed);
                    yield return new StoredSession(IdOf(batch[i].Key), accessed, null, data) { Payload = StoredPayload.SessionValue, ExpiresIn = ttls[i] };
                }
            }
        }
    }

    public IEnumerable<StoredSession> ReadIds(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        foreach (var chunk in ids.Chunk(Page))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var keys = chunk.Select(KeyOf).ToList();
            var (values, ttls) = GetWithTtl(keys, cancellationToken);
            for (var i = 0; i < keys.Count; i++)
            {
                if (values[i] is { } data)
                {
                    var accessed = _accessedOf(data) is { } epoch ? Wall(epoch) : default;
                    yield return new StoredSession(chunk[i], accessed, null, data) { Payload = StoredPayload.SessionValue, ExpiresIn = ttls[i] };
                }
            }
        }
    }

    public AgeCount CountAccessedBefore(DateTime cutoff, CancellationToken cancellationToken) =>
        AgeCount.Of(Pages(cancellationToken).SelectMany(page => page).Select(kv => _accessedOf(kv.Value)), Epoch(cutoff));

    public StoreStatistics Measure(StatisticsBounds bounds, CancellationToken cancellationToken)
    {
        var tally = new StoreStatisticsTally(bounds);
        long withTtl = 0;
        foreach (var page in Pages(cancellationToken))
        {
            var batch = _database.CreateBatch();
            var ttls = page.Select(kv => batch.KeyTimeToLiveAsync(kv.Key)).ToList();
            batch.Execute();
            withTtl += ttls.Count(ttl => Wait(ttl, cancellationToken) != null);
            foreach (var (_, value) in page)
            {
                if (_accessedOf(value) is { } accessed)
                {
                    tally.Add(Wall(accessed), value.Length, isSession: true);
                }
                else
                {
                    tally.AddUndated(value.Length);
                }
            }
        }

        return tally.Result(Description) with { KeysWithTtl = withTtl };
    }

    public void Dispose()
    {
        // Without waiting for replies still due: after Ctrl+C nobody wants them, and a server that stopped answering would
        // hold the command for the whole timeout.
        _redis.Close(allowCommandsToComplete: false);
        _redis.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The session keys, a SCAN page at a time on every primary, each with its value (keys gone meanwhile are skipped).</summary>
    private IEnumerable<List<(RedisKey Key, byte[] Value)>> Pages(CancellationToken cancellationToken)
    {
        _strays = default;
        foreach (var page in ServerPages(cancellationToken))
        {
            yield return page;
        }

        ReportStrays();
    }

    private IEnumerable<List<(RedisKey Key, byte[] Value)>> ServerPages(CancellationToken cancellationToken)
    {
        foreach (var server in _redis.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            var keys = new List<RedisKey>(Page);

            // SCAN through the asynchronous enumerator, so that Ctrl+C ends a wait for a server that stopped answering.
            var scan = server.KeysAsync(_databaseIndex, KeyPrefix + "*", Page).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var next = scan.MoveNextAsync();
                    var more = next.IsCompletedSuccessfully ? next.Result : Guard(() => Wait(next.AsTask(), cancellationToken, readFailure: false), null);
                    if (more && IsSessionKey(scan.Current))
                    {
                        keys.Add(scan.Current);
                    }

                    if (keys.Count == Page || (!more && keys.Count > 0))
                    {
                        var values = Get(keys, cancellationToken);
                        var page = new List<(RedisKey, byte[])>(keys.Count);
                        for (var i = 0; i < keys.Count; i++)
                        {
                            if (values[i] is { } value)
                            {
                                page.Add((keys[i], value));
                            }
                        }

                        yield return page;
                        keys.Clear();
                    }

                    if (!more)
                    {
                        break;
                    }
                }
            }
            finally
            {
                scan.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(1), CancellationToken.None);
            }
        }
    }

    /// <summary>The values of these keys in one pipelined round trip (GETs, so that keys of different cluster slots mix).</summary>
    private List<byte[]?> Get(List<RedisKey> keys, CancellationToken cancellationToken)
    {
        var batch = _database.CreateBatch();
        var gets = keys.Select(k => batch.StringGetAsync(k)).ToList();
        batch.Execute();
        return gets.Select((g, i) => ValueOf(g, keys[i], cancellationToken)).ToList();
    }

    /// <summary>The values and times to live of these keys in one pipelined round trip.</summary>
    private (List<byte[]?> Values, List<TimeSpan?> Ttls) GetWithTtl(List<RedisKey> keys, CancellationToken cancellationToken)
    {
        var batch = _database.CreateBatch();
        var gets = keys.Select(k => batch.StringGetAsync(k)).ToList();
        var ttls = keys.Select(k => batch.KeyTimeToLiveAsync(k)).ToList();
        batch.Execute();
        return (gets.Select((g, i) => ValueOf(g, keys[i], cancellationToken)).ToList(), ttls.Select(t => Wait(t, cancellationToken)).ToList());
    }

    /// <summary>Keys under the session pattern that are not strings, seen by the current walk: how many, and the first.</summary>
    private (long Count, RedisKey First) _strays;

    /// <summary>
    /// A key's value; null when it is gone, or when it is not a string (a list or hash someone else put under the session
    /// pattern): such a key is not a session, is never touched, and is counted for one warning per walk.
    /// </summary>
    private byte[]? ValueOf(Task<RedisValue> get, RedisKey key, CancellationToken cancellationToken)
    {
        try
        {
            return (byte[]?)Wait(get, cancellationToken, readFailure: false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal))
        {
            _strays = (_strays.Count + 1, _strays.Count == 0 ? key : _strays.First);
            return null;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or RedisCommandException)
        {
            throw new BeakerException("StoreReadFailed", BeakerErrorKind.ConnectionError, $"{Description}: reading the session keys failed: {ex.Message.Split('\n')[0].TrimEnd('.')}.", ex);
        }
    }

    private void ReportStrays()
    {
        if (_strays.Count > 0)
        {
            _problems?.Invoke(new StoreProblem("ForeignKeysSkipped",
                $"{_strays.Count} key(s) in {Description} match the session pattern ({KeyPrefix}<id>:session) but hold no string, so they are not " +
                $"Beaker sessions (for example '{IdText(_strays.First)}'); they were left alone.",
                Description, IsError: false));
        }

        _strays = default;
    }

    /// <summary>
    /// A reply, waited for in a way Ctrl+C ends at once (a server that stopped answering would otherwise hold the command
    /// for the 30 s timeout); a failure is StoreReadFailed unless <paramref name="readFailure"/> is false (the caller's).
    /// </summary>
    private T Wait<T>(Task<T> task, CancellationToken cancellationToken, bool readFailure = true)
    {
        try
        {
            task.Wait(cancellationToken);
            return task.GetAwaiter().GetResult();
        }
        catch (AggregateException ex) when (ex.InnerException is { } inner)
        {
            // Wait wraps the reply's own failure; GetResult, which the callers' filters expect, does not.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(inner).Throw();
            throw;
        }
        catch (Exception ex) when (readFailure && ex is RedisException or TimeoutException or RedisCommandException)
        {
            throw new BeakerException("StoreReadFailed", BeakerErrorKind.ConnectionError, $"{Description}: reading the session keys failed: {ex.Message.Split('\n')[0].TrimEnd('.')}.", ex);
        }
    }

    /// <summary>Runs one step of a removal (<paramref name="removedSoFar"/> set) or of a reading (null), naming a failure as such.</summary>
    private T Guard<T>(Func<T> action, long? removedSoFar)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or RedisCommandException)
        {
            var reason = ex.Message.Split('\n')[0].TrimEnd('.');
            throw removedSoFar is { } removed
                ? new BeakerException("RemovalFailed", BeakerErrorKind.ConnectionError,
                    $"Removing sessions from {Description} failed after {removed} session(s) were removed: {reason}. " +
                    "Each session is removed whole or not at all; run the command again to finish.", ex)
                : new BeakerException("StoreReadFailed", BeakerErrorKind.ConnectionError, $"{Description}: reading the session keys failed: {reason}.", ex);
        }
    }

    /// <summary>A key as text: its bytes as UTF-8, each byte of an invalid sequence kept as a lone surrogate (SurrogateEscape).</summary>
    private static string IdText(RedisKey key) => (byte[]?)key is { } bytes ? SurrogateEscape.Decode(bytes) : string.Empty;

    private static bool IsSessionKey(RedisKey key)
    {
        var text = IdText(key);
        return text != null && text.Length > KeyPrefix.Length && Suffixes.Any(s => text.EndsWith(s, StringComparison.Ordinal) && text.Length > KeyPrefix.Length + s.Length);
    }

    private static string IdOf(RedisKey key)
    {
        var text = IdText(key);
        var suffix = Suffixes.First(s => text.EndsWith(s, StringComparison.Ordinal));
        return text[KeyPrefix.Length..^suffix.Length];
    }

    /// <summary>The key Beaker gives a session id: ':session', or its SHA-1 when the whole key would pass 1024 characters.</summary>
    private static RedisKey KeyOf(string id) =>
        SurrogateEscape.Encode(KeyPrefix + id + ("session".Length > 1024 - id.Length - KeyPrefix.Length - 1 ? Suffixes[1] : Suffixes[0]));

    private double Epoch(DateTime wall) => AppWallClock.Epoch(wall, _zone);

    private DateTime Wall(double epoch) => AppWallClock.Wall(epoch, _zone);
}
