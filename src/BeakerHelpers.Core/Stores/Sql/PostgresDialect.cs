using System.Data.Common;
using System.Net.Sockets;
using Npgsql;

namespace BeakerHelpers.Core.Stores.Sql;

/// <summary>
/// PostgreSQL's side of an ext:database or ext:sqla table (docs/storage.md#tables): accessed/created are
/// 'timestamp without time zone' (the app server's wall clock), data is bytea.
/// </summary>
public sealed class PostgresDialect : SqlDialect
{
    private PostgresDialect(NpgsqlConnection connection, string description, string qualifiedTable)
        : base(connection, description, qualifiedTable)
    {
    }

    /// <summary>
    /// Connects to the server a SQLAlchemy postgresql:// URL names (postgres://, +psycopg2, +psycopg, +pg8000,
    /// +asyncpg), mapping the libpq query options psycopg passes on. <paramref name="urlSource"/> names the
    /// setting the URL came from, so that messages can say where a password came from without showing it.
    /// </summary>
    public static SqlSessionStore Open(SqlAlchemyUrl url, string urlSource, string table, string? schema, bool writable, Action<string>? notes)
    {
        var builder = ConnectionFor(url, notes);
        return Open(builder, Where(builder), PasswordNote(builder.Password, urlSource), table, schema, writable);
    }

    /// <summary>The Npgsql settings for a URL; options Npgsql has no use for are reported to <paramref name="notes"/>.</summary>
    public static NpgsqlConnectionStringBuilder ConnectionFor(SqlAlchemyUrl url, Action<string>? notes)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = url.Host,
            Port = url.Port ?? 5432,
            Database = string.IsNullOrEmpty(url.Database) ? null : Uri.UnescapeDataString(url.Database),
            Username = url.Username,
            Password = url.Password,
            ApplicationName = "BeakerHelpers",
            Pooling = false,
            CommandTimeout = 0,
        };
        foreach (var (key, value) in url.Query)
        {
            switch (key)
            {
                case "host": builder.Host = value; break;
                case "port" when int.TryParse(value, out var port): builder.Port = port; break;
                case "dbname": builder.Database = value; break;
                case "user": builder.Username = value; break;
                case "password": builder.Password = value; break;
                case "sslmode": builder.SslMode = SslModeFor(value); break;
                case "sslrootcert": builder.RootCertificate = value; break;
                case "sslcert": builder.SslCertificate = value; break;
                case "sslkey": builder.SslKey = value; break;
                case "connect_timeout" when int.TryParse(value, out var seconds): builder.Timeout = Math.Max(seconds, 1); break;
                case "application_name": builder.ApplicationName = value; break;
                case "options": builder.Options = value; break;
                case "client_encoding": builder.Encoding = value; break;
                case "target_session_attrs": builder.TargetSessionAttributes = value; break;
                default: notes?.Invoke($"Ignoring the PostgreSQL URL option '{key}', which has no meaning for reading sessions here."); break;
            }
        }

        if (string.IsNullOrEmpty(builder.Host))
        {
            // libpq (and so psycopg) connects through the local socket when no host is given.
            builder.Host = Directory.Exists("/var/run/postgresql") ? "/var/run/postgresql" : "localhost";
            notes?.Invoke($"The URL names no host; connecting to {builder.Host} as libpq would.");
        }

        return builder;
    }

    /// <summary>Names the server, database and user for messages; never the password.</summary>
    public static string Where(NpgsqlConnectionStringBuilder builder)
    {
        var host = builder.Host!.Contains(':') && !builder.Host.StartsWith('/') ? $"[{builder.Host}]" : builder.Host;
        var user = builder.Username == null ? string.Empty : $" as '{builder.Username}'";
        return $"'{host}:{builder.Port}/{builder.Database}'{user}";
    }

    private static SslMode SslModeFor(string value) => value.ToLowerInvariant() switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new BeakerException("UrlInvalid", BeakerErrorKind.InvalidArgument,
            $"The PostgreSQL URL option sslmode='{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full."),
    };

    /// <summary>
    /// Connects and checks the table. <paramref name="where"/> names the server safely (no password) for messages.
    /// Read-only unless <paramref name="writable"/>: the server itself refuses writes on that connection.
    /// </summary>
    public static SqlSessionStore Open(NpgsqlConnectionStringBuilder builder, string where, string passwordNote, string table, string? schema, bool writable)
    {
        if (!writable)
        {
            builder.Options = ((builder.Options ?? string.Empty) + " -c default_transaction_read_only=on").Trim();
        }

        var connection = new NpgsqlConnection(builder.ConnectionString);
        return OpenServer(connection, where, passwordNote, ex => ex is NpgsqlException or SocketException or TimeoutException, Reason, () =>
        {
            var description = $"postgresql {where} table {(schema == null ? string.Empty : schema + ".")}{table}";
            var dialect = new PostgresDialect(connection, description, Qualify(new NpgsqlCommandBuilder(), table, schema));
            var columns = dialect.Columns(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = coalesce(@schema, current_schema()) AND table_name = @table",
                ("@schema", (object?)schema ?? DBNull.Value), ("@table", table));
            if (columns.Count == 0 && schema != null && dialect.Scalar("SELECT count(*) FROM information_schema.schemata WHERE schema_name = @schema", ("@schema", schema)) is 0L)
            {
                throw new BeakerException("TableNotFound", BeakerErrorKind.NotFound,
                    $"{where} has no schema '{schema}' (looking for table '{table}' in it). Check <prefix>.schema_name or -SchemaName.");
            }

            dialect.CheckColumns(columns, schema == null ? $"'{table}'" : $"'{schema}.{table}'", where);
            return dialect;
        });
    }

    internal override object CutoffValue(DateTime cutoff) => DateTime.SpecifyKind(cutoff, DateTimeKind.Unspecified);

    internal override bool DeleteLocksOnlyDeletedRows => true;

    internal override DbTransaction BeginRead()
    {
        var transaction = Connection.BeginTransaction(System.Data.IsolationLevel.RepeatableRead);
        using var readOnly = Command(transaction, "SET TRANSACTION READ ONLY");
        readOnly.ExecuteNonQuery();
        return transaction;
    }

    internal override string PayloadHeadHolds(string hexBytes) => $"position('\\x{hexBytes}'::bytea in substring(data from 1 for 64)) > 0";

    internal override string NamespaceIn(DbCommand command, IReadOnlyList<string> ids)
    {
        Add(command, "@ids", ids.ToArray());
        return "namespace = ANY(@ids)";
    }

    internal override string? Explain(DbException exception) => Reason(exception);

    internal override string? LastingFailure(DbException exception) => (exception as Npgsql.PostgresException)?.SqlState switch
    {
        "42501" => "the database user may delete from the table (GRANT DELETE)",
        "53100" => "the database server's disk has free space",
        "25006" => "the server accepts writes (it is a read-only standby or in read-only mode)",
        _ => null,
    };

    /// <summary>The server's own words (PostgresException.MessageText), or the network's; never the connection string.</summary>
    private static string Reason(Exception exception) => exception switch
    {
        PostgresException postgres => $"{postgres.MessageText} (SQLSTATE {postgres.SqlState})",
        NpgsqlException { InnerException: { } inner } when inner is SocketException or TimeoutException or IOException => inner.Message,
        _ => exception.Message,
    };
}
