using System.Globalization;
using BeakerHelpers.Core.Config;

namespace BeakerHelpers.Core.Time;

/// <summary>
/// The age past which a session is old, and where that came from (for messages): -Timeout, else the app's
/// &lt;prefix&gt;.timeout, else none. -Timeout 0 means none, whatever the app says.
/// </summary>
public sealed record AgeLimit(TimeSpan? Age, string Source)
{
    /// <summary>The limit in force for these settings, given the -Timeout value (null when not given).</summary>
    public static AgeLimit Resolve(TimeSpan? given, SessionSettings settings)
    {
        if (given is { } age)
        {
            return age == TimeSpan.Zero ? new AgeLimit(null, "-Timeout 0") : new AgeLimit(age, "-Timeout");
        }

        if (settings.TimeoutSeconds is { } seconds)
        {
            return new AgeLimit(TimeSpan.FromSeconds(seconds), $"{settings.Prefix}.timeout");
        }

        return new AgeLimit(null, settings.IsFromUrl ? "no -Timeout" : $"no -Timeout and no {settings.Prefix}.timeout");
    }

    /// <summary>The app server's wall-clock time below which a row is old (docs/time-zones.md); null without a limit.</summary>
    public DateTime? CutoffAt(TimeZoneInfo zone, DateTimeOffset now) => Age is { } age ? SessionCutoff.OlderThan(age, zone, now) : null;

    /// <summary>How messages say a cutoff of this limit: "2026-12-02 10:00:00 (Europe/Vilnius; -Timeout: 48h)".</summary>
    public string Describe(DateTime cutoff, TimeZoneInfo zone) =>
        $"{cutoff.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} ({zone.Id}; {Source}: {TimeoutParser.Show(Age ?? TimeSpan.Zero)})";
}
