using Stakeout.FlowMeter.Output;

namespace Stakeout.FlowMeter.Tests;

public sealed class OutputTimeZoneTests
{
    private static readonly DateTime Summer = new(2019, 7, 1, 12, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData("+05:30", 330)]
    [InlineData("+0530", 330)]
    [InlineData("UTC+5:30", 330)]
    [InlineData("-03:00", -180)]
    [InlineData("-3", -180)]
    [InlineData("GMT-0930", -570)]
    [InlineData("+14:00", 840)]
    [InlineData("UTC", 0)]
    [InlineData("+00:00", 0)]
    public void Parse_FixedOffset_ThatOffset(string text, int minutes)
        => Assert.Equal(TimeSpan.FromMinutes(minutes), OutputTimeZone.Parse(text).GetUtcOffset(Summer));

    [Fact]
    public void Parse_IanaZone_ResolvesUnderInvariantGlobalization()
    {
        Assert.Equal(TimeSpan.FromMinutes(330), OutputTimeZone.Parse("Asia/Kolkata").GetUtcOffset(Summer));

        // A zone with summer time: the offset follows the date, which a fixed offset cannot do.
        var halifax = OutputTimeZone.Parse("America/Halifax");
        Assert.Equal(TimeSpan.FromHours(-3), halifax.GetUtcOffset(Summer));
        Assert.Equal(TimeSpan.FromHours(-4), halifax.GetUtcOffset(new DateTime(2019, 1, 15, 12, 0, 0, DateTimeKind.Utc)));
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("+15:00")]
    [InlineData("+05:75")]
    [InlineData("+5:3:0")]
    [InlineData("")]
    public void Parse_BadValue_ThrowsNamingTheOption(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => OutputTimeZone.Parse(text, "--timezone"));
        Assert.Contains("--timezone", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CsvWriter_FixedOffset_WritesLocalTimeOfThatZone()
    {
        var text = new StringWriter();
        using (var writer = new CicFlowCsvWriter(text, OutputTimeZone.Parse("+05:30"), ownsWriter: false))
        {
            var meter = new PacketFlowMeter(new Flows.FlowMeterOptions(), writer);
            long t = 1_577_626_513_000_000; // 2019-12-29 13:35:13 UTC
            meter.Process(1, t, Packets.TcpFrame("10.0.0.1", 40000, "10.0.0.2", 80, Packets.Ack, 10));
            meter.Process(1, t + 5, Packets.TcpFrame("10.0.0.2", 80, "10.0.0.1", 40000, Packets.Ack));
            meter.Flush();
        }

        Assert.Equal("29/12/2019 07:05:13 PM", text.ToString().Split('\n')[1].Split(',')[6]);
    }
}
