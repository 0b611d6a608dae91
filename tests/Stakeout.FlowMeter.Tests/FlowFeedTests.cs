using Stakeout.Core;
using Stakeout.FlowMeter.Flows;
using Stakeout.FlowMeter.Streaming;
using static Stakeout.FlowMeter.Tests.Packets;

namespace Stakeout.FlowMeter.Tests;

public sealed class FlowFeedTests
{
    [Fact]
    public async Task ReadAsync_CaptureFile_YieldsEveryFlowInSmallBatches()
    {
        string path = Path.Combine(Path.GetTempPath(), $"stakeout-feed-{Guid.NewGuid():N}.pcap");
        var frames = Enumerable.Range(0, 10).SelectMany(i => new[]
        {
            (1_000_000L * i, TcpFrame("10.0.0.1", (ushort)(2000 + i), "10.0.0.2", 80, Syn)),
            (1_000_000L * i + 10, TcpFrame("10.0.0.2", 80, "10.0.0.1", (ushort)(2000 + i), (byte)(Syn | Ack))),
        });
        await File.WriteAllBytesAsync(path, Pcap(frames));
        try
        {
            var feed = new FlowFeed(FlowSource.Parse("pcap:" + path), new FlowFeedOptions { BatchSize = 4, Meter = new FlowMeterOptions { Mode = FlowMeterMode.Corrected } });
            var batches = new List<FlowBatch>();
            await foreach (var batch in feed.ReadAsync())
            {
                batches.Add(batch);
            }

            Assert.Equal([4, 4, 2], batches.Select(b => b.Count));
            var ports = batches.SelectMany(b => b.Identities!.Take(b.Count)).Select(i => i.SourcePort).Order().ToList();
            Assert.Equal(Enumerable.Range(2000, 10), ports);
            Assert.All(batches, b => Assert.Equal(80f, b.Row(0)[FeatureSchema.DestinationPort]));
            Assert.Equal(20, feed.Meter!.Weird.Decoded);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ReadAsync_ConsumerStopsEarly_MeteringStopsAndDisposalReturns()
    {
        string path = Path.Combine(Path.GetTempPath(), $"stakeout-feed-{Guid.NewGuid():N}.pcap");
        const int connections = 2_000;
        var frames = Enumerable.Range(0, connections).SelectMany(i => new[]
        {
            (1_000L * i, TcpFrame("10.0.0.1", (ushort)(2000 + i), "10.0.0.2", 80, Syn)),
            (1_000L * i + 10, TcpFrame("10.0.0.2", 80, "10.0.0.1", (ushort)(2000 + i), (byte)(Syn | Ack))),
            (1_000L * i + 20, TcpFrame("10.0.0.1", (ushort)(2000 + i), "10.0.0.2", 80, Rst)),
        });
        await File.WriteAllBytesAsync(path, Pcap(frames));
        try
        {
            var feed = new FlowFeed(FlowSource.Parse("pcap:" + path), new FlowFeedOptions { BatchSize = 4, ChannelCapacity = 1, Meter = new FlowMeterOptions { Mode = FlowMeterMode.Corrected } });

            // Taking one batch and walking away disposes the enumerator: the producer, blocked on the full channel or
            // still metering, must stop rather than meter the rest of the file (or wait forever) before disposal returns.
            async Task<int> TakeOne()
            {
                await foreach (var batch in feed.ReadAsync())
                {
                    return batch.Count;
                }

                return 0;
            }

            Assert.Equal(4, await TakeOne().WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.InRange(feed.Meter!.Weird.Decoded, 1, (connections * 3) - 1);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ReadAsync_MissingFile_ThrowsToTheConsumer()
    {
        var feed = new FlowFeed(FlowSource.Parse("pcap:/no/such/capture.pcap"), new FlowFeedOptions());

        await Assert.ThrowsAsync<DirectoryNotFoundException>(async () =>
        {
            await foreach (var _ in feed.ReadAsync())
            {
            }
        });
    }

    [Theory]
    [InlineData("pcap:a.pcap", false, "a.pcap")]
    [InlineData("iface:lo", true, "lo")]
    public void Parse_KnownForms_Parsed(string text, bool live, string target)
        => Assert.Equal(new FlowSource(live, target), FlowSource.Parse(text));

    [Fact]
    public void Parse_UnknownForm_SaysWhatIsExpected()
        => Assert.Contains("pcap:FILE or iface:NAME", Assert.Throws<ArgumentException>(() => FlowSource.Parse("eth0")).Message, StringComparison.Ordinal);
}
