using BeakerHelpers.Core.Time;

namespace BeakerHelpers.Core.Config;

/// <summary>
/// The Beaker session settings of one app (docs/storage.md#settings), read under a prefix such as 'beaker.session'.
/// Secrets (encrypt_key, validate_key, a URL password) are kept but never shown by <see cref="ToString"/>.
/// </summary>
public sealed record SessionSettings
{
    public const string DefaultPrefix = "beaker.session";
    public const string DefaultTableName = "beaker_cache";

    public string Prefix { get; init; } = DefaultPrefix;

    /// <summary>Where the settings came from, for messages: 'prod.ini [app:main]'.</summary>
    public required string Source { get; init; }

    public string? Type { get; init; }

    public string? Url { get; init; }

    /// <summary>The setting name the URL came from ('beaker.session.url' or '.sa.url'), for messages.</summary>
    public string UrlSource { get; init; } = "-Url";

    public string TableName { get; init; } = DefaultTableName;

    public string? SchemaName { get; init; }

    /// <summary>The configured timeout in seconds, or null when the app never expires sessions.</summary>
    public long? TimeoutSeconds { get; init; }

    public string DataSerializer { get; init; } = "pickle";

    public string? EncryptKey { get; init; }

    public string? ValidateKey { get; init; }

    /// <summary>encrypt_nonce_bits (Beaker 1.8+, default 128), when the ini sets it.</summary>
    public int? EncryptNonceBits { get; init; }

    /// <summary>crypto_type (Beaker 1.9+: 'default', 'cryptography', 'nss', 'pycrypto'), when the ini sets it.</summary>
    public string? CryptoType { get; init; }

    public string? DataDir { get; init; }

    /// <summary>file_dir: where the file backend keeps sessions instead of data_dir/container_file.</summary>
    public string? FileDir { get; init; }

    /// <summary>dbm_dir: where the dbm backend keeps sessions instead of data_dir/container_dbm.</summary>
    public string? DbmDir { get; init; }

    /// <summary>lock_dir: the file and dbm backends' lock files instead of data_dir/container_*_lock.</summary>
    public string? LockDir { get; init; }

    /// <summary>The cookie's settings as the ini writes them (docs/audit.md): what the audit judges, never the stores.</summary>
    public CookieSettings Cookie { get; init; } = new();

    /// <summary>The directory relative sqlite:/// paths are resolved against (SQLAlchemy uses the process's current directory).</summary>
    public string BaseDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>Whether the settings are a bare -Url (no ini file: no timeout, no keys, no folder settings).</summary>
    public bool IsFromUrl { get; init; }

    /// <summary>
    /// The settings of a store named by a URL alone, as -Url gives it: a Redis URL (redis://, rediss://, unix://)
    /// names Beaker's ext:redis store, anything else a SQLAlchemy URL of a table.
    /// </summary>
    public static SessionSettings FromUrl(string url, string tableName, string? schemaName, string baseDirectory) => new()
    {
        Source = "-Url",
        IsFromUrl = true,
        Type = url.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase)
            || url.StartsWith("unix://", StringComparison.OrdinalIgnoreCase) ? "ext:redis"
            : url.StartsWith("memcached://", StringComparison.OrdinalIgnoreCase) ? "ext:memcached" : "ext:database",
        Url = url,
        UrlSource = "-Url",
        TableName = tableName,
        SchemaName = schemaName,
        BaseDirectory = baseDirectory,
    };

    /// <summary>Reads the settings under <paramref name="prefix"/> from an app's configuration.</summary>
    public static SessionSettings FromConfig(AppConfig config, string prefix, string baseDirectory)
    {
        prefix = NormalizePrefix(prefix);
        var source = $"'{config.FilePath}' [{config.Section}]";

        string? Setting(string name) => config.TryGet(prefix + "." + name, out var value) ? value : null;

        string? url = Setting("url");
        var urlSource = prefix + ".url";
        if (string.IsNullOrWhiteSpace(url))
        {
            var saUrl = Setting("sa.url");
            if (!string.IsNullOrWhiteSpace(saUrl))
            {
                url = saUrl;
                urlSource = prefix + ".sa.url";
            }
            else if (Setting("urls") is { } urls && !string.IsNullOrWhiteSpace(urls))
            {
                // ext:rediscluster names its nodes in urls (docs/redis.md).
                url = urls;
                urlSource = prefix + ".urls";
            }
        }

        var table = Setting("table_name");
        long? timeout = null;
        var timeoutText = Setting("timeout");
        if (timeoutText != null)
        {
            timeout = TimeoutParser.ParseConfigSeconds(timeoutText, $"{prefix}.timeout in {source}");
        }

        int? nonceBits = null;
        if (Blank(Setting("encrypt_nonce_bits")) is { } bitsText)
        {
            if (!int.TryParse(bitsText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bits) || bits == 0 || bits % 8 != 0)
            {
                throw new BeakerException("ConfigInvalid", BeakerErrorKind.InvalidArgument,
                    $"{prefix}.encrypt_nonce_bits in {source} is '{bitsText}'; Beaker takes a multiple of 8 (128 by default, 48 for old sessions).");
            }

            nonceBits = bits;
        }

        return new SessionSettings
        {
            Prefix = prefix,
            Source = source,
            Type = Blank(Setting("type")),
            Url = Blank(url),
            UrlSource = urlSource,
            TableName = Blank(table) ?? DefaultTableName,
            SchemaName = Blank(Setting("schema_name")),
            TimeoutSeconds = timeout,
            DataSerializer = Blank(Setting("data_serializer")) ?? "pickle",
            EncryptKey = Blank(Setting("encrypt_key")),
            ValidateKey = Blank(Setting("validate_key")),
            EncryptNonceBits = nonceBits,
            CryptoType = Blank(Setting("crypto_type")),
            DataDir = Blank(Setting("data_dir")),
            FileDir = Blank(Setting("file_dir")),
            DbmDir = Blank(Setting("dbm_dir")),
            LockDir = Blank(Setting("lock_dir")),
            BaseDirectory = baseDirectory,
            Cookie = new CookieSettings
            {
                Name = Blank(Setting("key")),
                Secret = Blank(Setting("secret")),
                HttpOnly = Blank(Setting("httponly")),
                Secure = Blank(Setting("secure")),
                SameSite = Blank(Setting("samesite")),
                Expires = Blank(Setting("cookie_expires")),
                SaveAccessedTime = Blank(Setting("save_accessed_time")),
            },
        };
    }

    /// <summary>Where <see cref="EncryptKey"/> and <see cref="ValidateKey"/> came from, for messages: the ini or the command line.</summary>
    public string KeySource => _keysGiven ? "-EncryptKey/-ValidateKey" : Source;

    private bool _keysGiven;

    /// <summary>
    /// These settings with keys given on the command line, which win over the ini's (each on its own), so that every
    /// reader of the store (the listing, a Redis store's ages, the app clock's check) uses the same keys.
    /// </summary>
    public SessionSettings WithKeys(string? encryptKey, string? validateKey, string? secret = null) =>
        encryptKey == null && validateKey == null && secret == null
            ? this
            : this with
            {
                EncryptKey = encryptKey ?? EncryptKey,
                ValidateKey = validateKey ?? ValidateKey,
                Cookie = secret == null ? Cookie : Cookie with { Secret = secret },
                _keysGiven = _keysGiven || encryptKey != null || validateKey != null,
            };

    /// <summary>The payload decoder for these settings: their prefix and keys.</summary>
    public Payload.SessionPayloadDecoder Decoder() => new(Prefix, Keys());

    /// <summary>
    /// The keys to read encrypted sessions with (the command line's over the ini's, <see cref="WithKeys"/>); null when
    /// there is no encrypt_key. Beaker needs both keys.
    /// </summary>
    public Payload.SessionKeys? Keys()
    {
        var encrypt = EncryptKey;
        var validate = ValidateKey;
        if (encrypt == null && (validate == null || string.Equals(Type, "cookie", StringComparison.OrdinalIgnoreCase)))
        {
            // A cookie session signs with validate_key alone; without encrypt_key it is not encrypted (docs/cookies.md).
            return null;
        }

        if (encrypt == null || validate == null)
        {
            var missing = encrypt == null ? "encrypt_key" : "validate_key";
            throw new BeakerException("KeyMissing", BeakerErrorKind.InvalidArgument,
                $"Encrypted sessions need both keys, and {Prefix}.{missing} is not set in {Source} nor given as -{(encrypt == null ? "EncryptKey" : "ValidateKey")}. Beaker derives the cipher key from encrypt_key and validate_key together.");
        }

        return new Payload.SessionKeys(encrypt, validate, EncryptNonceBits, CryptoType);
    }

    /// <summary>True when the app section has no setting at all under the prefix (a likely wrong -Prefix).</summary>
    public static bool HasAnySetting(AppConfig config, string prefix)
    {
        prefix = NormalizePrefix(prefix) + ".";
        return config.Local.Keys.Concat(config.Global.Keys).Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>The Beaker options whose keys tell a settings prefix apart from the app's other settings.</summary>
    private static readonly string[] PrefixMarkers =
    {
        "type", "url", "sa.url", "data_dir", "file_dir", "dbm_dir", "lock_dir", "table_name", "timeout", "key",
        "secret", "encrypt_key", "validate_key", "cookie_expires", "httponly", "secure",
    };

    /// <summary>
    /// The prefixes under which this app section holds Beaker options ('beaker.session' for beaker.session.type and
    /// the like), most used first, for argument completion.
    /// </summary>
    public static IEnumerable<string> PrefixesIn(AppConfig config) =>
        config.Global.Keys.Concat(config.Local.Keys)
            .Select(key => (Key: key, Dot: key.LastIndexOf('.')))
            .Where(k => k.Dot > 0 && PrefixMarkers.Contains(k.Key[(k.Dot + 1)..], StringComparer.OrdinalIgnoreCase))
            .GroupBy(k => k.Key[..k.Dot].EndsWith(".sa", StringComparison.OrdinalIgnoreCase) ? k.Key[..(k.Dot - 3)] : k.Key[..k.Dot], StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .Select(g => g.Key);

    public static string NormalizePrefix(string prefix) => prefix.Trim().TrimEnd('.');

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    public override string ToString() => $"{Source} prefix '{Prefix}'";
}

/// <summary>
/// The session cookie's settings under the prefix, as written (Beaker coerces them when the app starts: docs/audit.md).
/// <see cref="Secret"/> signs the cookie; it is a secret like the keys and is never shown.
/// </summary>
public sealed record CookieSettings
{
    /// <summary>The cookie's name (key); Beaker's default is beaker.session.id.</summary>
    public string? Name { get; init; }

    public string? Secret { get; init; }

    public string? HttpOnly { get; init; }

    public string? Secure { get; init; }

    public string? SameSite { get; init; }

    /// <summary>cookie_expires: true (a browser-session cookie), false (never), or seconds.</summary>
    public string? Expires { get; init; }

    public string? SaveAccessedTime { get; init; }

    public override string ToString() => $"cookie '{Name ?? "beaker.session.id"}'";
}
