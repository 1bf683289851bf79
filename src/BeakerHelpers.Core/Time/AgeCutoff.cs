using BeakerHelpers.Core.Config;
using BeakerHelpers.Core.Stores;

namespace BeakerHelpers.Core.Time;

/// <summary>
/// A timeout turned, once, into what every command needs from it: the limit and where it came from, the app server's
/// zone, the instant it was taken at, the wall-clock cutoff rows are compared with (docs/time-zones.md), and how
/// messages say it. Listings, removal plans and statistics all take their cutoff from here.
/// </summary>
public sealed record AgeCutoff(AgeLimit Limit, TimeZoneInfo Zone, DateTimeOffset Now)
{
    /// <summary>The cutoff for these settings and the -Timeout given (null when none was), taken now.</summary>
    public static AgeCutoff Resolve(TimeSpan? timeout, SessionSettings settings, TimeZoneInfo zone) =>
        new(AgeLimit.Resolve(timeout, settings), zone, DateTimeOffset.UtcNow);

    /// <summary>The app server's wall-clock time below which a row is old; null without a limit.</summary>
    public DateTime? Cutoff => Limit.CutoffAt(Zone, Now);

    /// <summary>Where the limit came from: "-Timeout", "beaker.session.timeout", "no -Timeout and no …".</summary>
    public string Source => Limit.Source;

    /// <summary>"2026-12-02 10:00:00 (Europe/Vilnius; -Timeout: 48h)"; null without a limit.</summary>
    public string? Said => Cutoff is { } cutoff ? Limit.Describe(cutoff, Zone) : null;

    /// <summary>The cutoffs of Measure-BeakerSession's age buckets, taken at the same instant.</summary>
    public StatisticsBounds Bounds() => new(Cutoff, Before(TimeSpan.FromHours(1)), Before(TimeSpan.FromDays(1)),
        Before(TimeSpan.FromDays(7)), Before(TimeSpan.FromDays(30)));

    private DateTime Before(TimeSpan age) => SessionCutoff.OlderThan(age, Zone, Now);
}
