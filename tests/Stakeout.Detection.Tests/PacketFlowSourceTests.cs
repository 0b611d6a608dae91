using Stakeout.FlowMeter.Streaming;
using static Stakeout.FlowMeter.Tests.Packets;

namespace Stakeout.Detection.Tests;

public sealed class PacketFlowSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-pcap-source-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task RunAsync_CaptureWithThreeFlows_EachScoredOnceAndAlertCarriesItsEndpoints()
    {
        string path = WriteCapture();
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), sink);
        var source = (PacketFlowSource)FlowSourceRegistry.CreateDefault().Create("pcap:" + path);

        await pipeline.RunAsync([source]).WaitAsync(TimeSpan.FromSeconds(30));

        var s = pipeline.Counters.Snapshot();
        Assert.Equal(3, s.FlowsIn);
        Assert.Equal(3, s.FlowsScored);
        Pipelines.AssertBalanced(pipeline);
        // Only the 150-packet flow reaches the rule scorer's DDoS class.
        var alert = Assert.Single(sink.Alerts);
        Assert.Equal("10.1.1.1", alert.Identity.SourceIp.ToString());
        Assert.Equal(40001, alert.Identity.SourcePort);
        Assert.Equal("192.168.10.50", alert.Identity.DestinationIp.ToString());
        Assert.Equal(80, alert.Identity.DestinationPort);
        Assert.Equal(6, alert.Identity.Protocol);
        Assert.Equal(new DateTime(2017, 7, 7, 15, 0, 0, DateTimeKind.Utc), alert.Identity.Timestamp.ToUniversalTime());
        Assert.Equal("pcap:" + path, alert.Stream);
        var report = Assert.IsType<PacketSourceReport>(source.Report);
        Assert.Equal(150 + 3 + 3 + 1, report.Packets);
        Assert.Equal(3, report.FlowsMetered);
        Assert.Equal(3, report.FlowsHandedOver);
        Assert.Equal(1, report.SuppressedSinglePacket);
    }

    [Fact]
    public async Task RunAsync_FlowLimitBelowTheCapture_TakesExactlyTheLimitAndBalances()
    {
        string path = WriteCapture();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(o => o with { MaxFlows = 2 }), new CollectingSink());
        var source = new PacketFlowSource(FlowSource.Parse("pcap:" + path), new FlowFeedOptions { BatchSize = 1, ChannelCapacity = 1 });

        await pipeline.RunAsync([source]).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, pipeline.Counters.Snapshot().FlowsIn);
        Assert.Equal(2, pipeline.Counters.FlowsScored);
        Pipelines.AssertBalanced(pipeline);
        Assert.Equal(2, source.Report!.FlowsHandedOver);
    }

    [Theory]
    [InlineData("pcap:")]
    [InlineData("iface:")]
    public void Registry_PacketSchemeWithoutTarget_FailsSayingTheForm(string uri)
    {
        var ex = Assert.Throws<ArgumentException>(() => FlowSourceRegistry.CreateDefault().Create(uri));

        Assert.Contains("pcap:FILE or iface:NAME", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_MissingCaptureFile_FailsNamingIt()
    {
        string path = Path.Combine(_dir, "absent.pcap");

        var ex = Assert.Throws<ArgumentException>(() => FlowSourceRegistry.CreateDefault().Create("pcap:" + path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.IsType<PacketFlowSource>(FlowSourceRegistry.CreateDefault().Create("iface:lo"));
    }

    /// <summary>
    /// A flood flow of 150 packets ended by FIN, two small exchanges, and one lone SYN (a one-packet flow, which
    /// CICFlowMeter mode leaves out).
    /// </summary>
    private string WriteCapture()
    {
        long t0 = new DateTimeOffset(2017, 7, 7, 15, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
        var frames = new List<(long, byte[])>();
        for (int i = 0; i < 149; i++)
        {
            frames.Add((t0 + (i * 100), TcpFrame("10.1.1.1", 40001, "192.168.10.50", 80, Ack, payload: 10)));
        }

        frames.Add((t0 + 20_000, TcpFrame("10.1.1.1", 40001, "192.168.10.50", 80, (byte)(Fin | Ack))));
        foreach (var (host, port) in new[] { ("10.1.1.2", (ushort)40002), ("10.1.1.3", (ushort)40003) })
        {
            frames.Add((t0 + 30_000, TcpFrame(host, port, "192.168.10.50", 443, Syn)));
            frames.Add((t0 + 30_100, TcpFrame("192.168.10.50", 443, host, port, (byte)(Syn | Ack))));
            frames.Add((t0 + 30_200, TcpFrame(host, port, "192.168.10.50", 443, Ack)));
        }

        frames.Add((t0 + 40_000, TcpFrame("10.1.1.4", 40004, "192.168.10.50", 22, Syn)));
        string path = Path.Combine(_dir, "three-flows.pcap");
        File.WriteAllBytes(path, Pcap(frames));
        return path;
    }
}
