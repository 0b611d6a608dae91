using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Stakeout.FlowMeter.Decoding;

/// <summary>What the decoder learnt from one packet: the facts a flow needs, nothing else.</summary>
internal struct DecodedPacket
{
    public long TimestampMicros;
    public Address Source;
    public Address Destination;
    public ushort SourcePort;
    public ushort DestinationPort;

    /// <summary>IP protocol number (for IPv6, the upper-layer protocol after extension headers).</summary>
    public byte Protocol;

    /// <summary>True when a TCP, UDP or ICMP header was decoded (false for other protocols and non-first fragments).</summary>
    public bool HasTransport;
    public bool IsIPv6;

    /// <summary>An IPv4/IPv6 fragment other than the first: no transport header in it.</summary>
    public bool IsLaterFragment;
    public byte TcpFlags;
    public ushort TcpWindow;
    public uint TcpSequence;
    public uint TcpAcknowledgment;

    /// <summary>Transport payload bytes, from the IP lengths (Ethernet padding excluded; snap-length truncation does not shrink it).</summary>
    public int PayloadBytes;

    /// <summary>Transport header bytes (TCP with options, 8 for UDP and ICMP).</summary>
    public int HeaderBytes;

    /// <summary>IP payload bytes (everything after the IP header and extension headers).</summary>
    public int IpPayloadBytes;

    /// <summary>Captured bytes after the transport header up to the end of the frame, Ethernet padding included (what jNetPcap calls the payload).</summary>
    public int CapturedPayloadBytes;

    /// <summary>The frame carried at least one 802.1Q/802.1ad tag.</summary>
    public bool VlanTagged;

    /// <summary>CICFlowMeter mode only: a non-IPv4 frame read from its first byte as if it were an IPv4 header, as V4 does.</summary>
    public bool IsMisreadFrame;
}

/// <summary>The layers the decoder knows. Each reads its own header and names the next layer through a dispatch table.</summary>
internal enum Layer : byte
{
    None,
    Ethernet,
    Vlan,
    LinuxSll,
    LinuxSll2,
    Null,
    RawIp,
    IPv4,
    IPv6,
    Tcp,
    Udp,
    Icmp,
    Icmp6,
}

/// <summary>
/// The dispatch tables of the layer chain: (link type → layer), (EtherType → layer), (IP protocol → layer). Built once,
/// validated and frozen; the decoder only reads them. Adding a protocol means adding a row here and a case in the chain.
/// Each is an array indexed by its key (link types and EtherTypes are 16-bit numbers), so a lookup is one bounds check
/// and one read: frozen dictionaries cost the decoding thread a tenth of its time, and building them a one-shot run
/// 25 ms at start (docs/benchmarks.md).
/// </summary>
internal sealed class DispatchTable
{
    public static readonly DispatchTable Default = new Builder()
        .Link(1, Layer.Ethernet)        // DLT_EN10MB
        .Link(113, Layer.LinuxSll)      // DLT_LINUX_SLL
        .Link(276, Layer.LinuxSll2)     // DLT_LINUX_SLL2
        .Link(0, Layer.Null)            // DLT_NULL (BSD loopback)
        .Link(101, Layer.RawIp)         // LINKTYPE_RAW
        .Link(12, Layer.RawIp)          // DLT_RAW on most systems
        .Link(14, Layer.RawIp)          // DLT_RAW on OpenBSD
        .Link(228, Layer.IPv4)          // LINKTYPE_IPV4
        .Link(229, Layer.IPv6)          // LINKTYPE_IPV6
        .EtherType(0x0800, Layer.IPv4)
        .EtherType(0x86DD, Layer.IPv6)
        .EtherType(0x8100, Layer.Vlan)  // 802.1Q
        .EtherType(0x88A8, Layer.Vlan)  // 802.1ad (QinQ outer tag)
        .EtherType(0x9100, Layer.Vlan)  // pre-standard QinQ
        .IpProtocol(6, Layer.Tcp)
        .IpProtocol(17, Layer.Udp)
        .IpProtocol(1, Layer.Icmp)
        .IpProtocol(58, Layer.Icmp6)
        .Freeze();

    private readonly Layer[] _links;
    private readonly Layer[] _etherTypes;
    private readonly Layer[] _ipProtocols;

    private DispatchTable(Layer[] links, Layer[] etherTypes, Layer[] ipProtocols)
    {
        _links = links;
        _etherTypes = etherTypes;
        _ipProtocols = ipProtocols;
    }

    /// <summary>The first layer of a frame of link type <paramref name="linkType"/>; <see cref="Layer.None"/> when unknown.</summary>
    internal Layer Link(int linkType) => (uint)linkType < (uint)_links.Length ? _links[linkType] : Layer.None;

    /// <summary>The layer an EtherType names; <see cref="Layer.None"/> when unknown.</summary>
    internal Layer EtherType(int etherType) => (uint)etherType < (uint)_etherTypes.Length ? _etherTypes[etherType] : Layer.None;

    internal Layer IpProtocol(byte protocol) => _ipProtocols[protocol];

    internal sealed class Builder
    {
        private readonly Layer[] _links = new Layer[ushort.MaxValue + 1];
        private readonly Layer[] _etherTypes = new Layer[ushort.MaxValue + 1];
        private readonly Layer[] _ip = new Layer[256];

        public Builder Link(int dlt, Layer layer) => Add(_links, dlt, layer, "link type");

        public Builder EtherType(int etherType, Layer layer) => Add(_etherTypes, etherType, layer, "EtherType");

        public Builder IpProtocol(byte protocol, Layer layer)
        {
            if (_ip[protocol] != Layer.None)
            {
                throw new InvalidOperationException($"IP protocol {protocol} is registered twice ({_ip[protocol]} and {layer}).");
            }

            _ip[protocol] = layer;
            return this;
        }

        /// <summary>The tables, the link table cut after its highest registered type.</summary>
        public DispatchTable Freeze()
            => new(_links.AsSpan(0, Array.FindLastIndex(_links, l => l != Layer.None) + 1).ToArray(), (Layer[])_etherTypes.Clone(), (Layer[])_ip.Clone());

        private Builder Add(Layer[] table, int key, Layer layer, string what)
        {
            if ((uint)key >= (uint)table.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(key), key, $"a {what} is a number from 0 to {table.Length - 1}.");
            }

            if (layer == Layer.None)
            {
                throw new ArgumentException($"{what} {key}: a registration names a layer.", nameof(layer));
            }

            if (table[key] != Layer.None)
            {
                throw new InvalidOperationException($"{what} {key} is registered twice ({table[key]} and {layer}).");
            }

            table[key] = layer;
            return this;
        }
    }
}

/// <summary>
/// Decodes one captured frame layer by layer over a <see cref="ReadOnlySpan{T}"/>: link (Ethernet, VLAN/QinQ, Linux
/// SLL/SLL2, BSD null, raw IP), network (IPv4 with options and fragments, IPv6 with extension headers), transport (TCP,
/// UDP, ICMP, ICMPv6). Every length is checked before it is read; a failure is counted by name and the packet skipped.
/// </summary>
/// <param name="weird">Where failures are counted.</param>
/// <param name="ipv6">Decode IPv6; when false an IPv6 packet is counted as <see cref="WeirdReason.IPv6Ignored"/>.</param>
/// <param name="misreadLikeV4">
/// Reproduce CICFlowMeter-V4's fallback for Ethernet frames it finds no IPv4 in (ARP, IPv6 when off, other EtherTypes):
/// it rescans the frame from byte 0 as an IPv4 header and meters whatever that yields when the header-length nibble is
/// at least 5. Off except in CICFlowMeter mode.
/// </param>
/// <param name="table">The dispatch table (default: <see cref="DispatchTable.Default"/>).</param>
internal sealed class PacketDecoder(WeirdCounters weird, bool ipv6 = true, bool misreadLikeV4 = false, DispatchTable? table = null)
{
    private const int MaxVlanTags = 4;
    private readonly DispatchTable _table = table ?? DispatchTable.Default;
    private readonly WeirdCounters _weird = weird ?? throw new ArgumentNullException(nameof(weird));

    /// <summary>Decodes <paramref name="frame"/>; false (with a weird counted) when it cannot be flow input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryDecode(int linkType, long timestampMicros, ReadOnlySpan<byte> frame, out DecodedPacket packet)
    {
        packet = default;
        packet.TimestampMicros = timestampMicros;
        Layer layer = _table.Link(linkType);
        if (layer == Layer.None)
        {
            _weird.Add(WeirdReason.UnsupportedLinkType);
            return false;
        }

        int offset = 0;
        int vlanTags = 0;
        while (true)
        {
            var rest = frame[offset..];
            switch (layer)
            {
                case Layer.Ethernet:
                    if (rest.Length < 14)
                    {
                        return Fail(WeirdReason.TruncatedEthernetFrame);
                    }

                    offset += 14;
                    layer = Next(BinaryPrimitives.ReadUInt16BigEndian(rest[12..]));
                    break;
                case Layer.Vlan:
                    if (rest.Length < 4 || ++vlanTags > MaxVlanTags)
                    {
                        return Fail(WeirdReason.TruncatedVlanHeader);
                    }

                    offset += 4;
                    packet.VlanTagged = true;
                    layer = Next(BinaryPrimitives.ReadUInt16BigEndian(rest[2..]));
                    break;
                case Layer.LinuxSll:
                    if (rest.Length < 16)
                    {
                        return Fail(WeirdReason.TruncatedSllHeader);
                    }

                    offset += 16;
                    layer = Next(BinaryPrimitives.ReadUInt16BigEndian(rest[14..]));
                    break;
                case Layer.LinuxSll2:
                    if (rest.Length < 20)
                    {
                        return Fail(WeirdReason.TruncatedSllHeader);
                    }

                    offset += 20;
                    layer = Next(BinaryPrimitives.ReadUInt16BigEndian(rest));
                    break;
                case Layer.Null:
                    if (rest.Length < 4)
                    {
                        return Fail(WeirdReason.TruncatedNullHeader);
                    }

                    // The family is in the writer's byte order: 2 is IPv4; 24, 28 and 30 are IPv6 on the BSDs.
                    uint family = BinaryPrimitives.ReadUInt32LittleEndian(rest);
                    if (family > 0xFFFF)
                    {
                        family = BinaryPrimitives.ReverseEndianness(family);
                    }

                    offset += 4;
                    layer = family == 2 ? Layer.IPv4 : family is 24 or 28 or 30 ? Layer.IPv6 : Layer.None;
                    if (layer == Layer.None)
                    {
                        return Fail(WeirdReason.NonIpPacket);
                    }

                    break;
                case Layer.RawIp:
                    if (rest.IsEmpty)
                    {
                        return Fail(WeirdReason.TruncatedIPv4Header);
                    }

                    layer = (rest[0] >> 4) switch { 4 => Layer.IPv4, 6 => Layer.IPv6, _ => Layer.None };
                    if (layer == Layer.None)
                    {
                        return Fail(WeirdReason.BadIPVersion);
                    }

                    break;
                case Layer.IPv4:
                    return DecodeIPv4(rest, ref packet);
                case Layer.IPv6:
                    if (!ipv6)
                    {
                        return MisreadOrFail(linkType, frame, WeirdReason.IPv6Ignored, ref packet);
                    }

                    return DecodeIPv6(rest, ref packet);
                default:
                    return MisreadOrFail(linkType, frame, WeirdReason.NonIpPacket, ref packet);
            }
        }
    }

    private bool MisreadOrFail(int linkType, ReadOnlySpan<byte> frame, WeirdReason reason, ref DecodedPacket packet)
    {
        if (!misreadLikeV4 || linkType != 1 || frame.Length < 20 || (frame[0] & 0x0F) < 5)
        {
            return Fail(reason);
        }

        // What V4 meters from such a frame: "addresses" from bytes 12-19 (EtherType, VLAN tag, ARP fields...), no
        // transport header, so protocol 0 after the mode's policy.
        _weird.Add(WeirdReason.CicFlowMeterMisreadFrame);
        packet.Source = Address.V4(frame[12..]);
        packet.Destination = Address.V4(frame[16..]);
        packet.Protocol = 0;
        packet.IsMisreadFrame = true;
        _weird.Decoded++;
        return true;
    }

    private Layer Next(int etherType) => _table.EtherType(etherType);

    private bool Fail(WeirdReason reason)
    {
        _weird.Add(reason);
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool DecodeIPv4(ReadOnlySpan<byte> ip, ref DecodedPacket packet)
    {
        if (ip.Length < 20)
        {
            return Fail(WeirdReason.TruncatedIPv4Header);
        }

        if (ip[0] >> 4 != 4)
        {
            return Fail(WeirdReason.BadIPVersion);
        }

        int headerLength = (ip[0] & 0x0F) * 4;
        if (headerLength < 20 || headerLength > ip.Length)
        {
            return Fail(WeirdReason.BadIPv4HeaderLength);
        }

        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        if (totalLength == 0)
        {
            totalLength = ip.Length; // TCP segmentation offload leaves 0 here; the captured length is the best we have
        }
        else if (totalLength < headerLength)
        {
            return Fail(WeirdReason.BadIPv4TotalLength);
        }

        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
        bool moreFragments = (fragment & 0x2000) != 0;
        int fragmentOffset = fragment & 0x1FFF;
        if (moreFragments || fragmentOffset != 0)
        {
            _weird.IPv4Fragments++;
        }

        packet.Source = Address.V4(ip[12..]);
        packet.Destination = Address.V4(ip[16..]);
        packet.Protocol = ip[9];
        packet.IpPayloadBytes = totalLength - headerLength;
        if (fragmentOffset != 0)
        {
            packet.IsLaterFragment = true;
            _weird.Decoded++;
            return true;
        }

        // Ethernet padding lies beyond the total length; a snap length may cut the payload short. Headers must be whole.
        int end = Math.Min(totalLength, ip.Length);
        return DecodeTransport(ip[headerLength..end], packet.IpPayloadBytes, ip.Length - headerLength, ref packet);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool DecodeIPv6(ReadOnlySpan<byte> ip, ref DecodedPacket packet)
    {
        if (ip.Length < 40)
        {
            return Fail(WeirdReason.TruncatedIPv6Header);
        }

        if (ip[0] >> 4 != 6)
        {
            return Fail(WeirdReason.BadIPVersion);
        }

        packet.IsIPv6 = true;
        packet.Source = Address.V6(ip[8..]);
        packet.Destination = Address.V6(ip[24..]);
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if (payloadLength == 0)
        {
            payloadLength = ip.Length - 40; // jumbogram or offload: use what was captured
        }

        byte next = ip[6];
        int offset = 40;
        int limit = Math.Min(ip.Length, 40 + payloadLength);
        for (int hops = 0; hops < 16; hops++)
        {
            switch (next)
            {
                case 0 or 43 or 60 or 135 or 139 or 140: // hop-by-hop, routing, destination options, mobility, HIP, shim6
                    if (offset + 8 > limit)
                    {
                        return Fail(WeirdReason.TruncatedIPv6ExtensionHeader);
                    }

                    int len = (ip[offset + 1] + 1) * 8;
                    next = ip[offset];
                    offset += len;
                    if (offset > limit)
                    {
                        return Fail(WeirdReason.TruncatedIPv6ExtensionHeader);
                    }

                    continue;
                case 51: // AH: length in 4-byte units, minus 2
                    if (offset + 8 > limit)
                    {
                        return Fail(WeirdReason.TruncatedIPv6ExtensionHeader);
                    }

                    int ahLen = (ip[offset + 1] + 2) * 4;
                    next = ip[offset];
                    offset += ahLen;
                    if (offset > limit)
                    {
                        return Fail(WeirdReason.TruncatedIPv6ExtensionHeader);
                    }

                    continue;
                case 44: // fragment
                    if (offset + 8 > limit)
                    {
                        return Fail(WeirdReason.TruncatedIPv6ExtensionHeader);
                    }

                    int fragOffset = BinaryPrimitives.ReadUInt16BigEndian(ip[(offset + 2)..]) >> 3;
                    next = ip[offset];
                    offset += 8;
                    if (fragOffset != 0)
                    {
                        packet.Protocol = next;
                        packet.IsLaterFragment = true;
                        packet.IpPayloadBytes = Math.Max(0, 40 + payloadLength - offset);
                        _weird.Decoded++;
                        return true;
                    }

                    continue;
                default:
                    break;
            }

            break;
        }

        packet.Protocol = next;
        packet.IpPayloadBytes = Math.Max(0, 40 + payloadLength - offset);
        return DecodeTransport(ip[Math.Min(offset, limit)..limit], packet.IpPayloadBytes, Math.Max(0, ip.Length - offset), ref packet);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool DecodeTransport(ReadOnlySpan<byte> l4, int l4Length, int capturedToFrameEnd, ref DecodedPacket packet)
    {
        switch (_table.IpProtocol(packet.Protocol))
        {
            case Layer.Tcp:
                if (l4.Length < 20)
                {
                    return Fail(l4Length < 20 ? WeirdReason.BadTcpHeaderLength : WeirdReason.TruncatedTcpHeader);
                }

                int tcpHeader = (l4[12] >> 4) * 4;
                if (tcpHeader < 20 || tcpHeader > l4Length)
                {
                    return Fail(WeirdReason.BadTcpHeaderLength);
                }

                if (tcpHeader > l4.Length)
                {
                    return Fail(WeirdReason.TruncatedTcpHeader);
                }

                packet.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(l4);
                packet.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
                packet.TcpSequence = BinaryPrimitives.ReadUInt32BigEndian(l4[4..]);
                packet.TcpAcknowledgment = BinaryPrimitives.ReadUInt32BigEndian(l4[8..]);
                packet.TcpFlags = l4[13];
                packet.TcpWindow = BinaryPrimitives.ReadUInt16BigEndian(l4[14..]);
                packet.HeaderBytes = tcpHeader;
                packet.PayloadBytes = l4Length - tcpHeader;
                packet.CapturedPayloadBytes = capturedToFrameEnd - tcpHeader;
                packet.HasTransport = true;
                break;
            case Layer.Udp:
                if (l4.Length < 8)
                {
                    return Fail(WeirdReason.TruncatedUdpHeader);
                }

                packet.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(l4);
                packet.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(l4[2..]);
                packet.HeaderBytes = 8;
                packet.PayloadBytes = Math.Max(0, l4Length - 8);
                packet.CapturedPayloadBytes = capturedToFrameEnd - 8;
                packet.HasTransport = true;
                break;
            case Layer.Icmp or Layer.Icmp6:
                if (l4.Length < 4)
                {
                    return Fail(WeirdReason.TruncatedIcmpHeader);
                }

                packet.HeaderBytes = Math.Min(8, l4Length);
                packet.PayloadBytes = Math.Max(0, l4Length - 8);
                packet.HasTransport = true;
                break;
            default:
                packet.PayloadBytes = l4Length;
                break;
        }

        _weird.Decoded++;
        return true;
    }
}
