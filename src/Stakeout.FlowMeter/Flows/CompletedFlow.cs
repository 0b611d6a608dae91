using Stakeout.Core;

namespace Stakeout.FlowMeter.Flows;

/// <summary>A flow as the meter reports it. <see cref="Features"/> is only valid during the sink call.</summary>
public readonly ref struct CompletedFlow
{
    internal CompletedFlow(FlowIdentity identity, long startMicros, long packets, FlowEndReason reason, ReadOnlySpan<double> features)
    {
        Identity = identity;
        StartMicros = startMicros;
        Packets = packets;
        Reason = reason;
        Features = features;
    }

    /// <summary>Endpoints (the source is the first packet's source), protocol, and the start as a UTC time.</summary>
    public FlowIdentity Identity { get; }

    /// <summary>
    /// CICFlowMeter's flow id text, <c>src-dst-srcport-dstport-protocol</c>, made from <see cref="Identity"/> when asked
    /// for: the CSV writer formats it straight into its row on its own thread, so the meter's thread never builds it.
    /// </summary>
    public string FlowId => FlowIdFormat.Text(Identity);

    /// <summary>Time of the first packet, microseconds since the Unix epoch.</summary>
    public long StartMicros { get; }

    /// <summary>Packets in the flow.</summary>
    public long Packets { get; }

    /// <summary>Why it was reported.</summary>
    public FlowEndReason Reason { get; }

    /// <summary>The 78 features in <see cref="FeatureSchema"/> order, as doubles (CSV output keeps full precision).</summary>
    public ReadOnlySpan<double> Features { get; }
}

/// <summary>Receives flows from the meter as they end (or at intervals). Called on the meter's thread.</summary>
public interface IFlowSink
{
    /// <summary>Takes one flow; copy what must outlive the call.</summary>
    void OnFlow(in CompletedFlow flow);
}

/// <summary>Counts kept by the flow table.</summary>
public sealed class FlowTableStats
{
    private readonly long[] _byReason = new long[Enum.GetValues<FlowEndReason>().Length];

    /// <summary>Flows created.</summary>
    public long Started { get; internal set; }

    /// <summary>Flows reported, by reason.</summary>
    public long Reported(FlowEndReason reason) => _byReason[(int)reason];

    /// <summary>Flows that ended without being reported (CICFlowMeter mode leaves out flows of one packet).</summary>
    public long SuppressedSinglePacket { get; internal set; }

    /// <summary>Flows ended early because the table was full.</summary>
    public long Evicted { get; internal set; }

    /// <summary>Most flows held at once.</summary>
    public long PeakFlows { get; internal set; }

    internal void Count(FlowEndReason reason) => _byReason[(int)reason]++;

    /// <summary>Reported flows, interval reports excluded.</summary>
    public long TotalReported => _byReason.Sum() - _byReason[(int)FlowEndReason.Interval];
}
