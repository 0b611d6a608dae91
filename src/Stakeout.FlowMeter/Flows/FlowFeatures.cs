using System.Runtime.CompilerServices;
using Stakeout.Core;

namespace Stakeout.FlowMeter.Flows;

/// <summary>Turns a flow's accumulators into the 78 features in <see cref="FeatureSchema"/> order.</summary>
internal static class FlowFeatures
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(FlowState f, FlowMeterMode mode, Span<double> x)
    {
        if (x.Length < FeatureSchema.Count)
        {
            throw new ArgumentException($"Feature buffer needs {FeatureSchema.Count} values; it has {x.Length}.", nameof(x));
        }

        bool cic = mode == FlowMeterMode.CicFlowMeter;
        long duration = f.FlowLastSeen - f.FlowStart;
        double seconds = duration / 1_000_000.0;
        long packets = f.PacketCount;

        x[0] = f.DstPort;
        x[1] = duration;
        x[2] = f.FwdPkt.N;
        x[3] = f.BwdPkt.N;
        x[4] = f.FwdPkt.Sum;
        x[5] = f.BwdPkt.Sum;
        Describe(f.FwdPkt, x[6..10]);
        Describe(f.BwdPkt, x[10..14]);

        double bytes = f.ForwardBytes + f.BackwardBytes;
        if (cic)
        {
            x[14] = bytes / seconds; // unguarded in V4: Infinity or NaN at zero duration
            x[15] = packets / seconds;
        }
        else
        {
            x[14] = duration > 0 ? bytes / seconds : 0;
            x[15] = duration > 0 ? packets / seconds : 0;
        }

        // V4 prints the flow IAT statistics as they are (NaN when a flow has no gap, which only a 1-packet flow has).
        x[16] = cic || f.FlowIat.N > 0 ? f.FlowIat.Mean : 0;
        x[17] = cic || f.FlowIat.N > 0 ? f.FlowIat.StandardDeviation : 0;
        x[18] = cic || f.FlowIat.N > 0 ? f.FlowIat.Max : 0;
        x[19] = cic || f.FlowIat.N > 0 ? f.FlowIat.Min : 0;
        Iat(f.ForwardIat, f.ForwardCount > 1, x[20..25]);
        Iat(f.BackwardIat, f.BackwardCount > 1, x[25..30]);

        x[30] = f.FwdPsh;
        x[31] = f.BwdPsh;
        x[32] = f.FwdUrg;
        x[33] = f.BwdUrg;
        x[34] = f.ForwardHeaderBytes;
        x[35] = f.BackwardHeaderBytes;
        x[36] = duration > 0 ? f.ForwardCount / seconds : 0;
        x[37] = duration > 0 ? f.BackwardCount / seconds : 0;

        bool any = f.ForwardCount > 0 || f.BackwardCount > 0;
        x[38] = any ? f.FlowLength.Min : 0;
        x[39] = any ? f.FlowLength.Max : 0;
        x[40] = any ? f.FlowLength.Mean : 0;
        x[41] = any ? f.FlowLength.StandardDeviation : 0;
        x[42] = any ? f.FlowLength.Variance : 0;

        x[43] = f.FinCount;
        x[44] = f.SynCount;
        x[45] = f.RstCount;
        x[46] = f.PshCount;
        x[47] = f.AckCount;
        x[48] = f.UrgCount;
        x[49] = f.CwrCount;
        x[50] = f.EceCount;

        x[51] = f.ForwardCount > 0
            ? (cic ? f.BackwardCount / f.ForwardCount : (double)f.BackwardCount / f.ForwardCount)
            : 0;
        x[52] = packets > 0 ? (cic ? f.FlowLength.Sum : bytes) / packets : 0;
        x[53] = f.ForwardCount != 0 ? f.FwdPkt.Sum / f.ForwardCount : 0;
        x[54] = f.BackwardCount != 0 ? f.BwdPkt.Sum / f.BackwardCount : 0;
        x[55] = f.ForwardHeaderBytes;

        x[56] = f.ForwardBulk.AvgBytes;
        x[57] = f.ForwardBulk.AvgPackets;
        x[58] = f.ForwardBulk.AvgRate;
        x[59] = cic ? f.ForwardBulk.AvgBytes : f.BackwardBulk.AvgBytes; // V4's writer prints the forward value here
        x[60] = f.BackwardBulk.AvgPackets;
        x[61] = f.BackwardBulk.AvgRate;

        if (f.SfCount > 0)
        {
            x[62] = cic ? f.ForwardCount / f.SfCount : (double)f.ForwardCount / f.SfCount;
            x[63] = cic ? f.ForwardBytes / f.SfCount : (double)f.ForwardBytes / f.SfCount;
            x[64] = cic ? f.BackwardCount / f.SfCount : (double)f.BackwardCount / f.SfCount;
            x[65] = cic ? f.BackwardBytes / f.SfCount : (double)f.BackwardBytes / f.SfCount;
        }
        else
        {
            x[62] = x[63] = x[64] = x[65] = 0;
        }

        x[66] = cic || f.ForwardCount > 0 && f.Protocol == 6 ? f.InitWinForward : -1;
        x[67] = cic || f.BackwardCount > 0 && f.Protocol == 6 ? f.InitWinBackward : -1;
        x[68] = f.ActDataForward;
        x[69] = f.MinSegSizeForward;

        var active = f.Active;
        if (!cic && f.EndActive - f.StartActive > 0)
        {
            active.Add(f.EndActive - f.StartActive); // the period still open when the flow ended (V4 never closes it)
        }

        Describe(active, x[70..74], meanFirst: true);
        Describe(f.Idle, x[74..78], meanFirst: true);
    }

    /// <summary>Max, min, mean, std (payload order) or mean, std, max, min (active/idle order); zeros when empty.</summary>
    private static void Describe(in RunningStats s, Span<double> x, bool meanFirst = false)
    {
        if (s.N == 0)
        {
            x.Clear();
            return;
        }

        if (meanFirst)
        {
            x[0] = s.Mean;
            x[1] = s.StandardDeviation;
            x[2] = s.Max;
            x[3] = s.Min;
        }
        else
        {
            x[0] = s.Max;
            x[1] = s.Min;
            x[2] = s.Mean;
            x[3] = s.StandardDeviation;
        }
    }

    private static void Iat(in RunningStats s, bool present, Span<double> x)
    {
        if (!present || s.N == 0)
        {
            x.Clear();
            return;
        }

        x[0] = s.Sum;
        x[1] = s.Mean;
        x[2] = s.StandardDeviation;
        x[3] = s.Max;
        x[4] = s.Min;
    }
}
