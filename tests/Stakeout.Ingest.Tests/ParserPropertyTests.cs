using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Stakeout.Ingest.Tests;

/// <summary>FsCheck properties of the number and timestamp parsers, with fixed seeds so a failure replays.</summary>
public sealed class ParserPropertyTests
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Decimal text as CSV writers produce it and beyond: signs, long digit runs, leading zeros, exponents.</summary>
    private static Gen<string> NumberText()
    {
        var digits = Gen.Choose(0, 9).Select(d => (char)('0' + d));
        Gen<string> Digits(int min, int max) => Gen.Choose(min, max).SelectMany(n => Gen.ArrayOf(digits, n)).Select(a => new string(a));
        var sign = Gen.Elements("", "", "-", "+");
        var fraction = Gen.OneOf(Gen.Constant(""), Gen.Constant("."), Digits(1, 30).Select(d => "." + d));
        var exponent = Gen.OneOf(
            Gen.Constant(""),
            from e in Gen.Elements("e", "E") from sg in Gen.Elements("", "+", "-") from n in Gen.Choose(0, 50) select e + sg + n.ToString(Inv),
            from e in Gen.Elements("e", "E") from sg in Gen.Elements("", "-") from n in Gen.Choose(0, 400) select e + sg + n.ToString(Inv));
        var plain = from sg in sign from i in Digits(1, 30) from f in fraction from e in exponent select sg + i + f + e;
        var leadingDot = from sg in sign from d in Digits(1, 12) select sg + "." + d;
        // Integers past 2^24 and halves land on float ties, where rounding through double could go wrong.
        var ties = from i in Gen.Choose(1 << 24, int.MaxValue) from half in Gen.Elements("", ".5", ".25", "e3", "e-3") select i.ToString(Inv) + half;
        return Gen.Frequency((8, plain), (1, leadingDot), (3, ties));
    }

    /// <summary>Values round-tripped through the formats real files use (CICFlowMeter doubles, pandas floats, rounding to 10 digits).</summary>
    private static Gen<string> FormattedValue()
    {
        var bits = Gen.Choose(int.MinValue, int.MaxValue).Two().Select(t => ((long)t.Item1 << 32) | (uint)t.Item2);
        var doubles = bits.Select(BitConverter.Int64BitsToDouble).Where(double.IsFinite);
        var scaled = Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Choose(-12, 12)).Select(t => t.Item1 * Math.Pow(10, t.Item2));
        var formats = Gen.Elements("R", "G9", "G10", "G17", "E8", "F1", "F6", "0.0");
        return Gen.Zip(Gen.OneOf(doubles, scaled), formats).Select(t => t.Item1.ToString(t.Item2, Inv));
    }

    [Property(MaxTest = 3000, Replay = "(101,203)")]
    public Property TryParseField_DecimalText_IsBitIdenticalToFloatParse()
        => Prop.ForAll(NumberText().ToArbitrary(), text => AgreesWithFramework(text).Label(text));

    [Property(MaxTest = 3000, Replay = "(7,9)")]
    public Property TryParseField_FormattedDoubles_AreBitIdenticalToFloatParse()
        => Prop.ForAll(FormattedValue().ToArbitrary(), text => AgreesWithFramework(text).Label(text));

    [Property(MaxTest = 2000, Replay = "(31,37)")]
    public Property TryParseField_FloatRoundTripText_GivesTheSameFloat()
        => Prop.ForAll(
            Gen.Choose(int.MinValue, int.MaxValue).Select(BitConverter.Int32BitsToSingle).Where(float.IsFinite).ToArbitrary(),
            value =>
            {
                string text = value.ToString("R", Inv);
                return (FastFloat.TryParseField(Encoding.ASCII.GetBytes(text), out float parsed)
                        && BitConverter.SingleToInt32Bits(parsed) == BitConverter.SingleToInt32Bits(value)).Label(text);
            });

    [Property(MaxTest = 2000, Replay = "(41,43)")]
    public Property TryParsePrefix_NumberFollowedByAComma_StopsAtTheComma()
        => Prop.ForAll(NumberText().ToArbitrary(), text =>
        {
            byte[] bytes = Encoding.ASCII.GetBytes(text + ",12");
            int pos = 0;
            bool expected = float.TryParse(text, NumberStyles.Float, Inv, out float framework);
            bool ok = FastFloat.TryParsePrefix(bytes, ref pos, out float value);
            // The prefix parser may decline ("1." is fine, "." is not a number) but never mis-reads.
            return (!ok || (expected && pos == text.Length && Same(value, framework))).Label(text);
        });

    [Theory]
    [InlineData("Infinity")]
    [InlineData("NaN")]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("e5")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("0x10")]
    [InlineData("1,5")]
    [InlineData("1.2.3")]
    [InlineData("--1")]
    [InlineData("12abc")]
    public void TryParseField_NotADecimal_IsFalseOrAgreesWithTheFramework(string text)
    {
        bool ok = FastFloat.TryParseField(Encoding.ASCII.GetBytes(text), out float value);
        bool expected = float.TryParse(text, NumberStyles.Float, Inv, out float framework);

        Assert.Equal(expected, ok);
        if (ok)
        {
            Assert.True(Same(value, framework));
        }
    }

    [Theory]
    [InlineData("80.0", 80f)]
    [InlineData("666666.6667", 666666.6667f)]
    [InlineData("1.3969908357556315E15", 1.3969908357556315E15f)]
    [InlineData("-1", -1f)]
    [InlineData("-0", -0f)]
    [InlineData("0.000001", 1e-6f)]
    [InlineData("3.4028235e38", float.MaxValue)]
    [InlineData("1e39", float.PositiveInfinity)]
    [InlineData("1e-50", 0f)]
    [InlineData("123456789012345678901234567890", 1.2345679e29f)]
    public void TryParseField_KnownValues_AreExact(string text, float expected)
    {
        Assert.True(FastFloat.TryParseField(Encoding.ASCII.GetBytes(text), out float value));
        Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(value));
    }

    private static Gen<DateTime> Times(int firstHour, int lastHour, bool fraction)
        => from year in Gen.Choose(1990, 2040)
           from month in Gen.Choose(1, 12)
           from day in Gen.Choose(1, DateTime.DaysInMonth(year, month))
           from hour in Gen.Choose(firstHour, lastHour)
           from minute in Gen.Choose(0, 59)
           from second in Gen.Choose(0, 59)
           from ms in Gen.Choose(0, fraction ? 999 : 0)
           select new DateTime(year, month, day, hour, minute, second, ms);

    private static bool ParsesTo(string text, bool inferAfternoon, DateTime expected, bool expectInferred)
        => FlowTimestamp.TryParse(Encoding.ASCII.GetBytes(text), inferAfternoon, out var value, out bool inferred)
           && value == expected && value.Kind == DateTimeKind.Unspecified && inferred == expectInferred;

    [Property(MaxTest = 1000, Replay = "(11,13)")]
    public Property TryParse_CicIds2017TwelveHourClockWithoutMeridiem_ReadsTheWorkingDay()
        => Prop.ForAll(Times(8, 19, fraction: false).ToArbitrary(), t =>
        {
            // CIC-IDS2017 writes "7/7/2017 3:30" for 15:30: a 12-hour clock with no AM/PM; captures ran 08:00-18:00.
            string minutes = t.ToString("d/M/yyyy h:mm", Inv);
            string seconds = t.ToString("d/M/yyyy h:mm:ss", Inv);
            bool pm = t.Hour is >= 13 and <= 19;
            return (ParsesTo(minutes, true, t.AddSeconds(-t.Second), pm) && ParsesTo(seconds, true, t, pm)).Label(seconds);
        });

    [Property(MaxTest = 1000, Replay = "(17,19)")]
    public Property TryParse_TwentyFourHourAndMeridiemAndIsoForms_AreExact()
        => Prop.ForAll(Times(0, 23, fraction: true).ToArbitrary(), t =>
        {
            var whole = t.AddMilliseconds(-t.Millisecond);
            string v4 = whole.ToString("dd/MM/yyyy hh:mm:ss tt", Inv);          // CICFlowMeter-V4
            string cse = whole.ToString("dd/MM/yyyy HH:mm:ss", Inv);            // CSE-CIC-IDS2018
            string iso = t.ToString("yyyy-MM-dd HH:mm:ss.fff", Inv);            // ISO with a fraction
            string isoT = whole.ToString("yyyy-MM-dd'T'HH:mm:ss", Inv);
            string h24 = whole.ToString("d/M/yyyy H:mm:ss", Inv);
            // Afternoon inference applies to any form without AM/PM (it is the layout's clock that is 12-hour), so the
            // 24-hour forms are checked with it off and the AM/PM form with it on.
            return (ParsesTo(v4, true, whole, false) && ParsesTo(cse, false, whole, false) && ParsesTo(iso, false, t, false)
                    && ParsesTo(isoT, false, whole, false) && ParsesTo(h24, false, whole, false)).Label(v4 + " | " + iso);
        });

    [Property(MaxTest = 2000, Replay = "(23,29)")]
    public Property TryParse_ArbitraryText_NeverThrows()
        => Prop.ForAll(
            Gen.ArrayOf(Gen.Elements("0", "1", "2", "9", "/", ":", " ", "-", "T", ".", "AM", "PM", "x", "31", "12", "2017", "99999")).Select(a => string.Concat(a)).ToArbitrary(),
            text =>
            {
                bool ok = FlowTimestamp.TryParse(Encoding.ASCII.GetBytes(text), true, out var value, out _);
                return (!ok || value.Year >= 1).Label(text);
            });

    [Theory]
    [InlineData("31/4/2017 9:00")]
    [InlineData("29/2/2017 9:00")]
    [InlineData("7/13/2017 9:00")]
    [InlineData("7/7/2017 24:00")]
    [InlineData("7/7/2017 9:60")]
    [InlineData("7/7/2017 9:5")]
    [InlineData("7/7/2017 13:00 PM")]
    [InlineData("7/7/2017 0:10 AM")]
    [InlineData("7/7/17 9:00")]
    [InlineData("7/7/2017")]
    [InlineData("2017-07-07")]
    [InlineData("7/7/2017 9:00:00.")]
    [InlineData("7/7/2017 9:00 XM")]
    public void TryParse_InvalidTimestamp_IsFalse(string text)
    {
        Assert.False(FlowTimestamp.TryParse(Encoding.ASCII.GetBytes(text), true, out _, out _));
    }

    [Fact]
    public void TryParse_InferenceOff_KeepsTheHourAsWritten()
    {
        Assert.True(FlowTimestamp.TryParse("7/7/2017 3:30"u8, false, out var value, out bool inferred));
        Assert.Equal(new DateTime(2017, 7, 7, 3, 30, 0), value);
        Assert.False(inferred);
    }

    private static bool AgreesWithFramework(string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        bool expected = float.TryParse(text, NumberStyles.Float, Inv, out float framework);
        bool ok = FastFloat.TryParseField(bytes, out float value);
        return ok == expected && (!ok || Same(value, framework));
    }

    private static bool Same(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);
}
