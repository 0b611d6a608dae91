using Stakeout.FlowMeter.Capture;
using Stakeout.FlowMeter.Decoding;
using static Stakeout.FlowMeter.Tests.Packets;

namespace Stakeout.FlowMeter.Tests;

public sealed class CaptureReaderTests
{
    private static List<(int Link, long Micros, int Length)> ReadAll(byte[] file, WeirdCounters weird)
    {
        using var reader = new CaptureReader(new MemoryStream(file), "test", weird);
        var list = new List<(int, long, int)>();
        while (reader.TryRead(out var r))
        {
            list.Add((r.LinkType, r.TimestampMicros, r.Data.Length));
        }

        return list;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void TryRead_PcapEitherByteOrderAndResolution_SameRecords(bool bigEndian, bool nanos)
    {
        var frames = new[] { (1_463_434_442_543_108L, TcpFrame("10.0.0.1", 1000, "10.0.0.2", 80, Syn)), (1_463_434_442_600_001L, TcpFrame("10.0.0.2", 80, "10.0.0.1", 1000, (byte)(Syn | Ack))) };
        var weird = new WeirdCounters();

        var records = ReadAll(Pcap(frames, bigEndian: bigEndian, nanos: nanos), weird);

        Assert.Equal([(1, 1_463_434_442_543_108L, 60), (1, 1_463_434_442_600_001L, 60)], records);
        Assert.Equal(0, weird.Total);
        Assert.Equal(2, weird.Records);
    }

    [Fact]
    public void TryRead_PcapNgTwoInterfaces_UsesEachInterfacesLinkTypeAndResolution()
    {
        byte[] raw = IPv4("10.0.0.1", "10.0.0.2", 17, Udp(53, 53, 4));
        var file = PcapNg(
            [(1, null), (101, 9)],
            [(0, 1_000_000_123UL, TcpFrame("10.0.0.1", 1, "10.0.0.2", 2, Syn)), (1, 2_000_000_000_456_789UL, raw)],
            simpleFirst: true);
        var weird = new WeirdCounters();

        var records = ReadAll(file, weird);

        // The simple packet block has no time of its own; then microseconds (default) and nanoseconds (if_tsresol 9).
        Assert.Equal([(1, 0L, 60), (1, 1_000_000_123L, 60), (101, 2_000_000_000_456L, raw.Length)], records);
        Assert.Equal(0, weird.Total);
    }

    [Fact]
    public void TryRead_TruncatedLastRecord_CountsWeirdAndStops()
    {
        var file = Pcap([(1_000_000L, TcpFrame("10.0.0.1", 1, "10.0.0.2", 2, Syn)), (2_000_000L, TcpFrame("10.0.0.1", 1, "10.0.0.2", 2, Ack))]);
        var weird = new WeirdCounters();

        var records = ReadAll(file[..^10], weird);

        Assert.Single(records);
        Assert.Equal(1, weird[WeirdReason.TruncatedCaptureRecord]);
    }

    [Fact]
    public void TryRead_CorruptRecordLength_CountsWeirdInsteadOfAllocating()
    {
        var file = Pcap([(1_000_000L, TcpFrame("10.0.0.1", 1, "10.0.0.2", 2, Syn))]);
        BitConverter.GetBytes(0x7FFF_FFFF).CopyTo(file, 24 + 8);
        var weird = new WeirdCounters();

        Assert.Empty(ReadAll(file, weird));
        Assert.Equal(1, weird[WeirdReason.CaptureRecordTooLong]);
    }

    [Fact]
    public void Constructor_NotACapture_ThrowsNamingTheFile()
    {
        var ex = Assert.Throws<InvalidDataException>(() => new CaptureReader(new MemoryStream("hello, world"u8.ToArray()), "notes.txt", new WeirdCounters()));
        Assert.Contains("notes.txt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryRead_SeededRandomCorruption_NeverThrows()
    {
        var frames = Enumerable.Range(0, 40).Select(i => ((long)(i * 1000) + 1_000_000, TcpFrame("10.0.0.1", (ushort)(1000 + (i % 3)), "10.0.0.2", 80, (byte)(i % 7 == 0 ? Fin : Ack), i % 50)));
        byte[] pcap = Pcap(frames);
        byte[] pcapng = PcapNg([(1, null)], frames.Select(f => (0, (ulong)f.Item1, f.Item2)));
        var random = new Random(20260525);
        long weirdSeen = 0;
        foreach (byte[] original in new[] { pcap, pcapng })
        {
            for (int round = 0; round < 300; round++)
            {
                byte[] file = (byte[])original.Clone();
                int flips = random.Next(1, 12);
                for (int i = 0; i < flips; i++)
                {
                    file[random.Next(4, file.Length)] = (byte)random.Next(256); // keep the magic: damage, not a different format
                }

                int cut = random.Next(4, file.Length + 1);
                var sink = new CountingSink();
                var meter = new PacketFlowMeter(new Flows.FlowMeterOptions(), sink);
                try
                {
                    using var reader = new CaptureReader(new MemoryStream(file[..cut]), "fuzz", meter.Weird);
                    meter.ProcessAll(reader);
                    meter.Flush();
                }
                catch (InvalidDataException)
                {
                    // a damaged file header is reported as not-a-capture: that is the documented outcome
                }

                weirdSeen += meter.Weird.Total;
            }
        }

        Assert.True(weirdSeen > 0, "corrupted captures must produce weird counts");
    }

    private sealed class CountingSink : Flows.IFlowSink
    {
        public int Flows { get; private set; }

        public void OnFlow(in Flows.CompletedFlow flow) => Flows++;
    }
}
