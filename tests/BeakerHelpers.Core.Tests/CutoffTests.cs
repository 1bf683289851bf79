using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Sessions;
using BeakerHelpers.Core.Time;

namespace BeakerHelpers.Core.Tests;

public sealed class CutoffTests
{
    private static readonly TimeZoneInfo NewYork = TimeZoneNames.Find("America/New_York", "-TimeZone");

    [Fact]
    public void TheCutoffIsTheAppServersWallClockAtNowMinusAge()
    {
        var now = new DateTimeOffset(2026, 7, 10, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(new DateTime(2026, 7, 8, 8, 0, 0), SessionCutoff.OlderThan(TimeSpan.FromDays(2), NewYork, now));
        Assert.Equal(new DateTime(2026, 7, 10, 11, 0, 0), SessionCutoff.OlderThan(TimeSpan.FromHours(1), TimeZoneInfo.Utc, now));
        Assert.Equal(DateTimeKind.Unspecified, SessionCutoff.OlderThan(TimeSpan.FromHours(1), NewYork, now).Kind);
    }

    [Fact]
    public void AgesSpanningADaylightSavingChangeCountRealTime()
    {
        // 2026-03-08 02:00 EST → 03:00 EDT: two real days before 2026-03-09 12:00 EDT is 2026-03-07 11:00 EST.
        var now = new DateTimeOffset(2026, 3, 9, 12, 0, 0, TimeSpan.FromHours(-4));
        Assert.Equal(new DateTime(2026, 3, 7, 11, 0, 0), SessionCutoff.OlderThan(TimeSpan.FromDays(2), NewYork, now));
    }

    [Fact]
    public void ACutoffInTheRepeatedHourMovesBackSoNoLiveSessionLooksOld()
    {
        // 2026-11-01 01:00-02:00 happens twice in New York. Now = 01:40 first pass (EDT, UTC-4); age 10 minutes → 01:30 first pass.
        // A session saved at 01:20 in the second pass (later, live) has the wall time 01:20 < 01:30; the cutoff must be below it.
        var now = new DateTimeOffset(2026, 11, 1, 1, 40, 0, TimeSpan.FromHours(-4));
        Assert.Equal(new DateTime(2026, 11, 1, 0, 30, 0), SessionCutoff.OlderThan(TimeSpan.FromMinutes(10), NewYork, now));
    }

    [Theory]
    [InlineData("UTC")]
    [InlineData("utc")]
    [InlineData("Europe/Vilnius")]
    [InlineData("FLE Standard Time")]
    [InlineData("Local")]
    public void TimeZonesAreFoundByIanaWindowsOrUtcName(string name)
    {
        var zone = TimeZoneNames.Find(name, "-TimeZone");
        Assert.NotNull(zone);
        if (name.Contains('/') || name.StartsWith("FLE", StringComparison.Ordinal))
        {
            Assert.Equal(TimeSpan.FromHours(2), zone.GetUtcOffset(new DateTime(2026, 1, 15, 12, 0, 0)));
        }
    }

    [Theory]
    [InlineData("Mars/Olympus")]
    [InlineData("")]
    [InlineData("+02:00")]
    public void AnUnknownTimeZoneIsAnErrorThatSaysWhatToGive(string name)
    {
        var error = Assert.Throws<BeakerException>(() => TimeZoneNames.Find(name, "-TimeZone"));
        Assert.Equal("TimeZoneNotFound", error.ErrorId);
        Assert.Contains("-TimeZone", error.Message);
        Assert.Contains("IANA", error.Message);
    }
}
