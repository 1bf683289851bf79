namespace BeakerHelpers.Core.Time;

/// <summary>
/// Turns "older than this age" into the naive wall-clock time that rows are compared with. Beaker writes
/// accessed/created as the app server's local time without a zone (docs/storage.md#tables), so the cutoff is that
/// server's wall clock at the instant now − age.
/// </summary>
public static class SessionCutoff
{
    /// <summary>
    /// The wall-clock time in <paramref name="zone"/> below which a row is older than <paramref name="age"/>.
    /// When that time falls in a repeated (DST fall-back) hour it could also be read as the later pass, and a
    /// session saved in the later pass would look old; the cutoff then moves back by the repeated span, so a
    /// live session is never taken for an old one.
    /// </summary>
    public static DateTime OlderThan(TimeSpan age, TimeZoneInfo zone, DateTimeOffset now)
    {
        var wall = TimeZoneInfo.ConvertTime(now - age, zone).DateTime;
        if (!zone.IsAmbiguousTime(wall))
        {
            return wall;
        }

        var offsets = zone.GetAmbiguousTimeOffsets(wall);
        var span = offsets.Max() - offsets.Min();
        return wall - span;
    }
}
