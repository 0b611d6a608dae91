using Stakeout.Core;
using Stakeout.FlowMeter.Flows;
using static Stakeout.FlowMeter.Tests.Packets;

namespace Stakeout.FlowMeter.Tests;

public sealed class FlowTableTests
{
    private const string Client = "10.0.0.1";
    private const string Server = "10.0.0.2";
    private const long T0 = 1_500_000_000_000_000;

    private static List<MeteredFlow> Run(FlowMeterMode mode, params (long Offset, byte[] Frame)[] packets)
        => Run(new FlowMeterOptions { Mode = mode }, packets);

    private static List<MeteredFlow> Run(FlowMeterOptions options, params (long Offset, byte[] Frame)[] packets)
    {
        var sink = new ListSink();
        var meter = new PacketFlowMeter(options, sink);
        foreach (var (offset, frame) in packets)
        {
            meter.Process(1, T0 + offset, frame);
        }

        meter.Flush();
        return sink.Flows;
    }

    private static byte[] C2S(byte flags, int payload = 0, ushort window = 8192, uint seq = 0, uint ack = 0)
        => TcpFrame(Client, 40000, Server, 80, flags, payload, window, seq, ack);

    private static byte[] S2C(byte flags, int payload = 0, ushort window = 1000, uint seq = 0, uint ack = 0)
        => TcpFrame(Server, 80, Client, 40000, flags, payload, window, seq, ack);

    private static double F(MeteredFlow flow, string name)
    {
        Assert.True(FeatureSchema.TryResolve(name, out int i), name);
        return flow.Features[i];
    }

    [Fact]
    public void CicMode_FirstPacketPayload_EntersLengthStatisticsTwice()
    {
        var flows = Run(FlowMeterMode.CicFlowMeter, (0, C2S(Ack, 100)), (10, S2C(Ack, 0)));

        var f = Assert.Single(flows);
        Assert.Equal(2, F(f, "Total Fwd Packets") + F(f, "Total Backward Packets"));
        Assert.Equal(200.0 / 3, F(f, "Packet Length Mean"), 9);  // 100, 100, 0
        Assert.Equal(100, F(f, "Average Packet Size"));          // (100 + 100 + 0) / 2 packets
        Assert.Equal(0, F(f, "act_data_pkt_fwd"));               // the first packet is not counted
    }

    [Fact]
    public void CorrectedMode_FirstPacket_CountedOnce()
    {
        var flows = Run(FlowMeterMode.Corrected, (0, C2S(Ack, 100)), (10, S2C(Ack, 0)));

        var f = Assert.Single(flows);
        Assert.Equal(50, F(f, "Packet Length Mean"));
        Assert.Equal(50, F(f, "Average Packet Size"));
        Assert.Equal(1, F(f, "act_data_pkt_fwd"));
    }

    [Fact]
    public void CicMode_FirstFinFromEitherSide_EndsFlowWithThatPacket_ThenRestStartsNewFlow()
    {
        var flows = Run(
            FlowMeterMode.CicFlowMeter,
            (0, C2S(Syn)), (100, S2C((byte)(Syn | Ack))), (200, C2S(Ack)),
            (300, S2C((byte)(Fin | Ack))), (400, C2S((byte)(Fin | Ack))), (500, S2C(Ack)));

        Assert.Equal(2, flows.Count);
        Assert.Equal(FlowEndReason.Fin, flows[0].Reason);
        Assert.Equal(4, flows[0].Packets);
        Assert.Equal(300, F(flows[0], "Flow Duration"));
        Assert.Equal(1, F(flows[0], "FIN Flag Count"));
        Assert.Equal(2, flows[1].Packets); // the "TCP appendix" Engelen et al. describe: FIN+ACK and the last ACK
        Assert.Equal(FlowEndReason.EndOfCapture, flows[1].Reason); // a flow's first packet is never checked for FIN
    }

    [Fact]
    public void CorrectedMode_BothFinsAndLastAck_OneFlow()
    {
        var flows = Run(
            FlowMeterMode.Corrected,
            (0, C2S(Syn, seq: 10)), (100, S2C((byte)(Syn | Ack), seq: 90, ack: 11)), (200, C2S(Ack, seq: 11, ack: 91)),
            (300, S2C((byte)(Fin | Ack), seq: 91, ack: 11)), (400, C2S((byte)(Fin | Ack), seq: 11, ack: 92)), (500, S2C(Ack, seq: 92, ack: 12)));

        var f = Assert.Single(flows);
        Assert.Equal(FlowEndReason.TcpClosed, f.Reason);
        Assert.Equal(6, f.Packets);
        Assert.Equal(2, F(f, "FIN Flag Count"));
    }

    [Fact]
    public void CorrectedMode_AckThatMissesTheFin_KeepsFlowOpenUntilRetransmittedFinIsAcked()
    {
        var flows = Run(
            FlowMeterMode.Corrected,
            (0, S2C((byte)(Fin | Ack), seq: 138, ack: 25)), (100, C2S((byte)(Fin | Ack), seq: 25, ack: 138)),
            (200, S2C(Ack, seq: 139, ack: 26)), (300, C2S(Ack, seq: 26, ack: 138)),
            (400_000, S2C((byte)(Fin | Ack), seq: 138, ack: 26)), (400_300, C2S(Ack, seq: 26, ack: 139)));

        var f = Assert.Single(flows); // the client's first ACK did not cover the server's FIN, as in Zeek's ftp bruteforce trace
        Assert.Equal(FlowEndReason.TcpClosed, f.Reason);
        Assert.Equal(6, f.Packets);
    }

    [Fact]
    public void Modes_Rst_EndsOnlyInCorrectedMode()
    {
        var packets = new[] { (0L, C2S(Syn)), (100L, S2C((byte)(Rst | Ack))), (200L, C2S(Ack)) };

        var cic = Run(FlowMeterMode.CicFlowMeter, packets);
        var corrected = Run(FlowMeterMode.Corrected, packets);

        Assert.Equal(3, Assert.Single(cic).Packets);
        Assert.Equal(FlowEndReason.Rst, corrected[0].Reason);
        Assert.Equal(2, corrected[0].Packets);
        Assert.Equal(2, corrected.Count); // the stray ACK after the reset is a flow of its own
    }

    [Fact]
    public void CicMode_SinglePacketFlow_NotWritten_CorrectedWritesIt()
    {
        var syn = (0L, C2S(Syn));

        Assert.Empty(Run(FlowMeterMode.CicFlowMeter, syn));
        Assert.Single(Run(FlowMeterMode.Corrected, syn));
    }

    [Fact]
    public void CicMode_ZeroDuration_RatesAreInfinityAndNaN()
    {
        var withBytes = Assert.Single(Run(FlowMeterMode.CicFlowMeter, (0, C2S(Ack, 10)), (0, S2C(Ack))));
        var empty = Assert.Single(Run(FlowMeterMode.CicFlowMeter, (0, C2S(Ack)), (0, S2C(Ack))));
        var corrected = Assert.Single(Run(FlowMeterMode.Corrected, (0, C2S(Ack, 10)), (0, S2C(Ack))));

        Assert.True(double.IsPositiveInfinity(F(withBytes, "Flow Bytes/s")));
        Assert.True(double.IsPositiveInfinity(F(withBytes, "Flow Packets/s")));
        Assert.True(double.IsNaN(F(empty, "Flow Bytes/s")));
        Assert.Equal(0, F(corrected, "Flow Bytes/s"));
    }

    [Fact]
    public void CicMode_DownUpRatio_IsIntegerDivision()
    {
        var packets = new[] { (0L, C2S(Ack)), (1L, C2S(Ack)), (2L, S2C(Ack)), (3L, S2C(Ack)), (4L, S2C(Ack)) };

        Assert.Equal(1, F(Assert.Single(Run(FlowMeterMode.CicFlowMeter, packets)), "Down/Up Ratio"));
        Assert.Equal(1.5, F(Assert.Single(Run(FlowMeterMode.Corrected, packets)), "Down/Up Ratio"));
    }

    [Fact]
    public void CicMode_InitWindowBackward_IsLastBackwardWindow_CorrectedIsFirst()
    {
        var packets = new[] { (0L, C2S(Syn, window: 111)), (1L, S2C((byte)(Syn | Ack), window: 222)), (2L, S2C(Ack, window: 333)) };

        var cic = Assert.Single(Run(FlowMeterMode.CicFlowMeter, packets));
        var corrected = Assert.Single(Run(FlowMeterMode.Corrected, packets));

        Assert.Equal(111, F(cic, "Init_Win_bytes_forward"));
        Assert.Equal(333, F(cic, "Init_Win_bytes_backward"));
        Assert.Equal(222, F(corrected, "Init_Win_bytes_backward"));
    }

    [Fact]
    public void CicMode_FwdPshCountsFirstPacketOnly_CorrectedCountsEvery()
    {
        var packets = new[] { (0L, C2S((byte)(Psh | Ack), 5)), (1L, C2S((byte)(Psh | Ack), 5)), (2L, S2C((byte)(Psh | Ack), 5)) };

        var cic = Assert.Single(Run(FlowMeterMode.CicFlowMeter, packets));
        var corrected = Assert.Single(Run(FlowMeterMode.Corrected, packets));

        Assert.Equal((1, 0, 3), (F(cic, "Fwd PSH Flags"), F(cic, "Bwd PSH Flags"), F(cic, "PSH Flag Count")));
        Assert.Equal((2, 1, 3), (F(corrected, "Fwd PSH Flags"), F(corrected, "Bwd PSH Flags"), F(corrected, "PSH Flag Count")));
    }

    [Fact]
    public void CicMode_FlowTimeoutFromStart_NewFlowKeepsOldOrientation()
    {
        long twoMinutes = 120_000_000;
        var flows = Run(
            FlowMeterMode.CicFlowMeter,
            (0, C2S(Ack)), (twoMinutes - 10, C2S(Ack)), (twoMinutes + 1, S2C(Ack)), (twoMinutes + 5, C2S(Ack)));

        Assert.Equal(2, flows.Count);
        Assert.Equal(FlowEndReason.FlowTimeout, flows[0].Reason);
        Assert.Equal(2, flows[0].Packets);
        var second = flows[1];
        Assert.Equal(Client, second.Identity.SourceIp.ToString()); // started by a server packet, oriented like the old flow
        Assert.Equal(2, F(second, "Total Fwd Packets"));            // that packet counted forward, as V4 does
    }

    [Fact]
    public void CorrectedMode_ActivityGaps_GiveActiveAndIdlePeriods()
    {
        var flows = Run(FlowMeterMode.Corrected, (0, C2S(Ack)), (1_000_000, S2C(Ack)), (9_000_000, C2S(Ack)), (10_000_000, S2C(Ack)));

        var f = Assert.Single(flows);
        Assert.Equal(8_000_000, F(f, "Idle Mean"));
        Assert.Equal(1_000_000, F(f, "Active Mean")); // both periods of 1 s
        Assert.Equal(1_000_000, F(f, "Active Min"));
    }

    [Fact]
    public void CicMode_Idle_ReproducesEpochSizedValues()
    {
        var flows = Run(FlowMeterMode.CicFlowMeter, (0, C2S(Ack)), (100, S2C(Ack)), (200, C2S(Ack)));

        var f = Assert.Single(flows);
        Assert.Equal(T0 + 200 - 100, F(f, "Idle Max")); // third packet: timestamp minus the previous gap, V4's bug
        Assert.Equal(0, F(f, "Active Mean"));
        Assert.Equal(0, F(f, "Subflow Fwd Packets")); // every packet counts as a subflow: 2 forward packets / 3, an integer
    }

    [Fact]
    public void Table_Full_EvictsOldestAndCounts()
    {
        var sink = new ListSink();
        var meter = new PacketFlowMeter(new FlowMeterOptions { Mode = FlowMeterMode.Corrected, MaxFlows = 2 }, sink);
        for (int i = 0; i < 5; i++)
        {
            meter.Process(1, T0 + i, TcpFrame(Client, (ushort)(1000 + i), Server, 80, Syn));
        }

        meter.Flush();

        Assert.Equal(3, meter.Flows.Evicted);
        Assert.Equal(5, sink.Flows.Count);
        Assert.Equal([1000, 1001, 1002], sink.Flows.Where(f => f.Reason == FlowEndReason.Evicted).Select(f => f.Identity.SourcePort));
    }

    [Fact]
    public void EmitInterval_LongFlow_ReportedBeforeItEnds()
    {
        var options = new FlowMeterOptions { Mode = FlowMeterMode.Corrected, EmitInterval = TimeSpan.FromSeconds(10) };
        var packets = Enumerable.Range(0, 30).Select(i => ((long)i * 1_000_000, i % 2 == 0 ? C2S(Ack) : S2C(Ack))).ToArray();

        var flows = Run(options, packets);

        Assert.Equal(2, flows.Count(f => f.Reason == FlowEndReason.Interval));
        Assert.Equal(30, flows.Single(f => f.Reason == FlowEndReason.EndOfCapture).Packets);
    }

    [Fact]
    public void Options_Invalid_ThrowsNamingTheOption()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new FlowMeterOptions { MaxFlows = 0 }.Validate());
        Assert.Equal("MaxFlows", ex.ParamName);
    }

    private sealed class ListSink : IFlowSink
    {
        public List<MeteredFlow> Flows { get; } = [];

        public void OnFlow(in CompletedFlow flow)
            => Flows.Add(new MeteredFlow(flow.Identity, flow.FlowId, flow.StartMicros, flow.Packets, flow.Reason, flow.Features.ToArray()));
    }
}
