using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Time;

namespace BeakerHelpers.Core.Tests;

/// <summary>Which age limit is in force, and what messages say of it.</summary>
public sealed class AgeLimitTests
{
    private static readonly SessionSettings WithTimeout = new() { Source = "prod.ini [app:main]", TimeoutSeconds = 3600 };
    private static readonly SessionSettings WithoutTimeout = new() { Source = "prod.ini [app:main]" };

    [Fact]
    public void TimeoutGivenWinsOverTheAppsAndZeroMeansNone()
    {
        Assert.Equal(new AgeLimit(TimeSpan.FromDays(2), "-Timeout"), AgeLimit.Resolve(TimeSpan.FromDays(2), WithTimeout));
        Assert.Equal(new AgeLimit(null, "-Timeout 0"), AgeLimit.Resolve(TimeSpan.Zero, WithTimeout));
        Assert.Equal(new AgeLimit(TimeSpan.FromHours(1), "beaker.session.timeout"), AgeLimit.Resolve(null, WithTimeout));
    }

    [Fact]
    public void WithoutEitherThereIsNoneAndTheMessageSaysWhatWasMissing()
    {
        Assert.Equal("no -Timeout and no beaker.session.timeout", AgeLimit.Resolve(null, WithoutTimeout).Source);
        var fromUrl = SessionSettings.FromUrl("sqlite:///s.db", SessionSettings.DefaultTableName, null, "/srv");
        Assert.True(fromUrl.IsFromUrl);
        Assert.Equal("ext:database", fromUrl.Type);
        Assert.Equal("ext:redis", SessionSettings.FromUrl("redis://cache:6379/0", SessionSettings.DefaultTableName, null, "/srv").Type);
        var none = AgeLimit.Resolve(null, fromUrl);
        Assert.Equal("no -Timeout", none.Source);
        Assert.Null(none.CutoffAt(TimeZoneInfo.Utc, DateTimeOffset.UtcNow));
    }

    [Fact]
    public void TheCutoffIsTheWallClockOfTheZoneAndTheMessageEchoesTheLimit()
    {
        var limit = AgeLimit.Resolve(TimeSpan.FromHours(36), WithoutTimeout);
        var now = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Vilnius");
        var cutoff = limit.CutoffAt(zone, now);
        Assert.Equal(new DateTime(2026, 12, 3, 2, 0, 0), cutoff);
        Assert.Equal("2026-12-03 02:00:00 (Europe/Vilnius; -Timeout: 36h)", limit.Describe(cutoff!.Value, zone));
    }

    [Fact]
    public void ACutoffIsTakenOnceAndItsBucketsAtTheSameInstantInTheAppsZone()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Vilnius");
        var now = new DateTimeOffset(2026, 7, 1, 12, 0, 0, TimeSpan.Zero);
        var age = new AgeCutoff(AgeLimit.Resolve(TimeSpan.FromDays(2), WithoutTimeout), zone, now);
        Assert.Equal(new DateTime(2026, 6, 29, 15, 0, 0), age.Cutoff);
        Assert.Equal("2026-06-29 15:00:00 (Europe/Vilnius; -Timeout: 48h)", age.Said);
        var bounds = age.Bounds();
        Assert.Equal(age.Cutoff, bounds.Cutoff);
        Assert.Equal(new DateTime(2026, 7, 1, 14, 0, 0), bounds.HourAgo);
        Assert.Equal(new DateTime(2026, 6, 1, 15, 0, 0), bounds.MonthAgo);

        var none = new AgeCutoff(AgeLimit.Resolve(null, WithoutTimeout), zone, now);
        Assert.Null(none.Cutoff);
        Assert.Null(none.Said);
        Assert.Null(none.Bounds().Cutoff);
        Assert.Equal("no -Timeout and no beaker.session.timeout", none.Source);
    }
}
