using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Stakeout.Core;
using Stakeout.FlowMeter.Decoding;

namespace Stakeout.FlowMeter.Flows;

/// <summary>
/// The bidirectional flow table: finds each packet's flow, applies the mode's termination and timeout rules on packet
/// time, and hands ended flows to an <see cref="IFlowSink"/>. Bounded: when full, the oldest flow is ended and counted.
/// </summary>
internal sealed class FlowTable
{
    private readonly FlowMeterOptions _options;
    private readonly IFlowSink _sink;
    private readonly WeirdCounters _weird;
    private readonly FlowMap _flows = new();
    private readonly Stack<FlowState> _free = new();
    private readonly Queue<(FlowState Flow, long Generation)> _tombstones = new();
    private readonly double[] _features = new double[FeatureSchema.Count];
    private readonly bool _cic;
    private readonly bool _v4Order;
    private readonly long _flowTimeout;
    private readonly long _activityTimeout;
    private readonly long _emitInterval;
    private FlowState? _head;
    private FlowState? _tail;
    private long _nextSweep = long.MinValue;
    private long _lastPacket = long.MinValue;
    private long _javaInsertions;
    private long _javaPeak;
    private long _parkedWithoutRow;

    // V4 order: conversations whose tombstone was reclaimed but that V4's map still holds (with the held row, if any).
    private readonly Dictionary<FlowKey, Parked> _parked = [];
    private readonly HeldRowStore _held = new();

    // One bit per hash slot of every key ever parked (cleared at the end of the capture): a new flow looks in _parked
    // only when its bit is set. Most new flows are not parked conversations, and the dictionary lookup they skipped
    // was a cache miss per new flow (7 % of `stakeout flows`; docs/benchmarks.md).
    private readonly ulong[] _parkedFilter = new ulong[ParkedFilterBits / 64];
    private const int ParkedFilterBits = 1 << 20;

    public FlowTable(FlowMeterOptions options, IFlowSink sink, WeirdCounters weird)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
        _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        _weird = weird ?? throw new ArgumentNullException(nameof(weird));
        _cic = options.Mode == FlowMeterMode.CicFlowMeter;
        _v4Order = options.Order != FlowOrder.AsEnded;
        _flowTimeout = (long)options.FlowTimeout.TotalMicroseconds;
        _activityTimeout = (long)options.ActivityTimeout.TotalMicroseconds;
        _emitInterval = options.EmitInterval is { } i ? (long)i.TotalMicroseconds : 0;
    }

    public FlowTableStats Stats { get; } = new();

    public int Count => _flows.Count - _tombstones.Count(t => t.Flow.Expired && t.Flow.Generation == t.Generation);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ref DecodedPacket p)
    {
        if (!Admit(ref p))
        {
            return;
        }

        long now = p.TimestampMicros;
        _lastPacket = now;
        if (now >= _nextSweep)
        {
            Sweep(now);
            _nextSweep = now + 1_000_000;
        }

        var key = FlowKey.Of(p.Source, p.SourcePort, p.Destination, p.DestinationPort, p.Protocol);
        if (!_flows.TryGetValue(key, out FlowState? flow))
        {
            Start(key, ref p);
            return;
        }

        if (flow.Expired)
        {
            // A flow already reported by the packet clock: V4 would have started the new flow from this packet with the
            // old orientation, and so does CICFlowMeter mode; corrected mode starts it the way the packet goes.
            Unlink(flow);
            if (_v4Order)
            {
                // V4 writes a timed-out flow when the next packet of its conversation arrives.
                Emit(flow.Held, FlowEndReason.FlowTimeout);
                flow.Held = HeldRowStore.None;
            }

            Restart(flow, ref p, inherit: _cic);
            return;
        }

        if (now - flow.FlowStart > _flowTimeout)
        {
            End(flow, FlowEndReason.FlowTimeout, remove: false);
            Unlink(flow);
            Restart(flow, ref p, inherit: _cic);
            return;
        }

        if (_cic)
        {
            AddCic(flow, ref p);
        }
        else
        {
            AddCorrected(flow, ref p);
        }
    }

    public void AdvanceClock(long now)
    {
        if (now > _lastPacket)
        {
            Sweep(now);
        }
    }

    /// <summary>Ends every open flow (end of capture): oldest first, or in V4's HashMap order.</summary>
    public void Flush()
    {
        if (_v4Order)
        {
            FlushInJavaHashMapOrder();
        }

        while (_head is { } flow)
        {
            End(flow, FlowEndReason.EndOfCapture, remove: true);
        }

        _flows.Clear();
        _tombstones.Clear();
    }

    /// <summary>Applies the mode's view of which packets are flow input.</summary>
    private bool Admit(ref DecodedPacket p)
    {
        bool tcpOrUdp = p.HasTransport && p.Protocol is 6 or 17;
        if (_cic)
        {
            // jNetPcap gives V4 no TCP/UDP header for ICMP, other protocols or later fragments: V4 still meters the
            // packet, as protocol 0 with ports, lengths, flags and window all 0.
            if (!tcpOrUdp)
            {
                p.Protocol = 0;
                p.SourcePort = p.DestinationPort = 0;
                p.PayloadBytes = p.HeaderBytes = 0;
                p.TcpFlags = 0;
                p.TcpWindow = 0;
            }
            else
            {
                // jNetPcap trims Ethernet padding by the IP length only for untagged frames: behind a VLAN tag the
                // payload runs to the end of the captured frame, padding and all.
                if (p.VlanTagged)
                {
                    p.PayloadBytes = Math.Max(0, p.CapturedPayloadBytes);
                }

                if (p.Protocol == 17)
                {
                    p.TcpWindow = 0;
                }
            }

            return true;
        }

        if (p.IsLaterFragment)
        {
            _weird.Add(WeirdReason.IPFragmentNotReassembled);
            return false;
        }

        if (!p.HasTransport)
        {
            _weird.Add(WeirdReason.UnsupportedIPProtocol);
            return false;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddCic(FlowState flow, ref DecodedPacket p)
    {
        // V4 as released: any FIN ends the flow with that packet, whichever side sent it, and without the active/idle
        // update the other packets get. RST does not end a flow.
        if ((p.TcpFlags & FlowState.Fin) != 0)
        {
            flow.AddPacketCic(p);
            End(flow, FlowEndReason.Fin, remove: true);
            return;
        }

        flow.UpdateActiveIdleCic(p.TimestampMicros, _activityTimeout);
        flow.AddPacketCic(p);
        MaybeInterval(flow, p.TimestampMicros);
    }

    private void AddCorrected(FlowState flow, ref DecodedPacket p)
    {
        bool forward = flow.IsForward(p, byAddressOnly: false);
        byte flags = p.TcpFlags;
        if (p.Protocol == 6 && (flags & (FlowState.Syn | FlowState.Ack)) == FlowState.Syn && flow.FinFromForward && flow.FinFromBackward)
        {
            // A new connection reusing the ports of one that has closed but was never acknowledged: a new flow.
            End(flow, FlowEndReason.TcpClosed, remove: false);
            Unlink(flow);
            Restart(flow, ref p, inherit: false);
            return;
        }

        flow.AddPacketCorrected(p, forward, first: false, _activityTimeout);
        if (p.Protocol != 6)
        {
            MaybeInterval(flow, p.TimestampMicros);
            return;
        }

        if ((flags & FlowState.Rst) != 0)
        {
            End(flow, FlowEndReason.Rst, remove: true);
            return;
        }

        if (flow.TrackClose(p, forward))
        {
            End(flow, FlowEndReason.TcpClosed, remove: true);
            return;
        }

        MaybeInterval(flow, p.TimestampMicros);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Start(in FlowKey key, ref DecodedPacket p)
    {
        if (_flows.Count >= _options.MaxFlows)
        {
            MakeRoom();
        }

        var flow = _free.Count > 0 ? _free.Pop() : new FlowState();
        if (_v4Order && MayBeParked(key) && _parked.Remove(key, out var parked))
        {
            // V4 still held this conversation: it writes the timed-out flow now and starts the next one the old way.
            Emit(parked.Row, FlowEndReason.FlowTimeout);
            flow.Reset(key, parked.Src, parked.SrcPort, parked.Dst, parked.DstPort, parked.Protocol);
        }
        else
        {
            flow.Reset(key, p.Source, p.SourcePort, p.Destination, p.DestinationPort, p.Protocol);
        }

        _flows.Set(flow);
        if (_v4Order)
        {
            flow.JavaInsertion = _javaInsertions++;
            _javaPeak = Math.Max(_javaPeak, _flows.Count + _parked.Count + _parkedWithoutRow);
        }

        Stats.Started++;
        Stats.PeakFlows = Math.Max(Stats.PeakFlows, _flows.Count);
        First(flow, ref p);
    }

    private void Restart(FlowState flow, ref DecodedPacket p, bool inherit)
    {
        var key = flow.Key;
        if (inherit)
        {
            flow.Reset(key, flow.Src, flow.SrcPort, flow.Dst, flow.DstPort, flow.Protocol);

            // V4 removes the timed-out flow and puts the new one under the same key: the end of its bucket's chain.
            flow.JavaInsertion = _javaInsertions++;
        }
        else
        {
            flow.Reset(key, p.Source, p.SourcePort, p.Destination, p.DestinationPort, p.Protocol);
        }

        Stats.Started++;
        First(flow, ref p);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void First(FlowState flow, ref DecodedPacket p)
    {
        if (_cic)
        {
            flow.FirstPacketCic(p);
        }
        else
        {
            flow.AddPacketCorrected(p, flow.IsForward(p, byAddressOnly: false), first: true, _activityTimeout);
        }

        flow.LastEmit = p.TimestampMicros;
        Append(flow);
        if (!_cic && p.Protocol == 6)
        {
            if ((p.TcpFlags & FlowState.Rst) != 0)
            {
                End(flow, FlowEndReason.Rst, remove: true);
            }
            else
            {
                flow.TrackClose(p, forward: true);
            }
        }
    }

    /// <summary>Reports flows whose timeout has passed on the packet clock, oldest first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Sweep(long now)
    {
        // Tombstones only matter for a conversation that resumes soon after its flow timed out; after one more flow
        // timeout they are reclaimed, which bounds the memory they hold (see docs/flow-meter.md).
        while (_tombstones.TryPeek(out var t) && (!t.Flow.Expired || t.Flow.Generation != t.Generation || now - t.Flow.FlowStart > 2 * _flowTimeout))
        {
            _tombstones.Dequeue();
            if (t.Flow.Expired && t.Flow.Generation == t.Generation)
            {
                Park(t.Flow);
                _flows.Remove(t.Flow.Key);
                t.Flow.Expired = false;
                t.Flow.Generation++;
                _free.Push(t.Flow);
            }
        }

        while (_head is { } flow && now - flow.FlowStart > _flowTimeout)
        {
            if (_cic)
            {
                // Keep the key with its orientation so that a later packet of this conversation starts its new flow
                // the way V4 would (see Add). The tombstone costs one table slot until reused or evicted. In V4 order
                // the row waits (Hold) until V4 would write it: at the conversation's next packet, or at the end.
                if (_v4Order)
                {
                    Hold(flow);
                }
                else
                {
                    Report(flow, FlowEndReason.FlowTimeout);
                }

                Unlink(flow);
                flow.Expired = true;
                _tombstones.Enqueue((flow, flow.Generation));
            }
            else
            {
                End(flow, FlowEndReason.FlowTimeout, remove: true);
            }
        }
    }

    private void MakeRoom()
    {
        while (_tombstones.TryDequeue(out var t))
        {
            if (t.Flow.Expired && t.Flow.Generation == t.Generation)
            {
                Park(t.Flow);
                _flows.Remove(t.Flow.Key);
                _free.Push(t.Flow);
                return;
            }
        }

        if (_head is { } oldest)
        {
            Stats.Evicted++;
            End(oldest, FlowEndReason.Evicted, remove: true);
        }
    }

    private void MaybeInterval(FlowState flow, long now)
    {
        if (_emitInterval > 0 && now - flow.LastEmit >= _emitInterval)
        {
            flow.LastEmit = now;
            Report(flow, FlowEndReason.Interval);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void End(FlowState flow, FlowEndReason reason, bool remove)
    {
        Report(flow, reason);
        if (remove)
        {
            Unlink(flow);
            _flows.Remove(flow.Key);
            _free.Push(flow);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Report(FlowState flow, FlowEndReason reason)
    {
        // V4 writes a flow only when it holds more than one packet, except when a FIN ended it.
        if (_cic && flow.PacketCount <= 1 && reason != FlowEndReason.Fin)
        {
            Stats.SuppressedSinglePacket++;
            return;
        }

        Stats.Count(reason);
        FlowFeatures.Compute(flow, _options.Mode, _features);
        _sink.OnFlow(new CompletedFlow(Identity(flow), flow.FlowStart, flow.PacketCount, reason, _features));
    }

    /// <summary>The Flow ID text of a forward source, destination, ports and protocol.</summary>
    internal static string FlowIdText(Address src, Address dst, ushort srcPort, ushort dstPort, byte protocol)
        => string.Create(CultureInfo.InvariantCulture, $"{src}-{dst}-{srcPort}-{dstPort}-{protocol}");

    /// <summary>
    /// The Java hash of <see cref="FlowIdText(Address, Address, ushort, ushort, byte)"/>, computed without writing the
    /// text. Only the flows V4's map still holds at the end of the capture need it (their place in its iteration order),
    /// so it is computed there, from the orientation the flow keeps, and not for each of the million new flows of a SYN
    /// scan (it was 7 % of `stakeout flows` when computed at every flow's start; docs/benchmarks.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int JavaFlowIdHash(Address src, Address dst, ushort srcPort, ushort dstPort, byte protocol)
    {
        if (src.IsV6 || dst.IsV6)
        {
            return JavaHashMapOrder.StringHash(FlowIdText(src, dst, srcPort, dstPort, protocol));
        }

        // Java's String.hashCode (h = 31h + c) of "a.b.c.d-e.f.g.h-sport-dport-proto", fed number by number: the text is
        // never written out (equal to JavaHashMapOrder.StringHash of FlowIdText; FlowOrderTests hold it to that).
        int h = HashIPv4(0, (uint)src.Low);
        h = Next(h, '-');
        h = HashIPv4(h, (uint)dst.Low);
        h = Next(h, '-');
        h = HashNumber(h, srcPort);
        h = Next(h, '-');
        h = HashNumber(h, dstPort);
        h = Next(h, '-');
        return HashNumber(h, protocol);

        static int Next(int h, char c) => unchecked((31 * h) + c);

        static int HashIPv4(int h, uint v)
        {
            h = HashNumber(h, v >> 24);
            h = Next(h, '.');
            h = HashNumber(h, (v >> 16) & 0xFF);
            h = Next(h, '.');
            h = HashNumber(h, (v >> 8) & 0xFF);
            h = Next(h, '.');
            return HashNumber(h, v & 0xFF);
        }

        // hash(prefix + digits) = hash(prefix) * 31^len + hash(digits): one multiply-add per number, from a table.
        static int HashNumber(int h, uint v) => unchecked((h * DecimalHashes.Pow31[DecimalHashes.Length[v]]) + DecimalHashes.Hash[v]);
    }

    /// <summary>Java's String.hashCode and length of the decimal text of every number 0-65535 (ports, octets, protocols).</summary>
    private static class DecimalHashes
    {
        public static readonly int[] Pow31 = [1, 31, 961, 29791, 923521, 28629151];
        public static readonly int[] Hash = new int[65536];
        public static readonly byte[] Length = new byte[65536];

#pragma warning disable CA1810 // the two tables are filled together in one pass
        static DecimalHashes()
#pragma warning restore CA1810
        {
            Span<char> text = stackalloc char[5];
            for (uint v = 0; v < 65536; v++)
            {
                v.TryFormat(text, out int n, default, CultureInfo.InvariantCulture);
                Hash[v] = JavaHashMapOrder.StringHash(text[..n]);
                Length[v] = (byte)n;
            }
        }
    }

    /// <summary>
    /// Reports the open flows in the order V4's <c>currentFlows.values()</c> walks them at the end of the capture. The
    /// map held at most <see cref="FlowTableStats.PeakFlows"/> entries at once (V4 removes a flow at its FIN, puts its
    /// successor after a timeout), which fixes its table size; see <see cref="JavaHashMapOrder"/>.
    /// </summary>
    private void FlushInJavaHashMapOrder()
    {
        // Everything V4's map still holds: open flows, flows the sweep found timed out (tombstones with their held row),
        // and conversations parked after their tombstone was reclaimed.
        int capacity = JavaHashMapOrder.Capacity(_javaPeak);
        var entries = new List<MapEntry>(_flows.Count + _parked.Count);
        foreach (var flow in _flows.Values())
        {
            int hash = JavaFlowIdHash(flow.Src, flow.Dst, flow.SrcPort, flow.DstPort, flow.Protocol);
            entries.Add(new MapEntry(JavaHashMapOrder.Bucket(hash, capacity), flow.JavaInsertion, flow, HeldRowStore.None));
        }

        foreach (var parked in _parked.Values)
        {
            int hash = JavaFlowIdHash(parked.Src, parked.Dst, parked.SrcPort, parked.DstPort, parked.Protocol);
            entries.Add(new MapEntry(JavaHashMapOrder.Bucket(hash, capacity), parked.JavaInsertion, null, parked.Row));
        }

        var ordered = CollectionsMarshal.AsSpan(entries);
        ordered.Sort(default(MapOrder));
        foreach (var (_, _, flow, row) in ordered)
        {
            if (flow is null)
            {
                Emit(row, FlowEndReason.EndOfCapture);
            }
            else if (flow.Expired)
            {
                Emit(flow.Held, FlowEndReason.EndOfCapture);
                flow.Held = HeldRowStore.None;
            }
            else
            {
                End(flow, FlowEndReason.EndOfCapture, remove: true);
            }
        }

        _parked.Clear();
        Array.Clear(_parkedFilter);
    }

    /// <summary>A flow V4's map holds at the end: its bucket, its insertion number (order within the bucket), and the flow or its parked row.</summary>
    private readonly record struct MapEntry(int Bucket, long Insertion, FlowState? Flow, int Row);

    /// <summary>V4's iteration order: bucket, then insertion (a struct comparer, so the sort is specialised for it).</summary>
    private readonly struct MapOrder : IComparer<MapEntry>
    {
        public int Compare(MapEntry a, MapEntry b) => a.Bucket != b.Bucket ? a.Bucket.CompareTo(b.Bucket) : a.Insertion.CompareTo(b.Insertion);
    }

    private static int ParkedSlot(in FlowKey key) => key.GetHashCode() & (ParkedFilterBits - 1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool MayBeParked(in FlowKey key)
    {
        int slot = ParkedSlot(key);
        return (_parkedFilter[slot >> 6] & (1UL << (slot & 63))) != 0;
    }

    private void MarkParked(in FlowKey key)
    {
        int slot = ParkedSlot(key);
        _parkedFilter[slot >> 6] |= 1UL << (slot & 63);
    }

    /// <summary>Computes a timed-out flow's row now (no packet can change it) and keeps it until V4 would write it.</summary>
    private void Hold(FlowState flow)
    {
        if (flow.PacketCount <= 1)
        {
            Stats.SuppressedSinglePacket++;
            flow.Held = HeldRowStore.None;
            return;
        }

        FlowFeatures.Compute(flow, _options.Mode, _features);
        flow.Held = _held.Add(Identity(flow), flow.FlowStart, flow.PacketCount, _features);
    }

    /// <summary>A reclaimed tombstone that V4's map would still hold: its orientation, place in the map and held row.</summary>
    private void Park(FlowState flow)
    {
        if (_v4Order && flow.Held == HeldRowStore.None)
        {
            // Nothing to write (one packet): only its place in V4's map size is kept, as a count, so that a capture of
            // a million SYN probes does not hold a million entries. A conversation that resumes after this starts
            // with its own first packet's orientation (V4: the old one); see docs/flow-meter.md.
            _parkedWithoutRow++;
            return;
        }

        if (_v4Order)
        {
            MarkParked(flow.Key);
            _parked[flow.Key] = new Parked(flow.Held, flow.Src, flow.SrcPort, flow.Dst, flow.DstPort, flow.Protocol, flow.JavaInsertion);
            flow.Held = HeldRowStore.None;
        }
    }

    private void Emit(int row, FlowEndReason reason)
    {
        if (row == HeldRowStore.None)
        {
            return;
        }

        Stats.Count(reason);
        _sink.OnFlow(_held.Get(row, reason));
        _held.Release(row);
    }

    private static FlowIdentity Identity(FlowState flow)
        => new(flow.Src.ToValue(), flow.SrcPort, flow.Dst.ToValue(), flow.DstPort, flow.Protocol, ToUtc(flow.FlowStart));

    private readonly record struct Parked(int Row, Address Src, ushort SrcPort, Address Dst, ushort DstPort, byte Protocol, long JavaInsertion);

    /// <summary>The start as a UTC time; a damaged capture can carry times no <see cref="DateTime"/> holds, which become MinValue.</summary>
    private static DateTime ToUtc(long micros)
    {
        long maxMicros = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        return micros >= 0 && micros <= maxMicros ? DateTime.UnixEpoch.AddTicks(micros * 10) : DateTime.MinValue;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Append(FlowState flow)
    {
        flow.Prev = _tail;
        flow.Next = null;
        if (_tail is null)
        {
            _head = flow;
        }
        else
        {
            _tail.Next = flow;
        }

        _tail = flow;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Unlink(FlowState flow)
    {
        if (flow.Prev is null && flow.Next is null && _head != flow)
        {
            return; // not linked (a tombstone)
        }

        if (flow.Prev is null)
        {
            _head = flow.Next;
        }
        else
        {
            flow.Prev.Next = flow.Next;
        }

        if (flow.Next is null)
        {
            _tail = flow.Prev;
        }
        else
        {
            flow.Next.Prev = flow.Prev;
        }

        flow.Prev = flow.Next = null;
    }
}
