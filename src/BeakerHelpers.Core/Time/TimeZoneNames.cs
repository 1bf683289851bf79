namespace BeakerHelpers.Core.Time;

/// <summary>Finds the app server's time zone by the names operators write: IANA ('Europe/Vilnius'), Windows ('FLE Standard Time') or 'UTC'.</summary>
public static class TimeZoneNames
{
    public static TimeZoneInfo Find(string name, string where)
    {
        var trimmed = name?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            throw Unknown(name ?? string.Empty, where);
        }

        if (trimmed.Equals("UTC", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("Z", StringComparison.OrdinalIgnoreCase))
        {
            return TimeZoneInfo.Utc;
        }

        if (trimmed.Equals("Local", StringComparison.OrdinalIgnoreCase))
        {
            return TimeZoneInfo.Local;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(trimmed);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw Unknown(trimmed, where, ex);
        }
    }

    private static BeakerException Unknown(string name, string where, Exception? inner = null) =>
        new("TimeZoneNotFound", BeakerErrorKind.InvalidArgument,
            $"{where} '{name}' is not a time zone this machine knows. Give the app server's zone as an IANA id ('Europe/Vilnius'), a Windows id ('FLE Standard Time'), 'UTC' or 'Local'; Get-TimeZone -ListAvailable lists them.",
            inner);
}
