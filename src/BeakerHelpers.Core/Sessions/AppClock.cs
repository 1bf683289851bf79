using BeakerHelpers.Core.Payload;
using BeakerHelpers.Core.Stores;

namespace BeakerHelpers.Core.Sessions;

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

    public bool Disagrees => (Measured - Expected).Duration() > Tolerance;

    /// <summary>An offset as it is written: UTC+09:00.</summary>
    public static string Show(TimeSpan offset)
    {
        var minutes = TimeSpan.FromMinutes(Math.Round(offset.TotalMinutes));
        return "UTC" + (minutes < TimeSpan.Zero ? "-" : "+") + minutes.Duration().ToString(@"hh\:mm", System.Globalization.CultureInfo.InvariantCulture);
    }
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
                if (pair.Key == "_accessed_time")
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
