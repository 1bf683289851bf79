using BeakerHelpers.Core.Config;

namespace BeakerHelpers.Core.Audit;

/// <summary>
/// The rules that judge a site's session settings alone (docs/audit.md has each rule, its reason and its source). The
/// settings are read as Beaker reads them; booleans as Beaker's asbool does.
/// </summary>
public static class SettingsAudit
{
    /// <summary>
    /// A key, secret or validate_key shorter than this is an Error: Brakeman warns on session secrets under 30
    /// characters, and an HMAC-SHA1 signature or a one-iteration PBKDF2 key can be searched offline from one cookie.
    /// </summary>
    public const int MinimumKeyLength = 30;

    /// <summary>Shorter than this is a Warning: Django's check --deploy wants 50 characters.</summary>
    public const int RecommendedKeyLength = 50;

    /// <summary>Fewer distinct characters than this is an Error, as in Django's check --deploy.</summary>
    public const int MinimumDistinctCharacters = 5;

    private static readonly string[] TrueWords = { "true", "yes", "on", "y", "t", "1" };

    /// <summary>The findings of every settings rule, in the order docs/audit.md lists the rules.</summary>
    public static IEnumerable<ConfigurationFinding> Check(SessionSettings settings)
    {
        var prefix = settings.Prefix;
        var type = StoreType(settings);
        var cookieOnly = type == "cookie";
        var serverSide = !cookieOnly && type != "memory";
        var cookie = settings.Cookie;
        ConfigurationFinding Finding(string rule, FindingSeverity severity, string setting, string message, string recommendation) =>
            new(rule, severity, setting.StartsWith('(') ? setting : $"{prefix}.{setting}", message, recommendation, settings.Source);

        if (settings.TimeoutSeconds == null)
        {
            yield return Finding("NoTimeout", FindingSeverity.Warning, "timeout",
                "No timeout: a session is valid for as long as its cookie is kept, and Beaker never removes one (it deletes no expired session on any backend).",
                $"Set {prefix}.timeout (seconds since the last request, e.g. 86400), and run Remove-BeakerSession on a schedule.");
        }

        if (serverSide && !string.Equals(settings.DataSerializer, "json", StringComparison.OrdinalIgnoreCase))
        {
            yield return Finding("PickleSerializer", FindingSeverity.Warning, "data_serializer",
                $"Sessions are stored as pickles ({(settings.DataSerializer == "pickle" ? "the default" : settings.DataSerializer)}): Beaker unpickles what it finds in the store, so whoever can write a row, a file or a key of it runs code in the app (CKAN's CVE-2023-32321 was exactly that).",
                $"Set {prefix}.data_serializer = json (sessions must then hold only JSON values), and keep the store writable by the app alone; Test-BeakerConfiguration -Scan looks for planted payloads.");
        }

        if (serverSide && cookie.Secret == null)
        {
            yield return Finding("UnsignedSessionId", FindingSeverity.Warning, "secret",
                "No secret: the session cookie is the bare id, and Beaker takes any id a visitor sends, so visitors choose their own session ids (session fixation).",
                $"Set {prefix}.secret to a long random value (at least {RecommendedKeyLength} characters).");
        }

        if (!IsTrue(cookie.HttpOnly))
        {
            yield return Finding("CookieNotHttpOnly", FindingSeverity.Warning, "httponly",
                "The session cookie is readable by JavaScript (httponly defaults to false): a script injected into a page can steal the session.",
                $"Set {prefix}.httponly = true.");
        }

        if (!IsTrue(cookie.Secure))
        {
            yield return Finding("CookieNotSecure", FindingSeverity.Warning, "secure",
                "The session cookie is also sent over plain HTTP (secure defaults to false), where anyone on the path can read it.",
                $"Set {prefix}.secure = true on a site served over HTTPS.");
        }

        if (string.Equals(cookie.SameSite, "none", StringComparison.OrdinalIgnoreCase) && !IsTrue(cookie.Secure))
        {
            yield return Finding("SameSiteNoneWithoutSecure", FindingSeverity.Error, "samesite",
                "samesite = None without secure = true: browsers reject such a cookie, so nobody keeps a session.",
                $"Set {prefix}.secure = true, or samesite = Lax (Beaker's default).");
        }

        foreach (var (name, value) in new[] { ("secret", cookie.Secret), ("validate_key", settings.ValidateKey), ("encrypt_key", settings.EncryptKey) })
        {
            if (value == null)
            {
                continue;
            }

            var distinct = value.Distinct().Count();
            if (value.Length < MinimumKeyLength || distinct < MinimumDistinctCharacters)
            {
                yield return Finding("WeakKey", FindingSeverity.Error, name,
                    $"{name} is {value.Length} characters long with {distinct} distinct ones: Beaker signs with HMAC-SHA1 and derives the cipher key with one PBKDF2 iteration, so a key this short or uniform can be searched offline from one cookie.",
                    $"Set {prefix}.{name} to a random value of at least {RecommendedKeyLength} characters (e.g. python3 -c \"import secrets; print(secrets.token_urlsafe(48))\"), then restart the app (existing sessions are then unreadable).");
            }
            else if (value.Length < RecommendedKeyLength)
            {
                yield return Finding("WeakKey", FindingSeverity.Warning, name,
                    $"{name} is {value.Length} characters long: Beaker's one-iteration key derivation adds no work to a guess, so length is the only defence.",
                    $"Use at least {RecommendedKeyLength} random characters for {prefix}.{name}.");
            }
        }

        if (cookieOnly && settings.EncryptKey == null)
        {
            yield return Finding("CookieSessionNotEncrypted", FindingSeverity.Warning, "encrypt_key",
                "type = cookie without encrypt_key: the session is signed, not secret; the browser, and anyone who sees the cookie, reads every value in it.",
                $"Set {prefix}.encrypt_key (and validate_key) to long random values, with an AES library installed.");
        }

        if (settings.EncryptKey != null && settings.ValidateKey == null)
        {
            yield return Finding("ValidateKeyMissing", FindingSeverity.Error, "validate_key",
                "encrypt_key is set without validate_key: Beaker derives the cipher key from both and fails when it saves a session.",
                $"Set {prefix}.validate_key to a long random value.");
        }
        else if (cookieOnly && settings.ValidateKey == null)
        {
            yield return Finding("ValidateKeyMissing", FindingSeverity.Error, "validate_key",
                "type = cookie without validate_key: Beaker refuses to start a cookie session it cannot sign.",
                $"Set {prefix}.validate_key to a long random value.");
        }

        if (type is "ext:memcached" or "ext:mongodb")
        {
            yield return Finding("ExpiryIgnored", FindingSeverity.Warning, "type",
                $"{type} sessions are stored without an expiry, whatever timeout says: they leave only when the server evicts them, pushing out the app's cache first.",
                "Clean them on a schedule, or keep sessions in a store Beaker writes with an expiry (ext:redis with a timeout) or one Remove-BeakerSession cleans (a table, files).");
        }

        if (settings.TimeoutSeconds is { } timeout && !IsTrue(cookie.SaveAccessedTime, whenMissing: true))
        {
            yield return Finding("AccessTimeNotSaved", FindingSeverity.Error, "save_accessed_time",
                "save_accessed_time is false with a timeout: Beaker refuses that combination (it needs each request's time to expire a session).",
                $"Remove {prefix}.save_accessed_time, or set it to true.");
        }
        else if (serverSide && !IsTrue(cookie.SaveAccessedTime, whenMissing: true))
        {
            yield return Finding("AccessTimeNotSaved", FindingSeverity.Warning, "save_accessed_time",
                "save_accessed_time is false: a session is saved only when its values change, so its stored access time says when it last changed, and a cleanup by age removes sessions still in use.",
                $"Remove {prefix}.save_accessed_time (true by default), or clean with a timeout far longer than a session lives.");
        }

        if (settings.TimeoutSeconds is { } seconds && long.TryParse(cookie.Expires, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var cookieSeconds)
            && cookieSeconds < seconds)
        {
            yield return Finding("TimeoutOutlivesCookie", FindingSeverity.Information, "cookie_expires",
                $"The cookie expires after {cookieSeconds} s but the session only after {seconds} s: a session whose cookie is gone can never be used again, yet stays in the store until the timeout.",
                $"Set {prefix}.timeout no longer than cookie_expires, and clean with Remove-BeakerSession.");
        }
    }

    /// <summary>The store type Beaker picks: type, else 'file' with data_dir, else 'memory' (docs/storage.md#settings).</summary>
    public static string StoreType(SessionSettings settings) =>
        settings.Type?.ToLowerInvariant() ?? (settings.DataDir != null ? "file" : "memory");

    /// <summary>Beaker's asbool: true, yes, on, y, t or 1 in any case.</summary>
    private static bool IsTrue(string? value, bool whenMissing = false) =>
        value == null ? whenMissing : TrueWords.Contains(value.Trim(), StringComparer.OrdinalIgnoreCase);
}
