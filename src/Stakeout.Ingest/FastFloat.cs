using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Stakeout.Ingest;

/// <summary>
/// Decimal text to <see cref="float"/> over UTF-8 bytes, without allocating. Plain decimals with up to 19 digits take an
/// exact fast path (one correctly rounded IEEE operation); everything else, and the rare double-rounding
/// tie, falls back to <see cref="float.TryParse(ReadOnlySpan{byte}, NumberStyles, IFormatProvider?, out float)"/>, so the
/// result is always bit-identical to the framework's parser.
/// </summary>
internal static class FastFloat
{
    /// <summary>More digits than this may not fit a <see cref="ulong"/> exactly.</summary>
    private const int MaxExactDigits = 19;

    private static readonly ulong[] Pow10U = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000];

    private static readonly float[] Pow10F = [1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f];

    private static readonly double[] Pow10D =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ];

    /// <summary>
    /// Parses a plain decimal number starting at <paramref name="pos"/>. On success <paramref name="pos"/> is the index
    /// of the first byte after the number (the caller checks it is a delimiter). Returns false, leaving
    /// <paramref name="pos"/> alone, when the text does not start with a plain decimal (Infinity, NaN, an empty field).
    /// </summary>
    public static bool TryParsePrefix(ReadOnlySpan<byte> s, ref int pos, out float value)
    {
        int i = pos;
        bool negative = false;
        if (i < s.Length && (s[i] == (byte)'-' || s[i] == (byte)'+'))
        {
            negative = s[i] == (byte)'-';
            i++;
        }

        // Every digit goes into the mantissa, leading zeros included: up to 19 digits cannot overflow a ulong, so the
        // loops need no per-digit test of how many are significant. Longer numbers take the framework's parser below.
        ulong mantissa = 0;
        int integerDigits = ReadDigits(s, ref i, ref mantissa);
        int fractionDigits = 0;
        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;
            fractionDigits = ReadDigits(s, ref i, ref mantissa);
        }

        if (integerDigits + fractionDigits == 0)
        {
            value = 0;
            return false;
        }

        int exponent = -fractionDigits;
        if (i < s.Length && (s[i] | 0x20) == (byte)'e')
        {
            int j = i + 1;
            bool expNegative = false;
            if (j < s.Length && (s[j] == (byte)'-' || s[j] == (byte)'+'))
            {
                expNegative = s[j] == (byte)'-';
                j++;
            }

            int expStart = j;
            int e = 0;
            while (j < s.Length && (uint)(s[j] - '0') <= 9)
            {
                if (e < 100000)
                {
                    e = (e * 10) + (s[j] - '0');
                }

                j++;
            }

            if (j == expStart)
            {
                value = 0;
                return false;
            }

            exponent += expNegative ? -e : e;
            i = j;
        }

        if (integerDigits + fractionDigits <= MaxExactDigits && TryFastPath(mantissa, exponent, negative, out value))
        {
            pos = i;
            return true;
        }

        if (float.TryParse(s[pos..i], NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            pos = i;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Appends the run of ASCII digits at <paramref name="i"/> to <paramref name="mantissa"/> (wrapping past 19 digits;
    /// the caller then ignores it) and moves <paramref name="i"/> past them. Returns how many digits there were.
    /// </summary>
    /// <remarks>
    /// Eight bytes at a time where the line has them: one load tells how many leading bytes are digits and one multiply
    /// chain converts them, so a field costs no branch per digit and no mispredicted loop exit. Reading past the field is
    /// safe: the span is the whole line, and the bytes after the number are only inspected, never consumed.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadDigits(ReadOnlySpan<byte> s, ref int i, ref ulong mantissa)
    {
        int start = i;
        if (BitConverter.IsLittleEndian)
        {
            while (s.Length - i >= 8)
            {
                ulong word = BinaryPrimitives.ReadUInt64LittleEndian(s[i..]);
                ulong values = word ^ 0x3030_3030_3030_3030UL;

                // A byte's top bit is set when its value is 10 or more (a non-digit). A carry can only corrupt bytes after
                // the first non-digit, and only the first one counts.
                ulong nonDigits = ((values + 0x7676_7676_7676_7676UL) | values) & 0x8080_8080_8080_8080UL;
                int n = nonDigits == 0 ? 8 : BitOperations.TrailingZeroCount(nonDigits) >> 3;
                if (n == 0)
                {
                    return i - start;
                }

                // Keep the n digits, moved up so the bytes below them read as leading zeros.
                mantissa = (mantissa * Pow10U[n]) + EightDigits(values << ((8 - n) * 8));
                i += n;
                if (n < 8)
                {
                    return i - start;
                }
            }
        }

        while (i < s.Length)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9)
            {
                break;
            }

            mantissa = (mantissa * 10) + d;
            i++;
        }

        return i - start;
    }

    /// <summary>The value of eight digit values (0..9), the first in the lowest byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong EightDigits(ulong values)
    {
        // Pairs, then quads, then the whole: three multiplies instead of eight multiply-adds.
        values = (values * 10) + (values >> 8);
        values = (((values & 0x0000_00FF_0000_00FFUL) * (100 + (1_000_000UL << 32))) + (((values >> 16) & 0x0000_00FF_0000_00FFUL) * (1 + (10_000UL << 32)))) >> 32;
        return values & 0xFFFF_FFFFUL;
    }

    /// <summary>Parses a whole field as a number (leading/trailing spaces allowed). False when it is not one.</summary>
    public static bool TryParseField(ReadOnlySpan<byte> field, out float value)
    {
        int pos = 0;
        if (TryParsePrefix(field, ref pos, out value) && pos == field.Length)
        {
            return true;
        }

        return float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryFastPath(ulong mantissa, int exponent, bool negative, out float value)
    {
        if (mantissa == 0)
        {
            value = negative ? -0f : 0f;
            return true;
        }

        if (mantissa <= (1UL << 24) && exponent >= -10 && exponent <= 10)
        {
            float f = mantissa;
            f = exponent < 0 ? f / Pow10F[-exponent] : f * Pow10F[exponent];
            value = negative ? -f : f;
            return true;
        }

        if (mantissa <= (1UL << 53) && exponent >= -22 && exponent <= 22)
        {
            double d = mantissa;
            d = exponent < 0 ? d / Pow10D[-exponent] : d * Pow10D[exponent];

            // Rounding the correctly rounded double to float is wrong only at an exact float tie, and outside the
            // normal float range; hand those to the exact parser.
            ulong bits = (ulong)BitConverter.DoubleToInt64Bits(d);
            if ((bits & 0x1FFF_FFFFUL) != 0x1000_0000UL && d is > 1e-37 and < 1e38)
            {
                value = negative ? (float)-d : (float)d;
                return true;
            }
        }

        value = 0;
        return false;
    }
}
