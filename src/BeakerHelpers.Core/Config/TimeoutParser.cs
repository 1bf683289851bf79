using System.Globalization;
using System.Text.RegularExpressions;

namespace BeakerHelpers.Core.Config;

/// <summary>
/// Session ages as the original 'paster beakersessions -t' took them: '3s', '14m', '36h', '2d',
/// plain seconds ('3600'), and '0' for "no limit".
/// </summary>
public static class TimeoutParser
{
    public const string AcceptedForms = "a number of seconds (3600), a number with a unit s, m, h or d (90s, 14m, 36h, 2d), a [TimeSpan], or 0 for no limit";

    private static readonly Regex Form = new(@"^\s*(\d+)\s*([smhd]?)\s*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    private static readonly Regex ConfigSeconds = new(@"^\d+$", RegexOptions.CultureInvariant);

    /// <summary>Parses a user-given age. Returns <see cref="TimeSpan.Zero"/> for '0'.</summary>
    public static TimeSpan Parse(string text)
    {
        var match = Form.Match(text ?? string.Empty);
        if (!match.Success || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            throw Invalid(text);
        }

        var unitSeconds = char.ToLowerInvariant(match.Groups[2].Value.FirstOrDefault('s')) switch
        {
            'm' => 60L,
            'h' => 3600L,
            'd' => 86400L,
            _ => 1L,
        };
        if (amount > TimeSpan.MaxValue.TotalSeconds / unitSeconds / 2)
        {
            throw Invalid(text);
        }

        return TimeSpan.FromSeconds(amount * unitSeconds);
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

    private static BeakerException Invalid(string? text) => new("TimeoutInvalid", BeakerErrorKind.InvalidArgument,
        $"The timeout '{text}' is not understood. Use {AcceptedForms}.");
}
