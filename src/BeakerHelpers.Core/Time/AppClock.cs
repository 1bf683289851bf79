using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Stores;
using BeakerHelpers.Core.Sessions;

namespace BeakerHelpers.Core.Time;

/// <summary>
/// The app server's UTC offset as a store shows it: a SQL row's accessed column is the server's naive wall clock at the
/// end of a request, and the session it holds carries _accessed_time, the same request's start as UNIX time
/// (docs/time-zones.md). Their difference is the server's offset, plus the request's duration.
/// </summary>
/// <param name="Sessions">How many sampled sessions had both times.</param>
/// <param name="Measured">The median of the sampled offsets.</param>
/// <param name="Expected">What the zone in use gives at the same instants (their median).</param>
public sealed record AppClockReading(int Sessions, TimeSpan Measured, TimeSpan Expected)
{
    /// <summary>A difference larger than this is another zone, not a slow request: zones differ by 15 minutes at least.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    /// <summary>Zones lie between UTC-12:00 and UTC+14:00, on whole quarter hours.</summary>
    private static readonly TimeSpan WidestZone = TimeSpan.FromHours(14);

    public bool Disagrees => (Measured - Expected).Duration() > Tolerance;

    /// <summary>
    /// Whether some zone explains the measured offset: within ±14 h and a whole quarter hour (give or take the
    /// tolerance a slow request adds). Anything else is a clock that was off, or rows changed afterwards.
    /// </summary>
    public bool IsZoneOffset
    {
        get
        {
            if (Measured.Duration() > WidestZone + Tolerance)
            {
                return false;
            }

            var quarters = Math.Round(Measured.TotalMinutes / 15) * 15;
            return Math.Abs(Measured.TotalMinutes - quarters) <= Tolerance.TotalMinutes;
        }
    }

    /// <summary>The zone id of the measured offset when it is a whole hour (Etc/GMT-9 is UTC+09:00: its sign is POSIX's), else null.</summary>
    public string? FixedZone
    {
        get
        {
            var hours = Math.Round(Measured.TotalHours);
            if (!IsZoneOffset || Math.Abs(Measured.TotalHours - hours) * 60 > Tolerance.TotalMinutes || Math.Abs(hours) > 14)
            {
                return null;
            }

            return hours == 0 ? "UTC" : "Etc/GMT" + (hours > 0 ? "-" : "+") + Math.Abs(hours).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>An offset as it is written: UTC+09:00; past a day, in hours (UTC-72:00), never wrapped.</summary>
    public static string Show(TimeSpan offset)
    {
        var minutes = (long)Math.Round(offset.TotalMinutes);
        var size = Math.Abs(minutes);
        return "UTC" + (minutes < 0 ? "-" : "+") + (size / 60).ToString("00", System.Globalization.CultureInfo.InvariantCulture) + ":" +
            (size % 60).ToString("00", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A difference as it is said, hours and minutes without a sign: '72:00'.</summary>
    public static string Span(TimeSpan difference) => Show(difference)[4..];
}

public static class AppClock
{
    /// <summary>Sessions sampled: enough for a median that one odd row cannot move.</summary>
    public const int SampleSize = 50;

    /// <summary>
    /// Measures the offset from up to <see cref="SampleSize"/> rows, or returns null where it cannot: a store whose times
    /// are absolute (files), or no sampled row that decodes with both times (all encrypted without keys, say).
    /// </summary>
    public static AppClockReading? Measure(ISessionStore store, SessionPayloadDecoder decoder, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        if (!store.TimesAreLocal)
        {
            return null;
        }

        var measured = new List<TimeSpan>();
        var expected = new List<TimeSpan>();
        foreach (var row in store.SampleSessions(SampleSize, cancellationToken))
        {
            DecodedPayload payload;
            try
            {
                payload = row.Payload == StoredPayload.SessionValue ? decoder.DecodeValue(row.Data) : decoder.Decode(row.Data);
            }
            catch (PayloadException)
            {
                continue;
            }

            double? seconds = null;
            foreach (var pair in payload.Values)
            {
                if (pair.Key == BeakerKeys.AccessedTime)
                {
                    seconds = pair.Value switch { double d => d, long l => l, _ => null };
                }
            }

            if (seconds is not { } s || double.IsNaN(s) || s < 0 || s > 253402300799 || row.Accessed == default)
            {
                continue;
            }

            var utc = DateTime.UnixEpoch.AddSeconds(s);
            measured.Add(DateTime.SpecifyKind(row.Accessed, DateTimeKind.Unspecified) - utc);
            expected.Add(zone.GetUtcOffset(utc));
        }

        return measured.Count == 0 ? null : new AppClockReading(measured.Count, Median(measured), Median(expected));
    }

    private static TimeSpan Median(List<TimeSpan> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
