using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Stores.Sql;
using MySqlConnector;
using Npgsql;

namespace BeakerHelpers.Core.Tests;

/// <summary>SQLAlchemy URLs as people write them, mapped to the drivers' settings (docs/storage.md#settings).</summary>
public sealed class ServerUrlTests
{
    private static SqlAlchemyUrl Url(string text) => SqlAlchemyUrl.Parse(text, "beaker.session.url");

    [Theory]
    [InlineData("postgresql://app:s3cr%3At%2Fpw%40x@db.example.com:6543/web", "postgresql", null)]
    [InlineData("postgres://app:s3cr%3At%2Fpw%40x@db.example.com:6543/web", "postgres", null)]
    [InlineData("postgresql+psycopg2://app:s3cr%3At%2Fpw%40x@db.example.com:6543/web", "postgresql", "psycopg2")]
    [InlineData("postgresql+pg8000://app:s3cr%3At%2Fpw%40x@db.example.com:6543/web", "postgresql", "pg8000")]
    [InlineData("postgresql+psycopg://app:s3cr%3At%2Fpw%40x@db.example.com:6543/web", "postgresql", "psycopg")]
    public void PostgresUrlsGiveUserPasswordHostPortAndDatabase(string text, string dialect, string? driver)
    {
        var url = Url(text);
        Assert.Equal(dialect, url.Dialect);
        Assert.Equal(driver, url.Driver);
        var builder = PostgresDialect.ConnectionFor(url, null);
        Assert.Equal("app", builder.Username);
        Assert.Equal("s3cr:t/pw@x", builder.Password);
        Assert.Equal("db.example.com", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("web", builder.Database);
        Assert.DoesNotContain("s3cr", PostgresDialect.Where(builder));
        Assert.DoesNotContain("s3cr", url.ToString());
    }

    [Fact]
    public void PostgresQueryOptionsAreMappedAndUnknownOnesReported()
    {
        var notes = new List<string>();
        var builder = PostgresDialect.ConnectionFor(
            Url("postgresql://app@/web?host=/var/run/postgresql&port=5433&sslmode=require&connect_timeout=7&application_name=shop&frobnicate=1"), notes.Add);
        Assert.Equal("/var/run/postgresql", builder.Host);
        Assert.Equal(5433, builder.Port);
        Assert.Equal(SslMode.Require, builder.SslMode);
        Assert.Equal(7, builder.Timeout);
        Assert.Equal("shop", builder.ApplicationName);
        Assert.Null(builder.Password);
        Assert.Contains(notes, n => n.Contains("'frobnicate'", StringComparison.Ordinal));
    }

    [Fact]
    public void PostgresIpv6HostsInBrackets()
    {
        var builder = PostgresDialect.ConnectionFor(Url("postgresql://app:pw@[2001:db8::1]:5432/web"), null);
        Assert.Equal("2001:db8::1", builder.Host);
        Assert.Contains("[2001:db8::1]:5432/web", PostgresDialect.Where(builder));
    }

    [Fact]
    public void AnUnknownSslModeIsAnErrorNamingTheChoices()
    {
        var error = Assert.Throws<BeakerException>(() => PostgresDialect.ConnectionFor(Url("postgresql://h/web?sslmode=maybe"), null));
        Assert.Equal("UrlInvalid", error.ErrorId);
        Assert.Contains("verify-full", error.Message);
    }

    [Theory]
    [InlineData("mysql://app:s3cr%3At%2Fpw%40x@db.example.com:3307/web", "mysql", null)]
    [InlineData("mysql+pymysql://app:s3cr%3At%2Fpw%40x@db.example.com:3307/web", "mysql", "pymysql")]
    [InlineData("mysql+mysqldb://app:s3cr%3At%2Fpw%40x@db.example.com:3307/web", "mysql", "mysqldb")]
    [InlineData("mysql+mysqlconnector://app:s3cr%3At%2Fpw%40x@db.example.com:3307/web", "mysql", "mysqlconnector")]
    [InlineData("mariadb+mariadbconnector://app:s3cr%3At%2Fpw%40x@db.example.com:3307/web", "mariadb", "mariadbconnector")]
    public void MySqlUrlsGiveUserPasswordHostPortAndDatabase(string text, string dialect, string? driver)
    {
        var url = Url(text);
        Assert.Equal(dialect, url.Dialect);
        Assert.Equal(driver, url.Driver);
        var builder = MySqlDialect.ConnectionFor(url, null);
        Assert.Equal("app", builder.UserID);
        Assert.Equal("s3cr:t/pw@x", builder.Password);
        Assert.Equal("db.example.com", builder.Server);
        Assert.Equal(3307u, builder.Port);
        Assert.Equal("web", builder.Database);
        Assert.DoesNotContain("s3cr", MySqlDialect.Where(builder));
    }

    [Fact]
    public void MySqlQueryOptionsAreMappedAndUnknownOnesReported()
    {
        var notes = new List<string>();
        var builder = MySqlDialect.ConnectionFor(
            Url("mysql+pymysql://app:pw@localhost/web?charset=utf8mb4&connect_timeout=9&unix_socket=/run/mysqld/mysqld.sock&ssl_mode=REQUIRED&use_unicode=1"), notes.Add);
        Assert.Equal("utf8mb4", builder.CharacterSet);
        Assert.Equal(9u, builder.ConnectionTimeout);
        Assert.Equal("/run/mysqld/mysqld.sock", builder.Server);
        Assert.Equal(MySqlConnectionProtocol.UnixSocket, builder.ConnectionProtocol);
        Assert.Equal(MySqlSslMode.Required, builder.SslMode);
        Assert.Contains(notes, n => n.Contains("'use_unicode'", StringComparison.Ordinal));
        Assert.Equal("'/run/mysqld/mysqld.sock/web' as 'app'", MySqlDialect.Where(builder));
    }

    [Fact]
    public void MySqlDefaultsAreThoseOfTheDrivers()
    {
        var builder = MySqlDialect.ConnectionFor(Url("mysql://app@db/web"), null);
        Assert.Equal(3306u, builder.Port);
        Assert.Equal(string.Empty, builder.Password);
        var postgres = PostgresDialect.ConnectionFor(Url("postgresql://app@db/web"), null);
        Assert.Equal(5432, postgres.Port);
    }
}
