using BeakerHelpers.Core.Config;

namespace BeakerHelpers.Core.Stores;

/// <summary>Chooses and opens the store that <see cref="SessionSettings"/> describe.</summary>
public static class SessionStoreFactory
{
    public const string SupportedDialects = "sqlite, postgresql (postgres), mysql, mariadb";

    private static readonly string[] DatabaseTypes = { "ext:database", "ext:sqla" };

    /// <summary>
    /// Opens the store, read-only unless <paramref name="writable"/> (for removal). <paramref name="notes"/>
    /// receives remarks for verbose output (ignored options and such).
    /// </summary>
    public static ISessionStore Open(SessionSettings settings, Action<string>? notes = null, bool writable = false)
    {
        var type = settings.Type;
        if (type != null && !DatabaseTypes.Contains(type, StringComparer.OrdinalIgnoreCase))
        {
            throw new BeakerException("StoreTypeNotSupported", BeakerErrorKind.NotImplemented,
                $"{settings.Prefix}.type is '{type}' in {settings.Source}. BeakerHelpers reads sessions of type ext:database and ext:sqla.");
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
                return SqliteStore(url, settings, notes, writable);
            case "postgresql" or "postgres":
                return PostgresSessionStore.Open(url, settings.UrlSource, settings.TableName, settings.SchemaName, writable, notes);
            case "mysql" or "mariadb":
                return MySqlSessionStore.Open(url, settings.UrlSource, settings.TableName, settings.SchemaName, writable, notes);
            default:
                throw new BeakerException("DialectNotSupported", BeakerErrorKind.NotImplemented,
                    $"{settings.UrlSource} uses the database dialect '{url.Dialect}', which BeakerHelpers does not read. Supported: {SupportedDialects}.");
        }
    }

    private static ISessionStore SqliteStore(SqlAlchemyUrl url, SessionSettings settings, Action<string>? notes, bool writable)
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
        return SqliteSessionStore.Open(path, settings.TableName, settings.SchemaName, writable);
    }
}
