using System.Globalization;
using System.Text;
using Stakeout.FlowMeter.Output;

namespace Stakeout.FlowMeter.Tests;

/// <summary>
/// <see cref="ShortestDouble"/> must write what <c>double.ToString("R")</c> writes, byte for byte, whenever it writes
/// anything, and must write for nearly every value in its range (else it is no faster).
/// </summary>
public sealed class ShortestDoubleTests
{
    private static readonly double[] Edges =
    [
        0.0001, 0.00010000000000000002, 0.0009999999999999998, 0.001, 0.01, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3,
        0.30000000000000004, 1.5, 1.0000000000000002, 1.9999999999999998, 2.0000000000000004, 9.999999999999998,
        10.000000000000002, 123.456, 163.33333333333334, 1234567.8901234567, 99999999999999.98, 999999999999999.9,
        999999999999999.8, 123456789012345.6, 4.35, 2.675, 0.1 + 0.7, 5e-4, 7.0 / 9, 1e14 + 0.5, 8.589973e9,
        Math.PI, Math.E, Math.BitIncrement(0.0001), Math.BitDecrement(1e15), Math.BitIncrement(1.0), Math.BitDecrement(2.0),
        Math.BitIncrement(1024.0), Math.BitDecrement(1024.0), 0.5, 0.25, 0.125, 0.0625, 1.0 / 1024,
        562949953421312.25, 562949953421312.75, // exactly halfway between two 16-digit decimals: the even one
    ];

    [Fact]
    public void EdgeValues_WrittenAsDotNetWritesThem()
    {
        foreach (double v in Edges)
        {
            AssertSame(v);
            AssertSame(-v);
        }
    }

    [Fact]
    public void RandomBitPatternsInRange_SameAsDotNet_AndAlmostAllHandled()
    {
        var random = new Random(2017);
        long lowBits = BitConverter.DoubleToInt64Bits(ShortestDouble.Min);
        long highBits = BitConverter.DoubleToInt64Bits(ShortestDouble.Max);
        int handled = 0;
        const int n = 1_000_000;
        for (int i = 0; i < n; i++)
        {
            double v = BitConverter.Int64BitsToDouble(random.NextInt64(lowBits, highBits));
            handled += AssertSame(v) ? 1 : 0;
        }

        Assert.True(handled > n * 0.999, $"handled {handled} of {n}");
    }

    [Fact]
    public void FlowFeatureLikeValues_SameAsDotNet()
    {
        // Means, rates and deviations: ratios of small integers, scaled by powers of ten, and their neighbours.
        var random = new Random(7);
        for (int i = 0; i < 300_000; i++)
        {
            double v = random.Next(1, 2_000_000) / (double)random.Next(1, 5000) * Math.Pow(10, random.Next(-3, 8));
            AssertSame(v);
            AssertSame(Math.BitIncrement(v));
            AssertSame(Math.BitDecrement(v));
            AssertSame(Math.Sqrt(v));
        }
    }

    [Fact]
    public void ShortDecimalsAndTheirNeighbours_SameAsDotNet()
    {
        // Values with few digits, where the shortest decimal is short and a neighbour's is not.
        var random = new Random(11);
        for (int i = 0; i < 300_000; i++)
        {
            int digits = random.Next(1, 16);
            long mantissa = random.NextInt64(1, (long)Math.Pow(10, digits));
            double v = double.Parse(string.Create(CultureInfo.InvariantCulture, $"{mantissa}e{random.Next(-4 - digits, 15 - digits)}"), CultureInfo.InvariantCulture);
            AssertSame(v);
            AssertSame(Math.BitIncrement(v));
            AssertSame(Math.BitDecrement(v));
        }
    }

    [Fact]
    public void PowersOfTwoAndTen_WhereTheGapBelowIsHalf_SameAsDotNet()
    {
        for (int exp = -14; exp < 50; exp++)
        {
            double two = Math.ScaleB(1.0, exp);
            AssertSame(two);
            AssertSame(Math.BitIncrement(two));
            AssertSame(Math.BitDecrement(two));
        }

        for (int exp = -4; exp < 15; exp++)
        {
            double ten = Math.Pow(10, exp);
            for (int step = -3; step <= 3; step++)
            {
                double v = ten;
                for (int s = 0; s < Math.Abs(step); s++)
                {
                    v = step < 0 ? Math.BitDecrement(v) : Math.BitIncrement(v);
                }

                AssertSame(v);
            }
        }
    }

    [Fact]
    public void OutOfRange_NotWritten()
    {
        Span<byte> buffer = stackalloc byte[32];
        foreach (double v in new[] { 0.0, 9.99e-5, 1e-300, 1e15, 1e300, double.NaN, double.PositiveInfinity, double.Epsilon })
        {
            Assert.False(ShortestDouble.TryWrite(buffer, v, out _), v.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Same bytes as .NET when written; returns whether it was.</summary>
    private static bool AssertSame(double v)
    {
        Span<byte> buffer = stackalloc byte[32];
        if (!ShortestDouble.TryWrite(buffer, v, out int n))
        {
            return false;
        }

        string expected = v.ToString("R", CultureInfo.InvariantCulture);
        string actual = Encoding.ASCII.GetString(buffer[..n]);
        Assert.True(expected == actual, $"bits 0x{BitConverter.DoubleToInt64Bits(v):X16}: .NET {expected}, ShortestDouble {actual}");
        return true;
    }
}
