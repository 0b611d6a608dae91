using Stakeout.FlowMeter.Capture;
using Stakeout.FlowMeter.Flows;
using static Stakeout.FlowMeter.Tests.Packets;

namespace Stakeout.FlowMeter.Tests;

/// <summary>The pipelined meter (a reader thread decoding into batches) must give what the one-thread meter gives, in the same order.</summary>
public sealed class PipelinedMeterTests
{
    private static byte[] ManyFlows(int packets, int seed)
    {
        var random = new Random(seed);
        byte[] flags = [Syn, Ack, Ack, Ack, Fin, Rst, Psh | Ack];
        var frames = new List<(long, byte[])>(packets);
        long micros = 1_500_000_000_000_000;
        for (int i = 0; i < packets; i++)
        {
            // Several batches' worth, with gaps past the activity timeout now and then so flows also end by time.
            micros += random.Next(8) == 0 ? 6_000_000 : random.Next(1, 2000);
            string src = "10.0." + random.Next(4) + "." + random.Next(1, 30);
            frames.Add((micros, TcpFrame(src, (ushort)(40000 + random.Next(50)), "192.168.10.50", (ushort)(random.Next(2) == 0 ? 80 : 443), flags[random.Next(flags.Length)], random.Next(3) == 0 ? random.Next(1, 1400) : 0)));
        }

        return Pcap(frames);
    }

    private static List<string> Meter(byte[] file, FlowMeterOptions options, bool pipelined, out long weird)
    {
        var sink = new RecordingSink();
        var meter = new PacketFlowMeter(options, sink);
        using var reader = new CaptureReader(new MemoryStream(file), "test", meter.Weird);
        if (pipelined)
        {
            meter.ProcessAllPipelined(reader);
        }
        else
        {
            meter.ProcessAll(reader);
        }

        meter.Flush();
        weird = meter.Weird.Total + meter.Weird.Records * 1_000_000 + meter.Weird.Decoded;
        return sink.Rows;
    }

    [Theory]
    [InlineData(FlowMeterMode.CicFlowMeter)]
    [InlineData(FlowMeterMode.Corrected)]
    public void ProcessAllPipelined_ManyBatches_SameFlowsInTheSameOrderAsOneThread(FlowMeterMode mode)
    {
        byte[] file = ManyFlows(20_000, seed: 5);
        var options = new FlowMeterOptions { Mode = mode };

        var expected = Meter(file, options, pipelined: false, out long expectedCounts);
        var actual = Meter(file, options, pipelined: true, out long actualCounts);

        Assert.True(expected.Count > 100, $"only {expected.Count} flows");
        Assert.Equal(expected, actual);
        Assert.Equal(expectedCounts, actualCounts);
    }

    [Fact]
    public void ProcessAllPipelined_DamagedCaptures_SameAsOneThread()
    {
        byte[] original = ManyFlows(3_000, seed: 9);
        var random = new Random(20261204);
        for (int round = 0; round < 40; round++)
        {
            byte[] file = (byte[])original.Clone();
            for (int i = 0; i < 20; i++)
            {
                file[random.Next(24, file.Length)] = (byte)random.Next(256);
            }

            byte[] cut = file[..random.Next(24, file.Length + 1)];
            Assert.Equal(Meter(cut, new FlowMeterOptions(), false, out long a), Meter(cut, new FlowMeterOptions(), true, out long b));
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void ProcessAllPipelined_SinkFails_ThrowsThatErrorAndStopsTheReader()
    {
        var meter = new PacketFlowMeter(new FlowMeterOptions(), new FailingSink(after: 10));
        using var reader = new CaptureReader(new MemoryStream(ManyFlows(50_000, seed: 3)), "test", meter.Weird);

        var e = Assert.Throws<IOException>(() => meter.ProcessAllPipelined(reader));

        Assert.Equal("disk full", e.Message);
        Assert.True(meter.Weird.Records < 50_000, "the reader went on after the meter failed");
    }

    [Fact]
    public void ProcessAllPipelined_Cancelled_ThrowsOperationCanceled()
    {
        var meter = new PacketFlowMeter(new FlowMeterOptions(), new RecordingSink());
        using var reader = new CaptureReader(new MemoryStream(ManyFlows(5_000, seed: 4)), "test", meter.Weird);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => meter.ProcessAllPipelined(reader, cancel.Token));
    }

    private sealed class RecordingSink : IFlowSink
    {
        public List<string> Rows { get; } = [];

        public void OnFlow(in CompletedFlow flow) =>
            Rows.Add($"{flow.FlowId} {flow.StartMicros} {flow.Packets} {flow.Reason} {string.Join(',', flow.Features.ToArray())}");
    }

    private sealed class FailingSink(int after) : IFlowSink
    {
        private int _flows;

        public void OnFlow(in CompletedFlow flow)
        {
            if (++_flows > after)
            {
                throw new IOException("disk full");
            }
        }
    }
}
