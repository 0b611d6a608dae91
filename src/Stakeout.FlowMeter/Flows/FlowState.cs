using System.Runtime.CompilerServices;
using Stakeout.FlowMeter.Decoding;

namespace Stakeout.FlowMeter.Flows;

/// <summary>
/// The accumulators of one bidirectional flow. Field names follow CICFlowMeter's BasicFlow so a reader can check each
/// rule against it; where the two modes differ the method says so. Mutable and reused: the table recycles instances.
/// </summary>
internal sealed class FlowState
{
    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Rst = 0x04;
    public const byte Psh = 0x08;
    public const byte Ack = 0x10;
    public const byte Urg = 0x20;
    public const byte Ece = 0x40;
    public const byte Cwr = 0x80;

    // Identity: the forward endpoint is the first packet's source.
    public FlowKey Key;
    public Address Src;
    public Address Dst;
    public ushort SrcPort;
    public ushort DstPort;
    public byte Protocol;

    // Start-ordered list links (for timeouts and eviction) and table status.
    public FlowState? Prev;
    public FlowState? Next;
    public bool Expired;
    public long Generation;

    // Where V4's HashMap would hold this flow (FlowOrder.CicFlowMeter): its insertion number, the order within its bucket
    // (the bucket comes from the Flow ID's Java hash, computed at the end: FlowTable.FlushInJavaHashMapOrder).
    public long JavaInsertion;

    // A flow the sweep found past its timeout, in V4 order: the slot of its row, held until V4 would write it.
    public int Held = HeldRowStore.None;

    public long FlowStart;
    public long FlowLastSeen;
    public long ForwardLastSeen;
    public long BackwardLastSeen;
    public long LastEmit;

    public RunningStats FwdPkt;
    public RunningStats BwdPkt;
    public RunningStats FlowLength;
    public RunningStats FlowIat;
    public RunningStats ForwardIat;
    public RunningStats BackwardIat;
    public RunningStats Active;
    public RunningStats Idle;

    public long ForwardCount;
    public long BackwardCount;
    public long ForwardBytes;
    public long BackwardBytes;
    public long ForwardHeaderBytes;
    public long BackwardHeaderBytes;
    public int FwdPsh;
    public int BwdPsh;
    public int FwdUrg;
    public int BwdUrg;
    public int FinCount;
    public int SynCount;
    public int RstCount;
    public int PshCount;
    public int AckCount;
    public int UrgCount;
    public int CwrCount;
    public int EceCount;

    public long ActDataForward;
    public long MinSegSizeForward;
    public int InitWinForward;
    public int InitWinBackward;

    public long StartActive;
    public long EndActive;

    public long SfLastPacketTs;
    public long SfCount;

    public Bulk ForwardBulk;
    public Bulk BackwardBulk;

    // Corrected mode's TCP state machine: each side's FIN, the acknowledgment number that covers it, and whether the
    // other side has sent it.
    public bool FinFromForward;
    public bool FinFromBackward;
    public uint ForwardFinAck;
    public uint BackwardFinAck;
    public bool ForwardFinAcked;
    public bool BackwardFinAcked;

    public long PacketCount => ForwardCount + BackwardCount;

    /// <summary>Clears every accumulator and sets the flow's endpoints.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Reset(in FlowKey key, Address src, ushort srcPort, Address dst, ushort dstPort, byte protocol)
    {
        Key = key;
        Src = src;
        Dst = dst;
        SrcPort = srcPort;
        DstPort = dstPort;
        Protocol = protocol;
        Expired = false;
        Generation++;
        FlowStart = FlowLastSeen = ForwardLastSeen = BackwardLastSeen = LastEmit = 0;
        FwdPkt = BwdPkt = FlowLength = FlowIat = ForwardIat = BackwardIat = Active = Idle = default;
        ForwardCount = BackwardCount = ForwardBytes = BackwardBytes = ForwardHeaderBytes = BackwardHeaderBytes = 0;
        FwdPsh = BwdPsh = FwdUrg = BwdUrg = 0;
        FinCount = SynCount = RstCount = PshCount = AckCount = UrgCount = CwrCount = EceCount = 0;
        ActDataForward = MinSegSizeForward = 0;
        InitWinForward = InitWinBackward = 0;
        StartActive = EndActive = 0;
        SfLastPacketTs = -1;
        SfCount = 0;
        ForwardBulk = BackwardBulk = default;
        FinFromForward = FinFromBackward = ForwardFinAcked = BackwardFinAcked = false;
        ForwardFinAck = BackwardFinAck = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool IsForward(in DecodedPacket p, bool byAddressOnly)
        => byAddressOnly ? p.Source == Src : p.Source == Src && p.SourcePort == SrcPort;

    /// <summary>
    /// CICFlowMeter-V4's firstPacket: the packet is always forward (even when it starts a flow that inherited the
    /// other orientation after a timeout), and its payload enters the all-packets length statistics twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void FirstPacketCic(in DecodedPacket p)
    {
        long ts = p.TimestampMicros;
        BackwardBulk.UpdateCic(p.PayloadBytes, ts);
        DetectSubflowCic(ts);
        CountFlags(p.TcpFlags);
        FlowStart = FlowLastSeen = StartActive = EndActive = ts;
        FlowLength.Add(p.PayloadBytes);
        MinSegSizeForward = p.HeaderBytes;
        InitWinForward = p.TcpWindow;
        FlowLength.Add(p.PayloadBytes);
        FwdPkt.Add(p.PayloadBytes);
        ForwardHeaderBytes = p.HeaderBytes;
        ForwardLastSeen = ts;
        ForwardBytes += p.PayloadBytes;
        ForwardCount++;
        if ((p.TcpFlags & Psh) != 0)
        {
            FwdPsh++;
        }

        if ((p.TcpFlags & Urg) != 0)
        {
            FwdUrg++;
        }
    }

    /// <summary>CICFlowMeter-V4's addPacket, quirks included (see docs/flow-meter.md).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddPacketCic(in DecodedPacket p)
    {
        long ts = p.TimestampMicros;
        BackwardBulk.UpdateCic(p.PayloadBytes, ts); // V4 compares byte arrays by reference: every packet lands here
        DetectSubflowCic(ts);
        CountFlags(p.TcpFlags);
        FlowLength.Add(p.PayloadBytes);
        if (p.Source == Src)
        {
            if (p.PayloadBytes >= 1)
            {
                ActDataForward++;
            }

            FwdPkt.Add(p.PayloadBytes);
            ForwardHeaderBytes += p.HeaderBytes;
            ForwardCount++;
            ForwardBytes += p.PayloadBytes;
            if (ForwardCount > 1)
            {
                ForwardIat.Add(ts - ForwardLastSeen);
            }

            ForwardLastSeen = ts;
            MinSegSizeForward = Math.Min(p.HeaderBytes, MinSegSizeForward);
        }
        else
        {
            BwdPkt.Add(p.PayloadBytes);
            InitWinBackward = p.TcpWindow;
            BackwardHeaderBytes += p.HeaderBytes;
            BackwardCount++;
            BackwardBytes += p.PayloadBytes;
            if (BackwardCount > 1)
            {
                BackwardIat.Add(ts - BackwardLastSeen);
            }

            BackwardLastSeen = ts;
        }

        FlowIat.Add(ts - FlowLastSeen);
        FlowLastSeen = ts;
    }

    /// <summary>
    /// CICFlowMeter-V4's updateActiveIdleTime. In V4 it also runs with a packet gap instead of a timestamp (see
    /// <see cref="DetectSubflowCic"/>), which is where the dataset's epoch-sized Idle values come from.
    /// </summary>
    public void UpdateActiveIdleCic(long currentTime, long threshold)
    {
        if (currentTime - EndActive > threshold)
        {
            if (EndActive - StartActive > 0)
            {
                Active.Add(EndActive - StartActive);
            }

            Idle.Add(currentTime - EndActive);
            StartActive = currentTime;
            EndActive = currentTime;
        }
        else
        {
            EndActive = currentTime;
        }
    }

    /// <summary>
    /// V4's detectUpdateSubflows. Its test reads <c>ts - (last / 1e6) &gt; 1.0</c> (misplaced parenthesis), true for any
    /// real timestamp, so every packet counts a new "subflow" and calls the active/idle update with the inter-packet gap
    /// as if it were a time, using a hard-coded 5 s threshold.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DetectSubflowCic(long ts)
    {
        if (SfLastPacketTs == -1)
        {
            SfLastPacketTs = ts;
        }

        if (ts - (SfLastPacketTs / 1_000_000.0) > 1.0)
        {
            SfCount++;
            UpdateActiveIdleCic(ts - SfLastPacketTs, 5_000_000L);
        }

        SfLastPacketTs = ts;
    }

    /// <summary>Corrected mode: every packet counted once, per direction, with per-direction bulk and real subflows.</summary>
    public void AddPacketCorrected(in DecodedPacket p, bool forward, bool first, long activityTimeout)
    {
        long ts = p.TimestampMicros;
        if (first)
        {
            FlowStart = FlowLastSeen = StartActive = EndActive = ts;
            SfCount = 1;
        }
        else
        {
            long gap = ts - FlowLastSeen;
            if (gap > 1_000_000)
            {
                SfCount++;
            }

            if (gap > activityTimeout)
            {
                if (EndActive - StartActive > 0)
                {
                    Active.Add(EndActive - StartActive);
                }

                Idle.Add(gap);
                StartActive = ts;
            }

            EndActive = ts;
            FlowIat.Add(gap);
        }

        CountFlags(p.TcpFlags);
        FlowLength.Add(p.PayloadBytes);
        bool psh = (p.TcpFlags & Psh) != 0;
        bool urg = (p.TcpFlags & Urg) != 0;
        if (forward)
        {
            ForwardBulk.Update(p.PayloadBytes, ts, BackwardBulk.LastBulkTs);
            if (p.PayloadBytes >= 1)
            {
                ActDataForward++;
            }

            if (p.Protocol == 6 && ForwardCount == 0)
            {
                InitWinForward = p.TcpWindow;
            }

            MinSegSizeForward = ForwardCount == 0 ? p.HeaderBytes : Math.Min(p.HeaderBytes, MinSegSizeForward);
            FwdPkt.Add(p.PayloadBytes);
            ForwardHeaderBytes += p.HeaderBytes;
            if (ForwardCount > 0)
            {
                ForwardIat.Add(ts - ForwardLastSeen);
            }

            ForwardCount++;
            ForwardBytes += p.PayloadBytes;
            ForwardLastSeen = ts;
            FwdPsh += psh ? 1 : 0;
            FwdUrg += urg ? 1 : 0;
        }
        else
        {
            BackwardBulk.Update(p.PayloadBytes, ts, ForwardBulk.LastBulkTs);
            if (p.Protocol == 6 && BackwardCount == 0)
            {
                InitWinBackward = p.TcpWindow;
            }

            BwdPkt.Add(p.PayloadBytes);
            BackwardHeaderBytes += p.HeaderBytes;
            if (BackwardCount > 0)
            {
                BackwardIat.Add(ts - BackwardLastSeen);
            }

            BackwardCount++;
            BackwardBytes += p.PayloadBytes;
            BackwardLastSeen = ts;
            BwdPsh += psh ? 1 : 0;
            BwdUrg += urg ? 1 : 0;
        }

        FlowLastSeen = ts;
    }

    /// <summary>
    /// Corrected mode's TCP close: records each side's FIN and whether the other side acknowledged it (the ACK number
    /// passes the FIN's sequence number). True when both FINs are acknowledged, which closes the connection.
    /// </summary>
    public bool TrackClose(in DecodedPacket p, bool forward)
    {
        byte flags = p.TcpFlags;
        if ((flags & Ack) != 0)
        {
            if (forward && FinFromBackward && (int)(p.TcpAcknowledgment - BackwardFinAck) >= 0)
            {
                BackwardFinAcked = true;
            }
            else if (!forward && FinFromForward && (int)(p.TcpAcknowledgment - ForwardFinAck) >= 0)
            {
                ForwardFinAcked = true;
            }
        }

        if ((flags & Fin) != 0)
        {
            // The FIN occupies one sequence number after the segment's data.
            uint covering = p.TcpSequence + (uint)p.PayloadBytes + 1;
            if (forward)
            {
                FinFromForward = true;
                ForwardFinAck = covering;
            }
            else
            {
                FinFromBackward = true;
                BackwardFinAck = covering;
            }
        }

        return ForwardFinAcked && BackwardFinAcked;
    }

    private void CountFlags(byte flags)
    {
        if (flags == 0)
        {
            return;
        }

        FinCount += flags & 1;
        SynCount += (flags >> 1) & 1;
        RstCount += (flags >> 2) & 1;
        PshCount += (flags >> 3) & 1;
        AckCount += (flags >> 4) & 1;
        UrgCount += (flags >> 5) & 1;
        EceCount += (flags >> 6) & 1;
        CwrCount += (flags >> 7) & 1;
    }

    /// <summary>
    /// CICFlowMeter's bulk detector for one direction: a bulk is at least four payload-carrying packets with no gap over
    /// 1 s and no packet of the other direction's bulk in between.
    /// </summary>
    internal struct Bulk
    {
        public long Duration;
        public long PacketCount;
        public long SizeTotal;
        public long StateCount;
        public long PacketCountHelper;
        public long StartHelper;
        public long SizeHelper;
        public long LastBulkTs;

        /// <summary>V4 as it runs: the other direction's last bulk time is always the unused forward one, 0.</summary>
        public void UpdateCic(long size, long ts) => Update(size, ts, 0);

        public void Update(long size, long ts, long otherLastBulkTs)
        {
            if (otherLastBulkTs > StartHelper)
            {
                StartHelper = 0;
            }

            if (size <= 0)
            {
                return;
            }

            if (StartHelper == 0)
            {
                StartHelper = ts;
                PacketCountHelper = 1;
                SizeHelper = size;
                LastBulkTs = ts;
            }
            else if ((ts - LastBulkTs) / 1_000_000.0 > 1.0)
            {
                StartHelper = ts;
                LastBulkTs = ts;
                PacketCountHelper = 1;
                SizeHelper = size;
            }
            else
            {
                PacketCountHelper++;
                SizeHelper += size;
                if (PacketCountHelper == 4)
                {
                    StateCount++;
                    PacketCount += PacketCountHelper;
                    SizeTotal += SizeHelper;
                    Duration += ts - StartHelper;
                }
                else if (PacketCountHelper > 4)
                {
                    PacketCount++;
                    SizeTotal += size;
                    Duration += ts - LastBulkTs;
                }

                LastBulkTs = ts;
            }
        }

        public readonly long AvgBytes => StateCount != 0 ? SizeTotal / StateCount : 0;

        public readonly long AvgPackets => StateCount != 0 ? PacketCount / StateCount : 0;

        public readonly long AvgRate => Duration != 0 ? (long)(SizeTotal / (Duration / 1_000_000.0)) : 0;
    }
}
