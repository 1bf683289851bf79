namespace BeakerHelpers.Core.Time;

/// <summary>
/// UNIX times (what a session's _accessed_time holds) and the app server's naive wall-clock times (what cutoffs and
/// rows are in), converted in that server's zone (docs/time-zones.md): the stores that date sessions by their payload
/// (Redis, memcached) compare and show ages through it.
/// </summary>
public static class AppWallClock
{
    public static double Epoch(DateTime wall, TimeZoneInfo zone) =>
        (TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(wall, DateTimeKind.Unspecified), zone) - DateTime.UnixEpoch).TotalSeconds;

    public static DateTime Wall(double epoch, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTimeFromUtc(DateTime.UnixEpoch.AddTicks((long)(epoch * TimeSpan.TicksPerSecond)), zone);
}
