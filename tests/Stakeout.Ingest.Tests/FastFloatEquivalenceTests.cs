using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Stakeout.Ingest.Tests;

/// <summary>
/// FastFloat must agree with the framework's parser bit for bit and consume exactly the number, whatever follows it:
/// its eight-bytes-at-a-time digit scan reads past the number, so the bytes after it are varied on purpose.
/// </summary>
public sealed partial class FastFloatEquivalenceTests
{
    private static readonly byte[] Alphabet = "0123456789012345678901234567890123456789.-+eE,\r x:/"u8.ToArray().Concat(new byte[] { 0x00, 0x7F, 0x80, 0x96, 0xFF }).ToArray();

    [GeneratedRegex(@"\A[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", RegexOptions.CultureInvariant)]
    private static partial Regex PlainNumber();

    [GeneratedRegex(@"\A[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE](?![+-]?[0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex DanglingExponent();

    public static TheoryData<string> Cells => new()
    {
        "0", "-1", "80", "54865", "4145.050705", "78.20850387", "1272727.273", "0.000123", "12345678", "123456789",
        "1234567890123456789", "12345678901234567890", "00000000000000000000001", "9.999999999e9", "1e10", "3.4028235e38",
        "1e39", "1e-46", "1.5E+5", "16777217", "16777216.5", "0.1", ".5", "5.", "-0", "+7", "1e99999", "-2.5e-3",
    };

    [Theory]
    [MemberData(nameof(Cells))]
    public void TryParsePrefix_KnownCell_MatchesFrameworkBitForBit(string cell)
    {
        foreach (string after in new[] { "", ",", "\r\n", ",BENIGN\r\n", ",0,0,0,0,0,0,0,0", "x", ".", "e", "9" })
        {
            AssertAgrees(Encoding.ASCII.GetBytes(cell + after));
        }
    }

    [Fact]
    public void TryParsePrefix_SeededRandomText_MatchesFrameworkAndConsumesTheWholeNumber()
    {
        var random = new Random(20171);
        var buffer = new byte[40];
        for (int n = 0; n < 200_000; n++)
        {
            int length = random.Next(0, buffer.Length);
            for (int k = 0; k < length; k++)
            {
                buffer[k] = Alphabet[random.Next(Alphabet.Length)];
            }

            AssertAgrees(buffer.AsSpan(0, length).ToArray());
        }
    }

    [Fact]
    public void TryParsePrefix_RealCicCells_MatchFramework()
    {
        // One row of the original file, its numbers at every offset of an 8-byte word.
        byte[] row = "53,76718,4,2,136,182,34,34,34,0,91,91,91,0,4145.050705,78.20850387,15343.6,31572.8238,71689,3,-1,-1,0,BENIGN\r\n"u8.ToArray();
        for (int start = 0; start < row.Length; start++)
        {
            AssertAgrees(row[start..]);
        }
    }

    private static void AssertAgrees(byte[] text)
    {
        string s = Encoding.Latin1.GetString(text);
        int pos = 0;
        bool parsed = FastFloat.TryParsePrefix(text, ref pos, out float value);
        var match = PlainNumber().Match(s);
        bool expected = match.Success && !DanglingExponent().IsMatch(s);
        Assert.True(expected == parsed, $"'{Escape(s)}': parsed {parsed}, expected {expected}");
        if (!parsed)
        {
            Assert.Equal(0, pos);
            return;
        }

        Assert.True(match.Length == pos, $"'{Escape(s)}': consumed {pos} bytes, the number has {match.Length}");
        Assert.True(float.TryParse(match.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out float reference), match.Value);
        Assert.True(BitConverter.SingleToInt32Bits(reference) == BitConverter.SingleToInt32Bits(value), $"'{match.Value}': {value:R}, framework {reference:R}");
    }

    private static string Escape(string s) => string.Concat(s.Select(c => c is < ' ' or > '~' ? $"\\x{(int)c:X2}" : c.ToString()));
}
