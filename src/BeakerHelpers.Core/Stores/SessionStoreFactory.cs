using BeakerHelpers.Core.Stores.Memcached;
using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Stores.Files;
using BeakerHelpers.Core.Stores.Sql;
using BeakerHelpers.Core.Stores.Redis;

namespace BeakerHelpers.Core.Stores;

/// <summary>
/// How a store is opened: read-only unless <see cref="Writable"/> (for removal). <see cref="Notes"/> receives remarks for
/// verbose output (ignored options and such). File stores turn modification times into wall-clock times of
/// <see cref="Zone"/> (the app server's, local by default) and report per-file trouble to <see cref="Problems"/>. A
/// SQLite file locked by another process is waited for while <see cref="LockWaits"/> hears it, until Ctrl+C
/// (<see cref="CancellationToken"/>) or 30 s; a removal's waits for its write lock are said there too.
/// </summary>
public sealed record StoreOptions(
    Action<string>? Notes = null,
    bool Writable = false,
    TimeZoneInfo? Zone = null,
    Action<StoreProblem>? Problems = null,
    Action<string>? LockWaits = null,
    CancellationToken CancellationToken = default);

/// <summary>Chooses and opens the store that <see cref="SessionSettings"/> describe.</summary>
public static class SessionStoreFactory
{
    public const string SupportedDialects = "sqlite, postgresql (postgres), mysql, mariadb";

    private static readonly string[] DatabaseTypes = { "ext:database", "ext:sqla" };
    private static readonly string[] FolderTypes = { "file", "dbm" };
    private static readonly string[] RedisTypes = { "ext:redis", "ext:rediscluster" };

    /// <summary>Opens the store the settings describe, as <paramref name="options"/> say (read-only by default).</summary>
    public static ISessionStore Open(SessionSettings settings, StoreOptions? options = null)
    {
        var (notes, writable, zone, problems, lockWaits, cancellationToken) = options ?? new StoreOptions();
        var type = settings.Type;
        if (type == null && settings.DataDir != null)
        {
            // Beaker picks 'file' whenever data_dir is set and type is not (docs/storage.md#settings), whatever url says.
            notes?.Invoke($"{settings.Prefix}.type is not set and data_dir is, so Beaker keeps these sessions in files.");
            type = "file";
        }

        if (type != null && FolderTypes.Contains(type, StringComparer.OrdinalIgnoreCase))
        {
            return FolderStore(settings, type.ToLowerInvariant(), writable, zone ?? TimeZoneInfo.Local, problems, notes);
        }

        if (type != null && RedisTypes.Contains(type, StringComparer.OrdinalIgnoreCase))
        {
            return RedisStore(settings, zone ?? TimeZoneInfo.Local, problems);
        }

        if (string.Equals(type, "ext:memcached", StringComparison.OrdinalIgnoreCase))
        {
            return MemcachedStore(settings, zone ?? TimeZoneInfo.Local, notes, cancellationToken);
        }

        if (type != null && !DatabaseTypes.Contains(type, StringComparer.OrdinalIgnoreCase))
        {
            throw new BeakerException("StoreTypeNotSupported", BeakerErrorKind.NotImplemented,
                $"{settings.Prefix}.type is '{type}' in {settings.Source}. BeakerHelpers reads sessions of type ext:database, ext:sqla, file, dbm, ext:redis, ext:rediscluster and ext:memcached.");
        }

        if (settings.Url == null)
        {
            var hint = type == null
                ? $"{settings.Prefix}.type is not set either, so Beaker keeps these sessions in memory (or, with data_dir, in files)"
                : $"{settings.Prefix}.type is '{type}'";
            throw new BeakerException("SettingMissing", BeakerErrorKind.NotFound,
                $"{settings.Source} has no {settings.Prefix}.url (nor {settings.Prefix}.sa.url): {hint}. Check -Prefix, or pass -Url.");
        }

        if (type == null)
        {
            notes?.Invoke($"{settings.Prefix}.type is not set; reading {settings.UrlSource} as an ext:database table.");
        }

        var url = SqlAlchemyUrl.Parse(settings.Url, settings.UrlSource);
        switch (url.Dialect)
        {
            case "sqlite":
                return SqliteStore(url, settings, notes, writable, lockWaits, cancellationToken);
            case "postgresql" or "postgres":
                return PostgresDialect.Open(url, settings.UrlSource, settings.TableName, settings.SchemaName, writable, notes);
            case "mysql" or "mariadb":
                return MySqlDialect.Open(url, settings.UrlSource, settings.TableName, settings.SchemaName, writable, notes);
            default:
                throw new BeakerException("DialectNotSupported", BeakerErrorKind.NotImplemented,
                    $"{settings.UrlSource} uses the database dialect '{url.Dialect}', which BeakerHelpers does not read. Supported: {SupportedDialects}.");
        }
    }

    /// <summary>
    /// The file or dbm tree, found as Beaker finds it (container.py): &lt;type&gt;_dir, else data_dir/container_&lt;type&gt;;
    /// locks in lock_dir, else data_dir/container_&lt;type&gt;_lock. Relative folders are taken from the current location.
    /// </summary>
    private static ISessionStore FolderStore(SessionSettings settings, string type, bool writable, TimeZoneInfo zone, Action<StoreProblem>? problems, Action<string>? notes)
    {
        string Full(string folder) => Path.GetFullPath(Path.Combine(settings.BaseDirectory, folder));
        var ownDir = type == "file" ? settings.FileDir : settings.DbmDir;
        var root = ownDir ?? (settings.DataDir is { } dataDir ? dataDir + "/container_" + type : null);
        if (root == null)
        {
            throw new BeakerException("SettingMissing", BeakerErrorKind.NotFound,
                $"{settings.Source} sets {settings.Prefix}.type = {type} but neither {settings.Prefix}.data_dir nor {settings.Prefix}.{type}_dir, which Beaker needs to know where the sessions are. Check -Prefix and the ini file.");
        }

        var lockRoot = settings.LockDir ?? (settings.DataDir is { } data ? data + "/container_" + type + "_lock" : null);
        if (lockRoot == null && writable && !OperatingSystem.IsWindows())
        {
            throw new BeakerException("SettingMissing", BeakerErrorKind.NotFound,
                $"{settings.Source} sets {settings.Prefix}.{type}_dir but neither {settings.Prefix}.lock_dir nor {settings.Prefix}.data_dir, so the lock files Beaker takes cannot be found (Beaker itself refuses such settings). Set lock_dir as the app has it.");
        }

        notes?.Invoke(lockRoot == null ? "No lock folder is configured." : $"Lock files: '{Full(lockRoot)}'.");
        return type == "file"
            ? new FileSessionStore(Full(root), lockRoot == null ? null : Full(lockRoot), zone, problems)
            : new DbmSessionStore(Full(root), lockRoot == null ? null : Full(lockRoot), zone, problems);
    }

    /// <summary>
    /// ext:redis and ext:rediscluster: the URL (or a cluster's comma-separated URLs) as redis-py reads it. A session's age
    /// is its payload's _accessed_time, so the store reads it with the settings' keys (docs/redis.md).
    /// </summary>
    private static ISessionStore RedisStore(SessionSettings settings, TimeZoneInfo zone, Action<StoreProblem>? problems)
    {
        if (settings.Url == null)
        {
            throw new BeakerException("SettingMissing", BeakerErrorKind.NotFound,
                $"{settings.Source} sets {settings.Prefix}.type = {settings.Type} but no {settings.Prefix}.url (nor urls), which Beaker needs to find Redis. Check -Prefix and the ini file.");
        }

        var decoder = settings.Decoder();
        return RedisSessionStore.Open(RedisUrl.Parse(settings.Url, settings.UrlSource), settings.UrlSource, data => decoder.AccessedTimeOfValue(data), zone, problems);
    }

    /// <summary>
    /// ext:memcached: the url's servers as Beaker's client libraries read them ('host:port;host:port'). A session's age
    /// is its payload's _accessed_time, read with the settings' keys (docs/memcached.md).
    /// </summary>
    private static ISessionStore MemcachedStore(SessionSettings settings, TimeZoneInfo zone, Action<string>? notes, CancellationToken cancellationToken)
    {
        if (settings.Url == null)
        {
            throw new BeakerException("SettingMissing", BeakerErrorKind.NotFound,
                $"{settings.Source} sets {settings.Prefix}.type = {settings.Type} but no {settings.Prefix}.url, which names Beaker's memcached servers (host:port;host:port). Check -Prefix and the ini file.");
        }

        var decoder = settings.Decoder();
        return MemcachedSessionStore.Open(settings.Url, settings.UrlSource, (data, payload) => decoder.AccessedTimeOfValue(data, text: payload == StoredPayload.SessionText), zone, notes, cancellationToken);
    }

    private static ISessionStore SqliteStore(SqlAlchemyUrl url, SessionSettings settings, Action<string>? notes, bool writable, Action<string>? lockWaits, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(url.Database) || url.Database == ":memory:")
        {
            throw new BeakerException("StoreInMemory", BeakerErrorKind.InvalidArgument,
                $"{settings.UrlSource} names an in-memory SQLite database ('{url}'), which only the app's own process can see. Point it at the database file: sqlite:///path/to/sessions.db.");
        }

        foreach (var option in url.Query)
        {
            notes?.Invoke($"Ignoring the SQLite URL option '{option.Key}'.");
        }

        var path = Path.GetFullPath(Path.Combine(settings.BaseDirectory, url.Database));
        return SqliteDialect.Open(path, settings.TableName, settings.SchemaName, writable, lockWaits, cancellationToken: cancellationToken);
    }
}
