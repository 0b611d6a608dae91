using Stakeout.FlowMeter.Flows;
using Stakeout.FlowMeter.Output;
using static Stakeout.FlowMeter.Tests.Packets;

namespace Stakeout.FlowMeter.Tests;

public sealed class CicFlowCsvWriterTests
{
    [Fact]
    public void OnFlow_ZeroDurationFlow_WritesV4LayoutWithJavaSpecialValues()
    {
        var text = new StringWriter();
        using (var writer = new CicFlowCsvWriter(text, TimeZoneInfo.Utc, ownsWriter: false))
        {
            var meter = new PacketFlowMeter(new FlowMeterOptions(), writer);
            long t = 1_463_434_442_000_000; // 2016-05-16 21:34:02 UTC
            meter.Process(1, t, TcpFrame("10.0.0.1", 40000, "10.0.0.2", 80, Ack, 10));
            meter.Process(1, t, TcpFrame("10.0.0.2", 80, "10.0.0.1", 40000, Ack));
            meter.Flush();
        }

        string[] lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal(string.Join(',', CicFlowCsvWriter.Header), lines[0]);
        string[] cells = lines[1].Split(',');
        Assert.Equal(84, cells.Length);
        Assert.Equal("10.0.0.1-10.0.0.2-40000-80-6", cells[0]);
        Assert.Equal("16/05/2016 09:34:02 PM", cells[6]);
        Assert.Equal("Infinity", cells[Array.IndexOf([.. CicFlowCsvWriter.Header], "Flow Bytes/s")]);
        // 10 twice, then 0, averaged incrementally as Commons Math does: the last digit is V4's, not 20 / 3 rounded.
        Assert.Equal("6.666666666666666", cells[Array.IndexOf([.. CicFlowCsvWriter.Header], "Packet Length Mean")]);
        Assert.Equal("NeedManualLabel", cells[^1]);
    }
}
