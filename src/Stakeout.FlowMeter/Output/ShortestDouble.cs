using System.Runtime.CompilerServices;

namespace Stakeout.FlowMeter.Output;

/// <summary>
/// The shortest decimal that reads back as the same double, written as UTF-8 exactly as .NET's
/// <c>double.ToString("R", InvariantCulture)</c> writes it, for the values a flow CSV is made of (non-integers from
/// 1e-4 to 1e15, fixed notation). It is the writer's main cost otherwise: most means, deviations and rates need 16 or
/// 17 digits, and the general formatter spends about twice as long on each.
/// </summary>
/// <remarks>
/// <para>
/// The method works in exact integers. A double <c>a = m·2^q</c> (here always q &lt; 0) reads back from every decimal
/// inside <c>[a - gap below/2, a + gap above/2]</c>; scaled by <c>2^(2-q)·10^T</c> those bounds are 128-bit
/// integers, and the k-digit decimals inside are the integers between them divided by <c>2^(2-q)</c>, a shift. At 15
/// digits the interval is under a quarter of a unit wide, so at most one decimal lies in it, and if one does the shortest
/// decimal is that one without its trailing zeros (a shorter one would be a second 15-digit decimal in the interval).
/// Otherwise the shortest has 16 or, always possible, 17 digits, and among those the one nearest <c>a</c> is taken,
/// as .NET does (the even one when <c>a</c> is exactly halfway). No decimal of 17 digits or fewer can lie exactly on a
/// bound in this range (a bound is an odd multiple of 2^(q-1), q &lt;= -3, which takes at least 19 significant digits),
/// so whether the bounds count (.NET counts them for an even m) never changes the answer here; widening the range
/// would need that rule.
/// </para>
/// <para>
/// Where the exponent guess cannot be settled it returns false and the caller uses .NET's formatter, as it does
/// outside the range. <c>ShortestDoubleTests</c> holds
/// the output to .NET's, byte for byte, on millions of values.
/// </para>
/// </remarks>
internal static class ShortestDouble
{
    /// <summary>The smallest magnitude handled (.NET writes smaller ones in scientific notation from 1e-5 down).</summary>
    public const double Min = 1e-4;

    /// <summary>Magnitudes from here up are left to .NET (scientific notation from 1e15 up).</summary>
    public const double Max = 1e15;

    // 10^0 .. 10^20 as 128-bit integers (10^20 is over 2^64).
    private static readonly UInt128[] Pow10 = MakePowers();

    /// <summary>Writes <paramref name="v"/> as <c>ToString("R")</c> would, or returns false (nothing usable written).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryWrite(Span<byte> to, double v, out int written)
    {
        written = 0;
        double a = Math.Abs(v);
        if (!(a >= Min && a < Max) || to.Length < 24)
        {
            return false;
        }

        long bits = BitConverter.DoubleToInt64Bits(a);
        int biased = (int)(bits >> 52);
        long fraction = bits & ((1L << 52) - 1);
        ulong m = (ulong)(fraction | (1L << 52));
        int shift = 1075 - biased + 2;                     // a = m·2^-(shift-2); scaled by 2^shift below

        // The interval in units of 2^(q-2): a is 4m, the bounds 4m ± 2 (the gap below is half as wide when m is a
        // power of two: the next double down has a smaller exponent).
        ulong center = m << 2;
        ulong upper = center + 2;
        ulong lower = fraction == 0 ? center - 1 : center - 2;

        // The decimal exponent: floor((biased - 1023)·log10 2) is it or one less; the table settles which. Where the
        // table's own rounding misleads (10^-k as a double is not 10^-k), the digits show it and the search is redone.
        int e = ((biased - 1023) * 78913) >> 18;
        if (a >= Pow10Double[e + 1 + Pow10DoubleOffset])
        {
            e++;
        }

        for (int attempt = 0; attempt < 3; attempt++)
        {
            int result = Search(center, lower, upper, shift, e, out ulong digits, out int count);
            if (result == 0)
            {
                written = Format(to, v < 0, digits, count, e);
                return true;
            }

            if (result == Undecided)
            {
                return false;
            }

            e += result;                                    // -1 or +1: the exponent guess was off
        }

        return false;
    }

    private const int Undecided = 2;

    private const int Pow10DoubleOffset = 5;

    // 10^-5 .. 10^16 as doubles (the nearest double where inexact), for the exponent estimate.
    private static readonly double[] Pow10Double = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

    /// <summary>
    /// Finds the shortest decimal in the interval with the decimal exponent <paramref name="e"/>: 0 and the digits
    /// (without trailing zeros) and how many; -1 or +1 when the digits show <paramref name="e"/> is off by one;
    /// <see cref="Undecided"/> when the scale is out of the table.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Search(ulong center, ulong lower, ulong upper, int shift, int e, out ulong digits, out int count)
    {
        digits = 0;
        count = 0;
        int t = 14 - e;                                     // 15 digits: units of 10^-t
        if (t < 0 || t + 2 >= Pow10.Length)
        {
            return Undecided;
        }

        UInt128 p = Pow10[t];
        UInt128 lo = lower * p;
        UInt128 hi = upper * p;
        UInt128 mask = (UInt128.One << shift) - 1;
        for (int k = 15; k <= 17; k++)
        {
            // The decimals inside (none can sit exactly on a bound in this range; see the remarks).
            ulong first = (ulong)(lo >> shift) + 1;
            ulong last = (ulong)(hi >> shift);
            if ((hi & mask) == 0)
            {
                last--;
            }

            if (first <= last)
            {
                ulong pick = first;
                if (first != last)
                {
                    // The nearest; exactly halfway (a ends in 5 one digit further), the even one, as .NET picks it.
                    UInt128 exact = center * Pow10[t + k - 15];
                    UInt128 half = UInt128.One << (shift - 1);
                    UInt128 rest = exact & mask;
                    ulong below = (ulong)(exact >> shift);
                    pick = below + (rest > half || (rest == half && (below & 1) == 1) ? 1UL : 0UL);
                    pick = Math.Clamp(pick, first, last);
                }

                ulong floor = (ulong)Pow10[k - 1];
                if (pick < floor)
                {
                    return -1;                              // fewer than k digits: a is below 10^e
                }

                if (pick >= floor * 10)
                {
                    return 1;                               // more than k digits: a is at or above 10^(e+1)
                }

                count = k;
                if (k == 15)
                {
                    while (pick % 10 == 0)
                    {
                        pick /= 10;
                        count--;
                    }
                }

                digits = pick;
                return 0;
            }

            lo = (lo << 3) + (lo << 1);                     // one digit more
            hi = (hi << 3) + (hi << 1);
        }

        return Undecided;                                   // unreachable: 17 digits always fit an interval
    }

    /// <summary>Fixed notation: <paramref name="count"/> digits, the first of weight 10^<paramref name="e"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Format(Span<byte> to, bool negative, ulong digits, int count, int e)
    {
        int n = 0;
        if (negative)
        {
            to[n++] = (byte)'-';
        }

        int whole = e + 1;                                  // digits before the point
        int point = -1;                                     // where the point goes among the digits, or -1 for none
        if (whole <= 0)
        {
            // "0." and the zeros after the point, then all the digits.
            to[n++] = (byte)'0';
            to[n++] = (byte)'.';
            for (int i = 0; i < -whole; i++)
            {
                to[n++] = (byte)'0';
            }
        }
        else if (count > whole)
        {
            point = n + whole;
        }

        // The digits right to left, stepping over the point.
        int end = n + count + (point >= 0 ? 1 : 0);
        int at = end;
        while (at > n)
        {
            if (--at == point)
            {
                to[at] = (byte)'.';
                continue;
            }

            (digits, ulong digit) = Math.DivRem(digits, 10UL);
            to[at] = (byte)('0' + (int)digit);
        }

        for (int i = count; i < whole; i++)
        {
            to[end++] = (byte)'0';                          // a whole number with trailing zeros
        }

        return end;
    }

    private static UInt128[] MakePowers()
    {
        var powers = new UInt128[21];
        powers[0] = UInt128.One;
        for (int i = 1; i < powers.Length; i++)
        {
            powers[i] = powers[i - 1] * 10;
        }

        return powers;
    }
}
