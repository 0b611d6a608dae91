namespace Stakeout.Ingest;

/// <summary>
/// Timestamps as flow CSVs write them. CIC-IDS2017 writes day/month/year with a 12-hour clock and no AM/PM
/// ("7/7/2017 3:30" is 15:30); CICFlowMeter-V4 writes "17/05/2016 03:04:02 AM"; CSE-CIC-IDS2018 writes a 24-hour
/// "02/03/2018 08:47:38"; ISO "2017-07-07 15:30:00" is read too. Values are local time of the capture, as written.
/// </summary>
internal static class FlowTimestamp
{
    /// <summary>
    /// Parses <paramref name="text"/>. With <paramref name="inferAfternoon"/>, an hour from 1 to 7 without AM/PM is read as
    /// afternoon (CIC-IDS2017's captures ran 08:00-18:00), and <paramref name="inferred"/> says so.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, bool inferAfternoon, out DateTime value, out bool inferred)
    {
        value = default;
        inferred = false;
        int pos = 0;
        if (!Number(text, ref pos, 1, 4, out int a))
        {
            return false;
        }

        int year, month, day;
        if (pos < text.Length && text[pos] == (byte)'-')
        {
            pos++;
            year = a;
            if (!Number(text, ref pos, 1, 2, out month) || !Expect(text, ref pos, (byte)'-') || !Number(text, ref pos, 1, 2, out day))
            {
                return false;
            }

            if (pos >= text.Length || (text[pos] != (byte)'T' && text[pos] != (byte)' '))
            {
                return false;
            }

            pos++;
        }
        else
        {
            day = a;
            if (!Expect(text, ref pos, (byte)'/') || !Number(text, ref pos, 1, 2, out month) || !Expect(text, ref pos, (byte)'/') ||
                !Number(text, ref pos, 4, 4, out year) || !Expect(text, ref pos, (byte)' '))
            {
                return false;
            }
        }

        if (!Number(text, ref pos, 1, 2, out int hour) || !Expect(text, ref pos, (byte)':') || !Number(text, ref pos, 2, 2, out int minute))
        {
            return false;
        }

        int second = 0;
        long fractionTicks = 0;
        if (pos < text.Length && text[pos] == (byte)':')
        {
            pos++;
            if (!Number(text, ref pos, 2, 2, out second))
            {
                return false;
            }

            if (pos < text.Length && text[pos] == (byte)'.')
            {
                pos++;
                int start = pos;
                long scale = TimeSpan.TicksPerSecond;
                while (pos < text.Length && (uint)(text[pos] - '0') <= 9)
                {
                    scale /= 10;
                    fractionTicks += (text[pos] - '0') * scale;
                    pos++;
                }

                if (pos == start)
                {
                    return false;
                }
            }
        }

        bool hasMeridiem = false;
        if (pos < text.Length)
        {
            if (!Expect(text, ref pos, (byte)' ') || text.Length - pos != 2 || (text[pos + 1] | 0x20) != 'm')
            {
                return false;
            }

            int m = text[pos] | 0x20;
            if (m != 'a' && m != 'p' || hour is < 1 or > 12)
            {
                return false;
            }

            hasMeridiem = true;
            hour = (hour % 12) + (m == 'p' ? 12 : 0);
            pos += 2;
        }

        if (!hasMeridiem && inferAfternoon && hour is >= 1 and <= 7)
        {
            hour += 12;
            inferred = true;
        }

        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Clamp(year, 1, 9999), month) || hour > 23 || minute > 59 || second > 59 || year < 1)
        {
            return false;
        }

        value = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(fractionTicks);
        return true;
    }

    private static bool Number(ReadOnlySpan<byte> text, ref int pos, int minDigits, int maxDigits, out int value)
    {
        value = 0;
        int start = pos;
        while (pos < text.Length && pos - start < maxDigits && (uint)(text[pos] - '0') <= 9)
        {
            value = (value * 10) + (text[pos] - '0');
            pos++;
        }

        return pos - start >= minDigits;
    }

    private static bool Expect(ReadOnlySpan<byte> text, ref int pos, byte c)
    {
        if (pos < text.Length && text[pos] == c)
        {
            pos++;
            return true;
        }

        return false;
    }
}
