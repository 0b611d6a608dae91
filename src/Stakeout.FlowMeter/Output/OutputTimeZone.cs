using System.Globalization;

namespace Stakeout.FlowMeter.Output;

/// <summary>
/// The time zone of the CSV's Timestamp column, from what a user types: an IANA id (<c>Asia/Kolkata</c>), <c>UTC</c>,
/// or a fixed offset (<c>+05:30</c>, <c>-0300</c>, <c>UTC+5:30</c>, <c>+5</c>). CICFlowMeter wrote the local time of its
/// machine, so comparing with a CIC file means writing in that machine's zone.
/// </summary>
public static class OutputTimeZone
{
    /// <summary>
    /// Resolves <paramref name="text"/>; throws <see cref="ArgumentException"/> naming <paramref name="option"/> and the value
    /// when it is neither a known zone nor an offset within ±14:00. IANA ids resolve from the system's tz database, which
    /// invariant globalization leaves in place (it drops only ICU's display names).
    /// </summary>
    public static TimeZoneInfo Parse(string text, string option = "--timezone")
    {
        ArgumentNullException.ThrowIfNull(text);
        string value = text.Trim();
        if (value.Length == 0)
        {
            throw new ArgumentException($"{option} is empty: give an IANA zone (e.g. Asia/Kolkata) or an offset (e.g. +05:30).", option);
        }

        if (TryParseOffset(value, option, out TimeSpan offset))
        {
            if (offset == TimeSpan.Zero)
            {
                return TimeZoneInfo.Utc;
            }

            string name = "UTC" + (offset < TimeSpan.Zero ? "-" : "+") + offset.ToString(@"hh\:mm", CultureInfo.InvariantCulture);
            return TimeZoneInfo.CreateCustomTimeZone(name, offset, name, name);
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(value);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ArgumentException(
                $"{option} '{text}' is neither a time zone this system knows (IANA id such as Asia/Kolkata, tz data in /usr/share/zoneinfo) nor an offset such as +05:30.",
                option,
                ex);
        }
    }

    /// <summary>Parses <c>[UTC|GMT]±H[H][[:]MM]</c>; false when the text is not of that form.</summary>
    private static bool TryParseOffset(string value, string option, out TimeSpan offset)
    {
        offset = TimeSpan.Zero;
        ReadOnlySpan<char> s = value;
        if (s.StartsWith("UTC", StringComparison.OrdinalIgnoreCase) || s.StartsWith("GMT", StringComparison.OrdinalIgnoreCase))
        {
            s = s[3..];
            if (s.IsEmpty)
            {
                return true; // plain UTC
            }
        }

        if (s.IsEmpty || (s[0] != '+' && s[0] != '-'))
        {
            return false;
        }

        int sign = s[0] == '-' ? -1 : 1;
        s = s[1..];
        ReadOnlySpan<char> hours, minutes;
        int colon = s.IndexOf(':');
        if (colon >= 0)
        {
            hours = s[..colon];
            minutes = s[(colon + 1)..];
        }
        else if (s.Length > 2)
        {
            hours = s[..^2];
            minutes = s[^2..];
        }
        else
        {
            hours = s;
            minutes = "0";
        }

        if (hours.Length is < 1 or > 2 || minutes.Length is < 1 or > 2
            || !int.TryParse(hours, NumberStyles.None, CultureInfo.InvariantCulture, out int h)
            || !int.TryParse(minutes, NumberStyles.None, CultureInfo.InvariantCulture, out int m)
            || m >= 60 || h * 60 + m > 14 * 60)
        {
            throw new ArgumentException($"{option} '{value}' is not a UTC offset within -14:00..+14:00 (e.g. +05:30, -0300).", option);
        }

        offset = TimeSpan.FromMinutes(sign * (h * 60 + m));
        return true;
    }
}
