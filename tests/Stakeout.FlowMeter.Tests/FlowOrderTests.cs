using Stakeout.FlowMeter.Flows;
using Stakeout.FlowMeter.Output;
using static Stakeout.FlowMeter.Tests.Packets;

namespace Stakeout.FlowMeter.Tests;

/// <summary>
/// Row order: CICFlowMeter-V4 writes the flows still open at the end in its HashMap's order and, in its GUI, before the
/// flows a packet ended. The fixture's Flow IDs were chosen so that hash order differs from start order; the buckets in
/// the comments are Java's (String.hashCode, spread, 16 buckets), computed outside this code.
/// </summary>
public sealed class FlowOrderTests
{
    private const string Server = "10.0.0.2";
    private const long T0 = 1_500_000_000_000_000;

    // A1: 10.0.0.1:40000 -> server, ended by the server's FIN (3 packets). The same Flow ID opens again (A2, 2 packets).
    // D 10.0.0.4:40002 (bucket 15), G 10.0.0.7:40005 (bucket 5), A2 10.0.0.1:40000 (bucket 8), E 10.0.0.5:40003 (bucket 9).
    private static readonly (long Micros, byte[] Frame)[] Capture =
    [
        (T0 + 0, TcpFrame("10.0.0.1", 40000, Server, 80, Syn)),
        (T0 + 10, TcpFrame(Server, 80, "10.0.0.1", 40000, Syn | Ack)),
        (T0 + 20, TcpFrame(Server, 80, "10.0.0.1", 40000, Fin | Ack)),
        (T0 + 30, TcpFrame("10.0.0.4", 40002, Server, 80, Ack, 10)),
        (T0 + 40, TcpFrame(Server, 80, "10.0.0.4", 40002, Ack)),
        (T0 + 50, TcpFrame("10.0.0.7", 40005, Server, 80, Ack, 10)),
        (T0 + 60, TcpFrame(Server, 80, "10.0.0.7", 40005, Ack)),
        (T0 + 70, TcpFrame("10.0.0.1", 40000, Server, 80, Ack)),
        (T0 + 80, TcpFrame(Server, 80, "10.0.0.1", 40000, Ack)),
        (T0 + 90, TcpFrame("10.0.0.5", 40003, Server, 80, Ack, 10)),
        (T0 + 100, TcpFrame(Server, 80, "10.0.0.5", 40003, Ack)),
    ];

    private const string A = "10.0.0.1-10.0.0.2-40000-80-6";
    private const string D = "10.0.0.4-10.0.0.2-40002-80-6";
    private const string E = "10.0.0.5-10.0.0.2-40003-80-6";
    private const string G = "10.0.0.7-10.0.0.2-40005-80-6";

    [Fact]
    public void JavaStringHash_KnownStrings_EqualJavaHashCode()
    {
        Assert.Equal(99162322, JavaHashMapOrder.StringHash("hello"));
        Assert.Equal(int.MinValue, JavaHashMapOrder.StringHash("polygenelubricants"));
        Assert.Equal(JavaHashMapOrder.StringHash("Aa"), JavaHashMapOrder.StringHash("BB"));
        Assert.Equal(0, JavaHashMapOrder.StringHash(string.Empty));
        Assert.Equal(-1550767143, JavaHashMapOrder.StringHash(A));
    }

    [Fact]
    public void JavaFlowIdHash_OfAnyIPv4Flow_EqualsTheHashOfItsFlowIdText()
    {
        var random = new Random(23);
        uint[] edges = [0, 1, 9, 10, 99, 100, 255, 0x0A000001, 0xC0A80A32, 0xFFFFFFFF];
        ushort[] ports = [0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535];
        for (int i = 0; i < 20_000; i++)
        {
            uint s = i < edges.Length ? edges[i] : (uint)random.NextInt64(1L << 32);
            uint d = (uint)random.NextInt64(1L << 32);
            ushort sp = i < ports.Length ? ports[i] : (ushort)random.Next(65536), dp = (ushort)random.Next(65536);
            byte proto = (byte)random.Next(256);
            var src = new Stakeout.FlowMeter.Decoding.Address(0, s, false);
            var dst = new Stakeout.FlowMeter.Decoding.Address(0, d, false);

            string text = FlowTable.FlowIdText(src, dst, sp, dp, proto);

            Assert.Equal(JavaHashMapOrder.StringHash(text), FlowTable.JavaFlowIdHash(src, dst, sp, dp, proto));
        }
    }

    [Fact]
    public void CicFlowMeterOrder_ManyFlows_OpenFlowsInBucketOrderOfTheirIdsHash()
    {
        // 300 open flows (the table grows to 512 buckets): the CSV's order must follow the Java hash of each written
        // Flow ID, bucket by bucket, which checks the meter's own hashing against the text it writes.
        var packets = new List<(long, byte[])>();
        for (int i = 0; i < 300; i++)
        {
            string client = $"10.1.{i / 200}.{i % 200 + 1}";
            packets.Add((T0 + (i * 10), TcpFrame(client, (ushort)(30000 + i), Server, 443, Ack, 10)));
            packets.Add((T0 + (i * 10) + 5, TcpFrame(Server, 443, client, (ushort)(30000 + i), Ack)));
        }

        var rows = WriteCsv(new FlowMeterOptions { Order = FlowOrder.CicFlowMeter }, [.. packets]);
        Assert.Equal(300, rows.Count);
        int[] buckets = [.. rows.Select(r => JavaHashMapOrder.Bucket(JavaHashMapOrder.StringHash(r.Id), 512))];
        Assert.Equal(buckets.Order(), buckets);
        Assert.True(buckets.Distinct().Count() > 100, "the fixture should spread over many buckets");
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(12, 16)]
    [InlineData(13, 32)]
    [InlineData(24, 32)]
    [InlineData(25, 64)]
    [InlineData(283_000, 524_288)]
    public void JavaCapacity_PeakSize_DoublesPastThreeQuarters(long peak, int capacity)
        => Assert.Equal(capacity, JavaHashMapOrder.Capacity(peak));

    [Fact]
    public void JavaBucket_HighBits_FoldedIntoLowBits()
    {
        Assert.Equal(1, JavaHashMapOrder.Bucket(0x10000, 16));
        Assert.Equal(8, JavaHashMapOrder.Bucket(JavaHashMapOrder.StringHash(A), 16));
        Assert.Equal(15, JavaHashMapOrder.Bucket(JavaHashMapOrder.StringHash(D), 16));
    }

    [Fact]
    public void CicFlowMeterOrder_Csv_OpenFlowsInHashMapOrderThenEndedFlows()
    {
        var rows = WriteCsv(new FlowMeterOptions { Order = FlowOrder.CicFlowMeter });

        Assert.Equal([G, A, E, D, A], rows.Select(r => r.Id));
        Assert.Equal(2, rows[1].Packets); // A2, still open at the end
        Assert.Equal(3, rows[4].Packets); // A1, ended by the FIN, written last
    }

    [Fact]
    public void CicFlowMeterCommandLineOrder_Csv_EndedFlowsThenOpenFlowsInHashMapOrder()
    {
        var rows = WriteCsv(new FlowMeterOptions { Order = FlowOrder.CicFlowMeterCommandLine });

        Assert.Equal([A, G, A, E, D], rows.Select(r => r.Id));
        Assert.Equal(3, rows[0].Packets);
    }

    [Fact]
    public void AsEndedOrder_Csv_EndedFlowsThenOpenFlowsOldestFirst()
    {
        var rows = WriteCsv(new FlowMeterOptions());

        Assert.Equal([A, D, G, A, E], rows.Select(r => r.Id));
    }

    [Fact]
    public void CicFlowMeterOrder_Read_SameOrderAsTheCsv()
    {
        string path = Path.Combine(Path.GetTempPath(), $"stakeout-order-{Guid.NewGuid():N}.pcap");
        File.WriteAllBytes(path, Pcap(Capture));
        try
        {
            var flows = FlowExtraction.Read(path, new FlowMeterOptions { Order = FlowOrder.CicFlowMeter }, out _);
            Assert.Equal([G, A, E, D, A], flows.Select(f => f.FlowId));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CicFlowMeterOrders_TimedOutFlowWithoutLaterPacket_WaitsForTheEndLikeV4()
    {
        // X times out at 120 s with no packet of its own after; Y ends by a FIN at 200 s. V4 has no sweep: X stays in
        // its map and is written at the end, after Y. The sweep (AsEnded) reports X as soon as the clock passes it.
        (long, byte[])[] capture =
        [
            (T0, TcpFrame("10.0.0.1", 40000, Server, 80, Ack, 10)),
            (T0 + 1_000_000, TcpFrame(Server, 80, "10.0.0.1", 40000, Ack)),
            (T0 + 150_000_000, TcpFrame("10.0.0.3", 40001, Server, 80, Ack, 10)),
            (T0 + 200_000_000, TcpFrame(Server, 80, "10.0.0.3", 40001, Fin | Ack)),
        ];
        const string X = A, Y = "10.0.0.3-10.0.0.2-40001-80-6";

        Assert.Equal([Y, X], WriteCsv(new FlowMeterOptions { Order = FlowOrder.CicFlowMeterCommandLine }, capture).Select(r => r.Id));
        Assert.Equal([X, Y], WriteCsv(new FlowMeterOptions { Order = FlowOrder.CicFlowMeter }, capture).Select(r => r.Id));
        Assert.Equal([X, Y], WriteCsv(new FlowMeterOptions(), capture).Select(r => r.Id));
    }

    [Fact]
    public void CicFlowMeterOrder_ConversationResumesAfterItsTombstoneWasReclaimed_HeldRowWrittenAtThatPacket()
    {
        // X (2 packets) times out at 120 s; the sweep at 260 s reclaims its tombstone (older than two flow timeouts) and
        // parks its held row. X's next packet at 300 s is where V4 writes the timed-out flow: an ended flow, so after the
        // end-of-capture dump of X's next flow (3 packets) and Y in the GUI order, first in the command line's.
        (long, byte[])[] capture =
        [
            (T0, TcpFrame("10.0.0.1", 40000, Server, 80, Ack, 10)),
            (T0 + 1_000_000, TcpFrame(Server, 80, "10.0.0.1", 40000, Ack)),
            (T0 + 150_000_000, TcpFrame("10.0.0.3", 40001, Server, 80, Ack, 10)),
            (T0 + 260_000_000, TcpFrame(Server, 80, "10.0.0.3", 40001, Ack)),
            (T0 + 300_000_000, TcpFrame("10.0.0.1", 40000, Server, 80, Ack, 10)),
            (T0 + 301_000_000, TcpFrame(Server, 80, "10.0.0.1", 40000, Ack)),
            (T0 + 302_000_000, TcpFrame(Server, 80, "10.0.0.1", 40000, Ack)),
        ];
        const string X = A, Y = "10.0.0.3-10.0.0.2-40001-80-6";

        var gui = WriteCsv(new FlowMeterOptions { Order = FlowOrder.CicFlowMeter }, capture);
        var cmd = WriteCsv(new FlowMeterOptions { Order = FlowOrder.CicFlowMeterCommandLine }, capture);

        Assert.Equal(3, gui.Count);
        Assert.Equal((X, 2), gui[^1]);
        Assert.Equal((X, 2), cmd[0]);
        Assert.Equal(gui[..2], cmd[1..]);
        Assert.Contains((X, 3), gui);
        Assert.Contains((Y, 2), gui);
    }

    [Fact]
    public void Validate_CicOrderInCorrectedMode_Throws()
    {
        var options = new FlowMeterOptions { Mode = FlowMeterMode.Corrected, Order = FlowOrder.CicFlowMeter };
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("Order", ex.Message, StringComparison.Ordinal);
    }

    private static List<(string Id, int Packets)> WriteCsv(FlowMeterOptions options, (long, byte[])[]? capture = null)
    {
        string path = Path.Combine(Path.GetTempPath(), $"stakeout-order-{Guid.NewGuid():N}.pcap");
        File.WriteAllBytes(path, Pcap(capture ?? Capture));
        try
        {
            var text = new StringWriter();
            var reports = FlowExtraction.WriteCsv([path], options, text, TimeZoneInfo.Utc);
            string[] lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(string.Join(',', CicFlowCsvWriter.Header), lines[0]);
            Assert.Equal(lines.Length - 1, Assert.Single(reports).FlowsWritten);
            int fwd = Array.IndexOf([.. CicFlowCsvWriter.Header], "Total Fwd Packet");
            return [.. lines.Skip(1).Select(l => l.Split(',')).Select(c => (c[0], int.Parse(c[fwd]) + int.Parse(c[fwd + 1])))];
        }
        finally
        {
            File.Delete(path);
        }
    }
}
