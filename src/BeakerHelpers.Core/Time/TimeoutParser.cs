using System.Globalization;
using System.Text.RegularExpressions;

namespace BeakerHelpers.Core.Time;

/// <summary>
/// Session ages as an operator types them: the original 'paster beakersessions -t' forms ('3s', '14m', '36h', '2d',
/// plain seconds '3600', and '0' for "no limit"), fractions and combinations ('1.5d', '1d12h', '1w'), a TimeSpan's
/// text ('02:00:00', '1.00:00:00') and ISO 8601 durations ('P2D', 'PT36H').
/// </summary>
public static class TimeoutParser
{
    public const string AcceptedForms = "a number of seconds (3600), numbers with units w, d, h, m or s (90s, 14m, 36h, 2d, 1.5d, 1d12h, 1w), a TimeSpan (02:00:00, 1.00:00:00, or a [TimeSpan]), an ISO 8601 duration (P2D, PT36H), or 0 for no limit";

    private static readonly Regex Units = new(@"^(?:\s*(\d+(?:\.\d+)?)\s*([wdhms]))+\s*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    private static readonly Regex Seconds = new(@"^\s*(\d+)\s*$", RegexOptions.CultureInvariant);
    private static readonly Regex Iso = new(@"^\s*P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?\s*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    private static readonly Regex ConfigSeconds = new(@"^\d+$", RegexOptions.CultureInvariant);

    /// <summary>Longest age taken: ages beyond this are typing errors, and a cutoff must stay a valid date.</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromDays(3650 * 10);

    /// <summary>Parses a user-given age. Returns <see cref="TimeSpan.Zero"/> for '0'.</summary>
    public static TimeSpan Parse(string text)
    {
        text ??= string.Empty;
        if (text.TrimStart().StartsWith('-'))
        {
            throw new BeakerException("TimeoutInvalid", BeakerErrorKind.InvalidArgument,
                $"The timeout '{Quote(text)}' is negative. Give an age, such as 2d, or 0 for no limit.");
        }

        double seconds;
        if (Seconds.Match(text) is { Success: true } plain)
        {
            seconds = double.Parse(plain.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        else if (Units.Match(text) is { Success: true } units)
        {
            seconds = 0;
            var amounts = units.Groups[1].Captures;
            var names = units.Groups[2].Captures;
            for (var i = 0; i < amounts.Count; i++)
            {
                seconds += double.Parse(amounts[i].Value, CultureInfo.InvariantCulture) * UnitSeconds(names[i].Value[0]);
            }
        }
        else if (text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text.Trim(), CultureInfo.InvariantCulture, out var span))
        {
            seconds = span.TotalSeconds;
        }
        else if (Iso.Match(text) is { Success: true } iso && text.Trim().Length > 1 && !text.Trim().EndsWith("T", StringComparison.OrdinalIgnoreCase))
        {
            seconds = 0;
            var unit = new[] { 'w', 'd', 'h', 'm', 's' };
            for (var i = 0; i < unit.Length; i++)
            {
                if (iso.Groups[i + 1].Success)
                {
                    seconds += double.Parse(iso.Groups[i + 1].Value, CultureInfo.InvariantCulture) * UnitSeconds(unit[i]);
                }
            }
        }
        else
        {
            throw Invalid(text);
        }

        if (double.IsNaN(seconds) || seconds < 0 || seconds > Longest.TotalSeconds)
        {
            throw new BeakerException("TimeoutInvalid", BeakerErrorKind.InvalidArgument,
                $"The timeout '{Quote(text)}' is longer than 100 years. Give an age such as 2d, or 0 for no limit.");
        }

        return TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
    }

    /// <summary>An age as an operator would write it: 36h, 2d, 1d 12h, 90s.</summary>
    public static string Show(TimeSpan age)
    {
        if (age == TimeSpan.Zero)
        {
            return "0";
        }

        var parts = new List<string>();
        if (age.Days > 0)
        {
            parts.Add(age.Days + "d");
        }

        if (age.Hours > 0)
        {
            parts.Add(age.Hours + "h");
        }

        if (age.Minutes > 0)
        {
            parts.Add(age.Minutes + "m");
        }

        var seconds = age.Seconds + (age.Milliseconds / 1000.0);
        if (seconds > 0)
        {
            parts.Add(seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s");
        }

        // Under three days an age reads best in hours (36h), as Beaker's timeout is usually set.
        if (age.TotalHours < 72 && age.TotalHours == Math.Floor(age.TotalHours) && age.TotalHours >= 1)
        {
            return age.TotalHours.ToString(CultureInfo.InvariantCulture) + "h";
        }

        return string.Join(" ", parts);
    }

    /// <summary>
    /// Parses '&lt;prefix&gt;.timeout' as Beaker's asint does: digits only. <paramref name="where"/> names the
    /// setting in the error.
    /// </summary>
    public static long ParseConfigSeconds(string text, string where)
    {
        if (!ConfigSeconds.IsMatch(text.Trim()) || !long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            throw new BeakerException("ConfigTimeoutInvalid", BeakerErrorKind.InvalidData,
                $"{where} is '{text}', but Beaker accepts only a whole number of seconds there (such as 3600). Fix the setting or pass -Timeout.");
        }

        return seconds;
    }

    private static double UnitSeconds(char unit) => char.ToLowerInvariant(unit) switch
    {
        'w' => 604800,
        'd' => 86400,
        'h' => 3600,
        'm' => 60,
        _ => 1,
    };

    private static string Quote(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static BeakerException Invalid(string? text) => new("TimeoutInvalid", BeakerErrorKind.InvalidArgument,
        $"The timeout '{Quote(text ?? string.Empty)}' is not understood. Use {AcceptedForms}.");
}
