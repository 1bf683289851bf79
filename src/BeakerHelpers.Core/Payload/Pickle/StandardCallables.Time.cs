using System.Globalization;
using System.Text;
using BeakerHelpers.Core.Payload.Values;

namespace BeakerHelpers.Core.Payload.Pickle;

/// <summary>The datetime family: datetime, date, time (naive, fixed-offset, zoneinfo and pytz zones), timedelta and struct_time (docs/pickle.md).</summary>
internal static partial class StandardCallables
{
    /// <summary>
    /// datetime.datetime/date/time from their packed state (10, 4 or 6 bytes; docs/pickle.md), with an optional
    /// tzinfo: a fixed offset or a resolvable zone makes a datetime a DateTimeOffset.
    /// </summary>
    private static object? DateAndTime(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args.Length is < 1 or > 2 || call.States != null)
        {
            return null;
        }

        var state = args[0] switch
        {
            byte[] b => b,
            PyByteString s => s.Bytes,
            string text when text.All(c => c <= '\u00ff') => Encoding.Latin1.GetBytes(text),
            PyCall inner => mapper.Map(inner, depth + 1) as byte[],
            _ => null,
        };
        if (state == null)
        {
            return null;
        }

        var kind = ((PyGlobal)call.Callable!).Name;
        switch (kind)
        {
            case "date" when state.Length == 4:
                return ValidDate(state[0] * 256 + state[1], state[2], state[3]) is { } date ? date : throw new PayloadException("a datetime.date state is not a valid date");
            case "time" when state.Length == 6:
                if ((state[0] & 0x7f) > 23 || state[1] > 59 || state[2] > 59 || Micro(state, 3) > 999_999)
                {
                    throw new PayloadException("a datetime.time state is not a valid time of day");
                }

                return new TimeSpan(0, state[0] & 0x7f, state[1], state[2]) + TimeSpan.FromTicks(Micro(state, 3) * 10);
            case "datetime" when state.Length == 10:
                if (ValidDate(state[0] * 256 + state[1], state[2] & 0x7f, state[3]) is not { } day || state[4] > 23 || state[5] > 59 || state[6] > 59 || Micro(state, 7) > 999_999)
                {
                    throw new PayloadException("a datetime.datetime state is not a valid date and time");
                }

                var wall = day.Add(new TimeSpan(state[4], state[5], state[6])).AddTicks(Micro(state, 7) * 10);
                return args.Length == 2 && args[1] != null ? WithZone(mapper, wall, fold: (state[2] & 0x80) != 0, args[1], depth) : wall;
            default:
                return null;
        }
    }

    private static object WithZone(PythonValueMapper mapper, DateTime wall, bool fold, object? tzinfo, int depth)
    {
        var zone = mapper.Map(tzinfo, depth + 1) as PythonObject;
        if (zone != null && zone.TryGetValue("offset", out var o) && o is TimeSpan offset && offset.Ticks % TimeSpan.TicksPerMinute == 0 && offset.Duration() <= TimeSpan.FromHours(14))
        {
            return new DateTimeOffset(wall, offset);
        }

        if (zone != null && zone.TryGetValue("key", out var k) && k is string key)
        {
            if (FindZone(key) is { } info)
            {
                TimeSpan at;
                if (info.IsAmbiguousTime(wall))
                {
                    // Python's fold: 0 is the first of the two wall times (the larger offset), 1 the repeat.
                    var offsets = info.GetAmbiguousTimeOffsets(wall);
                    at = fold ? offsets.Min() : offsets.Max();
                }
                else
                {
                    at = info.GetUtcOffset(DateTime.SpecifyKind(wall, DateTimeKind.Unspecified));
                }

                if (at.Ticks % TimeSpan.TicksPerMinute == 0)
                {
                    return new DateTimeOffset(wall, at);
                }
            }

            // A zone this machine does not know: the wall time and the zone's name, not a guessed offset.
            var zoned = new PythonObject("datetime.datetime", PythonText.Display(wall) + " " + key);
            zoned.Set("datetime", "datetime", wall);
            zoned.Set("tzinfo", "tzinfo", key);
            return zoned;
        }

        // A tzinfo class of the application's (or an offset .NET cannot hold): the wall time, as the app shows it.
        return wall;
    }

    private static TimeZoneInfo? FindZone(string key)
    {
        if (Zones.TryGetValue(key, out var cached))
        {
            return cached;
        }

        TimeZoneInfo? zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(key);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException or System.Security.SecurityException)
        {
            zone = null;
        }

        if (Zones.Count < CachedZones)
        {
            Zones[key] = zone;
        }

        return zone;
    }

    /// <summary>timezone(timedelta[, name]), pytz's _UTC() and _p(zone, utcoffset, ...), ZoneInfo(key): the offset or the zone's name.</summary>
    private static object? Zone(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        switch (((PyGlobal)call.Callable!).Name)
        {
            case "timezone" when args.Length is 1 or 2 && mapper.Map(args[0], depth + 1) is TimeSpan offset && offset.Duration() < TimeSpan.FromDays(1):
                return OffsetValue(offset, args.Length == 2 ? Text(args[1]) : null);
            case "_UTC":
                return OffsetValue(TimeSpan.Zero, "UTC");
            case "_p" when args.Length >= 2 && Text(args[0]) is { } zone && args[1] is long seconds && Math.Abs(seconds) < 86400:
                var fixedZone = OffsetValue(TimeSpan.FromSeconds(seconds), zone);
                fixedZone.Set("key", "key", zone);
                return fixedZone;
            case "ZoneInfo" when args.Length == 1 && Text(args[0]) is { } key:
                return ZoneValue(key);
            default:
                return null;
        }
    }

    private static PythonObject OffsetValue(TimeSpan offset, string? name)
    {
        var text = name ?? ("UTC" + (offset < TimeSpan.Zero ? "-" : "+") + offset.Duration().ToString(@"hh\:mm", CultureInfo.InvariantCulture));
        var zone = new PythonObject("datetime.timezone", text);
        zone.Set("offset", "offset", offset);
        return zone;
    }

    private static PythonObject ZoneValue(string key)
    {
        var zone = new PythonObject("zoneinfo.ZoneInfo", key);
        zone.Set("key", "key", key);
        return zone;
    }

    private static object? TimeDelta(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args is not [long days, long seconds, long micro])
        {
            return null;
        }

        if (Math.Abs(days) <= 10_000_000)
        {
            return TimeSpan.FromDays(days) + TimeSpan.FromSeconds(seconds) + TimeSpan.FromTicks(micro * 10);
        }

        // Python's timedelta reaches 999 999 999 days, .NET's TimeSpan about 10.6 million.
        var longer = new PythonObject("datetime.timedelta", $"timedelta(days={days}, seconds={seconds}, microseconds={micro})");
        longer.Set("days", "days", days);
        longer.Set("seconds", "seconds", seconds);
        longer.Set("microseconds", "microseconds", micro);
        return longer;
    }

    /// <summary>time.struct_time((9 fields), {tm_zone, tm_gmtoff}): its named fields.</summary>
    private static object? StructTime(PythonValueMapper mapper, PyCall call, object?[] args, int depth)
    {
        if (args is not [PyTuple { Count: >= 9 } fields, ..])
        {
            return null;
        }

        var values = mapper.MapArray(fields.Items, depth);
        var shown = "time.struct_time(" + string.Join(", ", StructTimeFields.Select((f, i) => f + "=" + PythonText.Display(values[i]))) + ")";
        var result = new PythonObject("time.struct_time", shown);
        for (var i = 0; i < StructTimeFields.Length; i++)
        {
            result.Set(StructTimeFields[i], StructTimeFields[i], values[i]);
        }

        if (args.Length > 1 && args[1] is PyDict extra)
        {
            mapper.MapDict(extra, depth, result);
        }

        return result;
    }
}
