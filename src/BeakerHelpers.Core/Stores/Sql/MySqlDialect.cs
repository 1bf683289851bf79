using System.Data.Common;
using MySqlConnector;

namespace BeakerHelpers.Core.Stores.Sql;

/// <summary>
/// MySQL's and MariaDB's side of an ext:database or ext:sqla table (docs/storage.md#tables): accessed/created are DATETIME without
/// fractions (the app server's wall clock, rounded or truncated to the second), data is a BLOB of at most 64 KiB.
/// </summary>
public sealed class MySqlDialect : SqlDialect
{
    private MySqlDialect(MySqlConnection connection, string description, string qualifiedTable)
        : base(connection, description, qualifiedTable)
    {
    }

    /// <summary>
    /// Connects to the server a SQLAlchemy mysql:// or mariadb:// URL names (+pymysql, +mysqldb,
    /// +mysqlconnector, ...), mapping the driver options that matter. <paramref name="urlSource"/> names the
    /// setting the URL came from, so that messages can say where a password came from without showing it.
    /// </summary>
    public static SqlSessionStore Open(SqlAlchemyUrl url, string urlSource, string table, string? schema, bool writable, Action<string>? notes)
    {
        var builder = ConnectionFor(url, notes);
        return Open(builder, Where(builder), PasswordNote(builder.Password, urlSource), table, schema, writable);
    }

    /// <summary>The MySqlConnector settings for a URL; options it has no use for are reported to <paramref name="notes"/>.</summary>
    public static MySqlConnectionStringBuilder ConnectionFor(SqlAlchemyUrl url, Action<string>? notes)
    {
        var builder = new MySqlConnectionStringBuilder
        {
            Server = url.Host ?? "localhost",
            Port = (uint)(url.Port ?? 3306),
            Database = string.IsNullOrEmpty(url.Database) ? string.Empty : Uri.UnescapeDataString(url.Database),
            UserID = url.Username ?? string.Empty,
            Password = url.Password ?? string.Empty,
            Pooling = false,
            DefaultCommandTimeout = 0,
            ConvertZeroDateTime = true,
            ApplicationName = "BeakerHelpers",
        };
        foreach (var (key, value) in url.Query)
        {
            switch (key)
            {
                case "charset": builder.CharacterSet = value; break;
                case "connect_timeout" when uint.TryParse(value, out var seconds): builder.ConnectionTimeout = Math.Max(seconds, 1); break;
                case "unix_socket":
                    builder.Server = value;
                    builder.ConnectionProtocol = MySqlConnectionProtocol.UnixSocket;
                    break;
                case "ssl_ca": builder.SslCa = value; break;
                case "ssl_cert": builder.SslCert = value; break;
                case "ssl_key": builder.SslKey = value; break;
                case "ssl_mode": builder.SslMode = SslModeFor(value); break;
                case "ssl_disabled" when value.Equals("true", StringComparison.OrdinalIgnoreCase): builder.SslMode = MySqlSslMode.None; break;
                case "port" when uint.TryParse(value, out var port): builder.Port = port; break;
                default: notes?.Invoke($"Ignoring the MySQL URL option '{key}', which has no meaning for reading sessions here."); break;
            }
        }

        return builder;
    }

    /// <summary>Names the server, database and user for messages; never the password.</summary>
    public static string Where(MySqlConnectionStringBuilder builder)
    {
        var server = builder.ConnectionProtocol == MySqlConnectionProtocol.UnixSocket
            ? builder.Server
            : (builder.Server.Contains(':') ? $"[{builder.Server}]" : builder.Server) + ":" + builder.Port;
        var user = string.IsNullOrEmpty(builder.UserID) ? string.Empty : $" as '{builder.UserID}'";
        return $"'{server}/{builder.Database}'{user}";
    }

    private static MySqlSslMode SslModeFor(string value) => value.ToUpperInvariant().Replace('-', '_') switch
    {
        "DISABLED" => MySqlSslMode.None,
        "PREFERRED" => MySqlSslMode.Preferred,
        "REQUIRED" => MySqlSslMode.Required,
        "VERIFY_CA" => MySqlSslMode.VerifyCA,
        "VERIFY_IDENTITY" => MySqlSslMode.VerifyFull,
        _ => throw new BeakerException("UrlInvalid", BeakerErrorKind.InvalidArgument,
            $"The MySQL URL option ssl_mode='{value}' is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY."),
    };

    /// <summary>
    /// Connects and checks the table. <paramref name="where"/> names the server safely (no password) for messages.
    /// Read-only unless <paramref name="writable"/>: the session refuses writes.
    /// </summary>
    public static SqlSessionStore Open(MySqlConnectionStringBuilder builder, string where, string passwordNote, string table, string? schema, bool writable)
    {
        var connection = new MySqlConnection(builder.ConnectionString);
        return OpenServer(connection, where, passwordNote, ex => ex is MySqlException, Reason, () =>
        {
            var description = $"mysql {where} table {(schema == null ? string.Empty : schema + ".")}{table}";
            var dialect = new MySqlDialect(connection, description, Qualify(new MySqlCommandBuilder(), table, schema))
            {
                // The server reads a table larger than its buffer pool from disk: two parts read at once keep two
                // reads in flight (1 M sessions: the scan alone 3.1 s, its two halves at once 2.1-2.2 s; docs/listing-order.md#parts).
                OpenSecondReader = () => Open(builder, where, passwordNote, table, schema, writable: false),
                TableName = table,
                SchemaName = schema,
            };
            if (!writable)
            {
                dialect.Scalar("SET SESSION TRANSACTION READ ONLY");
            }

            var columns = dialect.Columns(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = coalesce(@schema, DATABASE()) AND table_name = @table",
                ("@schema", (object?)schema ?? DBNull.Value), ("@table", table));
            if (columns.Count == 0 && dialect.Scalar("SELECT coalesce(@schema, DATABASE())", ("@schema", (object?)schema ?? DBNull.Value)) is null or DBNull)
            {
                throw new BeakerException("TableNotFound", BeakerErrorKind.NotFound,
                    $"{where} names no database, so table '{table}' cannot be found. Add the database to the URL: mysql://user:password@host/dbname.");
            }

            dialect.CheckColumns(columns, schema == null ? $"'{table}'" : $"'{schema}.{table}'", where);
            return dialect;
        });
    }

    /// <summary>
    /// DATETIME keeps whole seconds, so a stored time is up to one second off the real one (MySQL rounds,
    /// MariaDB truncates). Comparing with the cutoff's whole second below never takes a live session for an old one.
    /// </summary>
    internal override object CutoffValue(DateTime cutoff) => new DateTime(cutoff.Ticks - (cutoff.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Unspecified);

    /// <summary>
    /// MariaDB sorts rows with a blob by their keys and then reads each row again in that order, through a buffer pool
    /// most sites leave at 128 MB: 15-56 s for 1 M sessions that a scan reads in 5 s (docs/listing-order.md).
    /// </summary>
    internal override bool SortsListing => true;

    private string TableName { get; init; } = string.Empty;

    private string? SchemaName { get; init; }

    /// <summary>The server's estimate of the table's size (InnoDB's data_length, from its statistics: no scan).</summary>
    internal override long? TableBytes() =>
        Scalar("SELECT data_length FROM information_schema.tables WHERE table_schema = coalesce(@schema, DATABASE()) AND table_name = @table",
            ("@schema", (object?)SchemaName ?? DBNull.Value), ("@table", TableName)) is { } bytes and not DBNull ? Convert.ToInt64(bytes, System.Globalization.CultureInfo.InvariantCulture) : null;

    internal override DbTransaction BeginRead() => ((MySqlConnection)Connection).BeginTransaction(System.Data.IsolationLevel.RepeatableRead, isReadOnly: true);

    internal override string PayloadHeadHolds(string hexBytes) => $"LOCATE(X'{hexBytes}', LEFT(data, 64)) > 0";

    internal override string NamespaceIn(DbCommand command, IReadOnlyList<string> ids)
    {
        var names = new string[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            names[i] = "@id" + i;
            Add(command, names[i], ids[i]);
        }

        return $"namespace IN ({string.Join(",", names)})";
    }

    internal override string? Explain(DbException exception) => Reason(exception);

    internal override string? LastingFailure(DbException exception) => (exception as MySqlConnector.MySqlException)?.Number switch
    {
        1142 => "the database user may delete from the table (GRANT DELETE)",
        1290 or 1836 => "the server accepts writes (it runs read-only)",
        _ => null,
    };

    /// <summary>The server's words, or, when MySqlConnector only says it could not connect, the network's reason.</summary>
    private static string Reason(Exception exception)
    {
        for (var inner = exception.InnerException; inner != null; inner = inner.InnerException)
        {
            if (inner is System.Net.Sockets.SocketException or IOException or TimeoutException)
            {
                return $"{exception.Message} ({inner.Message})";
            }
        }

        return exception is MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost }
            ? exception.Message + " No MySQL server accepted a connection there: check that it runs, and the host and port in the URL."
            : exception.Message;
    }
}
