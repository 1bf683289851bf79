using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Time;

namespace BeakerHelpers.Core.Tests;

public sealed class ConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("beakerhelpers-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void HereFileAndInterpolationFollowPasteDeploy()
    {
        var path = Write("app.ini", "[DEFAULT]\nroot = %(here)s/data\n\n[app:main]\nurl = sqlite:///%(root)s/s.db\nfile = %(__file__)s\npct = 100%%\nmulti = first\n  second\n\n  third\nKey = upper\nkey = lower\n");
        var config = PasteDeployLoader.Load(path);
        Assert.Equal($"sqlite:///{_dir}/data/s.db", config.Local["url"]);
        Assert.Equal(path, config.Local["file"]);
        Assert.Equal("100%", config.Local["pct"]);
        Assert.Equal("first\nsecond\n\nthird", config.Local["multi"]);
        Assert.Equal("upper", config.Local["Key"]);
        Assert.Equal("lower", config.Local["key"]);
        Assert.Equal($"{_dir}/data", config.Global["root"]);
    }

    [Fact]
    public void DefaultWinsOverAPlainAppKeyButSetOverridesIt()
    {
        var path = Write("app.ini", "[DEFAULT]\nbeaker.session.timeout = 100\ndebug = true\ndb = sqlite:///x.db\n\n[app:main]\nbeaker.session.timeout = 200\nset debug = false\nget beaker.session.url = db\n");
        var config = PasteDeployLoader.Load(path);
        Assert.False(config.Local.ContainsKey("beaker.session.timeout"));
        Assert.True(config.TryGet("beaker.session.timeout", out var timeout));
        Assert.Equal("100", timeout);
        Assert.Equal("false", config.Global["debug"]);
        Assert.Equal("sqlite:///x.db", config.Local["beaker.session.url"]);
    }

    [Fact]
    public void UseConfigIncludesWithTheirOwnHereAndLocalKeysWin()
    {
        Write("sub/base.ini", "[app:main]\nbeaker.session.data_dir = %(here)s/data\nbeaker.session.url = sqlite:///%(here)s/base.db\n");
        var path = Write("app.ini", "[app:main]\nuse = config:sub/base.ini\nbeaker.session.data_dir = /srv/mine\n");
        var config = PasteDeployLoader.Load(path);
        Assert.Equal($"sqlite:///{_dir}/sub/base.db", config.Local["beaker.session.url"]);
        Assert.Equal("/srv/mine", config.Local["beaker.session.data_dir"]);
        Assert.Equal(path, config.Global["__file__"]);
    }

    [Fact]
    public void APipelineLeadsToItsLastApp()
    {
        var path = Write("app.ini", "[pipeline:main]\npipeline = egg:Paste#cgitb tm myapp\n\n[filter:tm]\nuse = egg:x\n\n[app:myapp]\nbeaker.session.url = sqlite:///p.db\n");
        var config = PasteDeployLoader.Load(path);
        Assert.Equal("app:myapp", config.Section);
        Assert.Equal("sqlite:///p.db", config.Local["beaker.session.url"]);
    }

    [Fact]
    public void ANamedAppAndBareAppSectionAreFound()
    {
        var path = Write("app.ini", "[app]\na = 1\n\n[app: admin ]\na = 2\n");
        Assert.Equal("1", PasteDeployLoader.Load(path).Local["a"]);
        Assert.Equal("2", PasteDeployLoader.Load(path, "admin").Local["a"]);
    }

    [Theory]
    [InlineData("[app:main]\na = %(missing)s\n", "ConfigInterpolationMissing")]
    [InlineData("[app:main]\na = 50%\n", "ConfigInterpolationSyntax")]
    [InlineData("[app:main]\na = %(b)s\nb = %(a)s\n", "ConfigInterpolationTooDeep")]
    [InlineData("[app:main]\na = 1\na = 2\n", "ConfigSyntax")]
    [InlineData("a = 1\n[app:main]\n", "ConfigSyntax")]
    [InlineData("[app:other]\na = 1\n", "ConfigSectionNotFound")]
    [InlineData("[app:main]\na = 1\n[application:main]\na = 2\n[pipeline:main]\npipeline = x\n", "ConfigSectionAmbiguous")]
    [InlineData("[app:main]\nget a = nothere\n", "ConfigGetMissing")]
    [InlineData("[pipeline:main]\npipeline = egg:a main\n", "ConfigIncludeLoop")]
    [InlineData("[filter-app:main]\nnext = main\n", "ConfigIncludeLoop")]
    [InlineData("[pipeline:main]\npipeline = egg:f other\n\n[pipeline:other]\npipeline = egg:g main\n", "ConfigIncludeLoop")]
    [InlineData("[DEFAULT]\na0 = xxxxxxxxxx\na1 = %(a0)s%(a0)s%(a0)s%(a0)s%(a0)s%(a0)s%(a0)s%(a0)s%(a0)s%(a0)s\na2 = %(a1)s%(a1)s%(a1)s%(a1)s%(a1)s%(a1)s%(a1)s%(a1)s%(a1)s%(a1)s\na3 = %(a2)s%(a2)s%(a2)s%(a2)s%(a2)s%(a2)s%(a2)s%(a2)s%(a2)s%(a2)s\na4 = %(a3)s%(a3)s%(a3)s%(a3)s%(a3)s%(a3)s%(a3)s%(a3)s%(a3)s%(a3)s\na5 = %(a4)s%(a4)s%(a4)s%(a4)s%(a4)s%(a4)s%(a4)s%(a4)s%(a4)s%(a4)s\n[app:main]\nx = 1\n", "ConfigInterpolationTooLong")]
    [InlineData("[DEFAULT]\na0 =\na1 = %(a0)s%(a0)s%(a0)s%(a0)s%(a0)s%(a0)s%(a0)s%(a0)s%(a0)s%(a0)s\na2 = %(a1)s%(a1)s%(a1)s%(a1)s%(a1)s%(a1)s%(a1)s%(a1)s%(a1)s%(a1)s\na3 = %(a2)s%(a2)s%(a2)s%(a2)s%(a2)s%(a2)s%(a2)s%(a2)s%(a2)s%(a2)s\na4 = %(a3)s%(a3)s%(a3)s%(a3)s%(a3)s%(a3)s%(a3)s%(a3)s%(a3)s%(a3)s\na5 = %(a4)s%(a4)s%(a4)s%(a4)s%(a4)s%(a4)s%(a4)s%(a4)s%(a4)s%(a4)s\n[app:main]\nx = 1\n", "ConfigInterpolationTooLong")]
    [InlineData("[app:main]\na = b\u0000c\n", "ConfigSyntax")]
    public void BadFilesAreRefusedWithAStableId(string text, string errorId)
    {
        var path = Write("bad.ini", text);
        var ex = Assert.Throws<BeakerException>(() => PasteDeployLoader.Load(path).Local.Select(p => p.Value).ToList());
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Contains(path, ex.Message);
    }

    [Theory]
    [InlineData("[app:main]\nbeaker.session.url = postgresql://app:s3cr%3At%2Fpw%40x@db/app\n")]
    [InlineData("[app:main]\nbeaker.session.encrypt_key = EncKey%Interp-Secret-Tail\n")]
    [InlineData("beaker.session.url = postgresql://app:Secret-Tail@db/app\n[app:main]\n")]
    [InlineData("[app:main]\nbeaker.session.url = x\n Secret-Tail-continued\nSecret-Tail no delimiter\n")]
    public void ErrorsAboutAValueNeverQuoteIt(string text)
    {
        var path = Write("secret.ini", text);
        var ex = Assert.Throws<BeakerException>(() => PasteDeployLoader.Load(path).Local.Select(p => p.Value).ToList());
        Assert.DoesNotContain("Secret-Tail", ex.Message);
        Assert.DoesNotContain("pw%40x", ex.Message);
        Assert.DoesNotContain("3At", ex.Message);
    }

    [Theory]
    [InlineData("postgresql:/user:Secret-Tail@host/db")]
    [InlineData("mysql:/user:Secret-Tail@host/db")]
    [InlineData("postgresql//user:Secret-Tail@host/db")]
    [InlineData("postgresqluserSecret-Tail@host/db")]
    [InlineData("postgresql://user:p@Secret-Tail@host/db")]
    [InlineData("postgresql://user:Secret-Tail@host:0/db")]
    [InlineData("postgresql://user:Secret-Tail@host:99999/db")]
    public void BadUrlsAreRefusedWithoutShowingTheirSecrets(string text)
    {
        var ex = Assert.Throws<BeakerException>(() => SqlAlchemyUrl.Parse(text, "-Url"));
        Assert.Equal("UrlInvalid", ex.ErrorId);
        Assert.DoesNotContain("Secret-Tail", ex.Message);
    }

    [Fact]
    public void SecretQueryOptionsAreMasked()
    {
        var url = SqlAlchemyUrl.Parse("sqlite:///s.db?password=Secret-Tail&timeout=5", "-Url");
        Assert.DoesNotContain("Secret-Tail", url.ToString());
        Assert.Contains("timeout=5", url.ToString());
    }

    [Fact]
    public void AConfigFileThatNeverEndsIsRefused()
    {
        var path = Path.Combine(_dir, "huge.ini");
        using (var file = File.Create(path))
        {
            file.SetLength(IniFile.MaxFileBytes + 1);
        }

        var ex = Assert.Throws<BeakerException>(() => IniFile.Load(path));
        Assert.Equal("ConfigFileTooLarge", ex.ErrorId);
    }

    [Theory]
    [InlineData("/dev/zero", "a character device")]
    [InlineData("/tmp", "a folder")]
    public void WhatIsNotAFileIsNeverOpened(string path, string what)
    {
        var ex = Assert.Throws<BeakerException>(() => IniFile.Load(path));
        Assert.Equal("ConfigFileNotRegular", ex.ErrorId);
        Assert.Contains(what, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANamedPipeIsRefusedAtOnceInsteadOfWaitingForAWriter()
    {
        var fifo = Path.Combine(_dir, "pipe.ini");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // On a thread of its own, so that a regression (an open that waits for a writer) fails here instead of hanging the run.
        var load = Task.Run(() => IniFile.Load(fifo));
        Assert.True(await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(20))) == load, "loading a named pipe as the ini file did not return");
        var ex = await Assert.ThrowsAsync<BeakerException>(() => load);
        Assert.Equal("ConfigFileNotRegular", ex.ErrorId);
        Assert.Contains("named pipe", ex.Message, StringComparison.Ordinal);

        var including = Write("app.ini", "[app:main]\nuse = config:pipe.ini\n");
        var included = Assert.Throws<BeakerException>(() => PasteDeployLoader.Load(including));
        Assert.Equal("ConfigFileNotRegular", included.ErrorId);
    }

    [Fact]
    public void LongContinuedValuesAreReadWhole()
    {
        // 2 MB of continuation lines: joined once (appending to the stored value each line was quadratic).
        var lines = Enumerable.Range(0, 100_000).Select(i => "  line" + i.ToString("D12", System.Globalization.CultureInfo.InvariantCulture));
        var path = Write("long.ini", "[app:main]\nbeaker.session.type = file\nbig = first\n" + string.Join("\n", lines) + "\nafter = x\n");
        var config = PasteDeployLoader.Load(path);
        var big = config.Local["big"];
        Assert.Equal(100_001, big.Split('\n').Length);
        Assert.EndsWith("line000000099999", big, StringComparison.Ordinal);
        Assert.Equal("x", config.Local["after"]);
    }

    [Fact]
    public void SettingsComeFromThePrefixWithSaUrlAsFallback()
    {
        var path = Write("app.ini", "[app:main]\nsession.type = ext:sqla\nsession.sa.url = sqlite:///a.db\nsession.table_name = t\nsession.timeout = 60\n");
        var settings = SessionSettings.FromConfig(PasteDeployLoader.Load(path), "session.", _dir);
        Assert.Equal("ext:sqla", settings.Type);
        Assert.Equal("sqlite:///a.db", settings.Url);
        Assert.Equal("session.sa.url", settings.UrlSource);
        Assert.Equal("t", settings.TableName);
        Assert.Equal(60, settings.TimeoutSeconds);
    }

    [Theory]
    [InlineData("3s", 3)]
    [InlineData("14m", 840)]
    [InlineData("36h", 129600)]
    [InlineData("2d", 172800)]
    [InlineData("3600", 3600)]
    [InlineData(" 2D ", 172800)]
    [InlineData("0", 0)]
    [InlineData("1.5d", 129600)]
    [InlineData("1d12h", 129600)]
    [InlineData("1h 30m", 5400)]
    [InlineData("1w", 604800)]
    [InlineData("02:00:00", 7200)]
    [InlineData("1.00:00:00", 86400)]
    [InlineData("P2D", 172800)]
    [InlineData("PT36H", 129600)]
    [InlineData("P1DT12H", 129600)]
    public void TimeoutsParse(string text, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), TimeoutParser.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5")]
    [InlineData("1y")]
    [InlineData("P1M")]
    [InlineData("P")]
    [InlineData("two days")]
    [InlineData("99999999999999999999d")]
    public void BadTimeoutsQuoteTheValue(string text)
    {
        var ex = Assert.Throws<BeakerException>(() => TimeoutParser.Parse(text));
        Assert.Equal("TimeoutInvalid", ex.ErrorId);
        Assert.Contains($"'{text}'", ex.Message);
    }

    [Fact]
    public void ANegativeTimeoutSaysSo()
    {
        var ex = Assert.Throws<BeakerException>(() => TimeoutParser.Parse("-5"));
        Assert.Contains("negative", ex.Message);
    }

    [Theory]
    [InlineData(129600, "36h")]
    [InlineData(172800, "48h")]
    [InlineData(604800, "7d")]
    [InlineData(90, "1m 30s")]
    [InlineData(0, "0")]
    public void AgesShowAsTyped(int seconds, string expected) => Assert.Equal(expected, TimeoutParser.Show(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData("sqlite:///relative.db", "sqlite", null, "relative.db")]
    [InlineData("sqlite:////abs/path.db", "sqlite", null, "/abs/path.db")]
    [InlineData(@"sqlite:///C:\path.db", "sqlite", null, @"C:\path.db")]
    [InlineData("postgresql+psycopg2://u:p@db:5433/app", "postgresql", "psycopg2", "app")]
    public void UrlsSplitAsSqlAlchemySplitsThem(string text, string dialect, string? driver, string database)
    {
        var url = SqlAlchemyUrl.Parse(text, "test");
        Assert.Equal(dialect, url.Dialect);
        Assert.Equal(driver, url.Driver);
        Assert.Equal(database, url.Database);
    }

    [Fact]
    public void UrlPasswordsAreDecodedButNeverShown()
    {
        var url = SqlAlchemyUrl.Parse("mysql+pymysql://bob:s3cr%3At%2Fpw%40x@[::1]:3307/sessions?charset=utf8mb4", "test");
        Assert.Equal("bob", url.Username);
        Assert.Equal("s3cr:t/pw@x", url.Password);
        Assert.Equal("::1", url.Host);
        Assert.Equal(3307, url.Port);
        Assert.Equal("utf8mb4", url.Query.Single(q => q.Key == "charset").Value);
        Assert.DoesNotContain("s3cr", url.ToString());
        Assert.DoesNotContain("s3cr", SqlAlchemyUrl.Mask("mysql://bob:s3cr%3At@host/db"));
    }
}
