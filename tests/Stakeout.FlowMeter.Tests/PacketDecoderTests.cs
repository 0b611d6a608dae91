using Stakeout.FlowMeter.Decoding;
using static Stakeout.FlowMeter.Tests.Packets;

namespace Stakeout.FlowMeter.Tests;

public sealed class PacketDecoderTests
{
    private static (bool Ok, DecodedPacket Packet, WeirdCounters Weird) Decode(int linkType, byte[] frame, bool ipv6 = true)
    {
        var weird = new WeirdCounters();
        bool ok = new PacketDecoder(weird, ipv6).TryDecode(linkType, 5, frame, out var packet);
        return (ok, packet, weird);
    }

    [Fact]
    public void TryDecode_EthernetIPv4OptionsTcpOptions_HeaderAndPayloadFromLengths()
    {
        var frame = Ethernet(IPv4("192.168.1.2", "10.0.0.9", 6, Tcp(40000, 443, (byte)(Psh | Ack), payload: 3, window: 512, optionBytes: 12), optionBytes: 8));

        var (ok, p, weird) = Decode(1, frame);

        Assert.True(ok);
        Assert.Equal((ushort)40000, p.SourcePort);
        Assert.Equal((ushort)443, p.DestinationPort);
        Assert.Equal(32, p.HeaderBytes);
        Assert.Equal(3, p.PayloadBytes);
        Assert.Equal((ushort)512, p.TcpWindow);
        Assert.Equal((byte)(Psh | Ack), p.TcpFlags);
        Assert.Equal("192.168.1.2", p.Source.ToString());
        Assert.Equal(0, weird.Total);
    }

    [Fact]
    public void TryDecode_EthernetPadding_NotCountedAsPayload()
    {
        var frame = TcpFrame("10.0.0.1", 1, "10.0.0.2", 2, Ack); // 54 bytes padded to 60

        var (ok, p, _) = Decode(1, frame);

        Assert.True(ok);
        Assert.Equal(0, p.PayloadBytes);
        Assert.Equal(6, p.CapturedPayloadBytes);
    }

    [Fact]
    public void TryDecode_QinQ_ReachesTcp()
    {
        var frame = Ethernet(IPv4("10.0.0.1", "10.0.0.2", 6, Tcp(1, 2, Syn)), 0x0800, 0x88A8, 0x8100);

        var (ok, p, _) = Decode(1, frame);

        Assert.True(ok);
        Assert.True(p.VlanTagged);
        Assert.Equal((byte)6, p.Protocol);
    }

    [Fact]
    public void TryDecode_LinuxSllAndSll2AndRawIp_ReachIPv4()
    {
        byte[] ip = IPv4("10.0.0.1", "10.0.0.2", 17, Udp(5353, 53, 10));
        var sll = new byte[16 + ip.Length];
        sll[14] = 0x08;
        ip.CopyTo(sll, 16);
        var sll2 = new byte[20 + ip.Length];
        sll2[0] = 0x08;
        ip.CopyTo(sll2, 20);

        foreach (var (link, frame) in new[] { (113, sll), (276, sll2), (101, ip), (12, ip), (228, ip) })
        {
            var (ok, p, _) = Decode(link, frame);
            Assert.True(ok, $"link type {link}");
            Assert.Equal(10, p.PayloadBytes);
            Assert.Equal(8, p.HeaderBytes);
        }
    }

    [Fact]
    public void TryDecode_IPv6HopByHopAndFirstFragment_ReachesTcp()
    {
        var src = new byte[16];
        src[0] = 0x20;
        src[15] = 1;
        var dst = new byte[16];
        dst[0] = 0x20;
        dst[15] = 2;
        byte[] tcp = Tcp(5000, 22, Syn, payload: 4);
        var ext = new byte[8 + 8 + tcp.Length];
        ext[0] = 44; // hop-by-hop -> fragment
        ext[8] = 6;  // fragment -> TCP, offset 0, more fragments
        ext[11] = 1;
        tcp.CopyTo(ext, 16);

        var (ok, p, _) = Decode(229, IPv6(src, dst, 0, ext));

        Assert.True(ok);
        Assert.True(p.IsIPv6);
        Assert.Equal((byte)6, p.Protocol);
        Assert.Equal((ushort)22, p.DestinationPort);
        Assert.Equal(4, p.PayloadBytes);
    }

    [Fact]
    public void TryDecode_IPv6WhenOff_CountsIPv6Ignored()
    {
        var (ok, _, weird) = Decode(229, IPv6(new byte[16], new byte[16], 59, []), ipv6: false);

        Assert.False(ok);
        Assert.Equal(1, weird[WeirdReason.IPv6Ignored]);
    }

    [Theory]
    [InlineData(1, 10, WeirdReason.TruncatedEthernetFrame)]
    [InlineData(147, 60, WeirdReason.UnsupportedLinkType)]
    public void TryDecode_BadLinkLayer_CountsByName(int linkType, int length, WeirdReason expected)
    {
        var (ok, _, weird) = Decode(linkType, new byte[length]);

        Assert.False(ok);
        Assert.Equal(1, weird[expected]);
    }

    [Fact]
    public void TryDecode_Arp_CountsNonIp()
    {
        var (ok, _, weird) = Decode(1, Ethernet(new byte[28], 0x0806));

        Assert.False(ok);
        Assert.Equal(1, weird[WeirdReason.NonIpPacket]);
    }

    [Fact]
    public void TryDecode_IPv4HeaderLengthBeyondCapture_CountsBadHeaderLength()
    {
        byte[] ip = IPv4("10.0.0.1", "10.0.0.2", 6, Tcp(1, 2, Syn));
        ip[0] = 0x4F; // 60-byte header claimed in a 40-byte packet

        var (ok, _, weird) = Decode(101, ip);

        Assert.False(ok);
        Assert.Equal(1, weird[WeirdReason.BadIPv4HeaderLength]);
    }

    [Fact]
    public void TryDecode_TcpDataOffsetTooSmall_CountsBadTcpHeaderLength()
    {
        byte[] tcp = Tcp(1, 2, Syn);
        tcp[12] = 0x30; // 12 bytes: below the minimum

        var (ok, _, weird) = Decode(101, IPv4("10.0.0.1", "10.0.0.2", 6, tcp));

        Assert.False(ok);
        Assert.Equal(1, weird[WeirdReason.BadTcpHeaderLength]);
    }

    [Fact]
    public void TryDecode_TcpCutBySnapLength_CountsTruncatedTcpHeader()
    {
        byte[] ip = IPv4("10.0.0.1", "10.0.0.2", 6, Tcp(1, 2, Syn, payload: 100));

        var (ok, _, weird) = Decode(101, ip[..30]);

        Assert.False(ok);
        Assert.Equal(1, weird[WeirdReason.TruncatedTcpHeader]);
    }

    [Fact]
    public void TryDecode_LaterFragment_DecodedWithoutTransport()
    {
        var (ok, p, weird) = Decode(101, IPv4("10.0.0.1", "10.0.0.2", 6, new byte[16], fragment: 185));

        Assert.True(ok);
        Assert.True(p.IsLaterFragment);
        Assert.False(p.HasTransport);
        Assert.Equal(1, weird.IPv4Fragments);
    }

    [Fact]
    public void TryDecode_V4MisreadMode_MetersArpBytesAsIPv4LikeCicFlowMeter()
    {
        var arp = Ethernet(new byte[28], 0x0806, 0x8100);
        for (int i = 0; i < 6; i++)
        {
            arp[i] = 0xFF; // broadcast: low nibble 15 passes V4's header-length check
        }

        var weird = new WeirdCounters();
        bool ok = new PacketDecoder(weird, ipv6: false, misreadLikeV4: true).TryDecode(1, 0, arp, out var p);

        Assert.True(ok);
        Assert.Equal("129.0.0.42", p.Source.ToString()); // TPID 0x8100 and the VLAN tag read as an address
        Assert.Equal("8.6.0.0", p.Destination.ToString());
        Assert.Equal(1, weird[WeirdReason.CicFlowMeterMisreadFrame]);
    }

    [Fact]
    public void NameOf_Reasons_AreZeekStyleSnakeCase()
    {
        Assert.Equal("truncated_ipv4_header", WeirdCounters.NameOf(WeirdReason.TruncatedIPv4Header));
        Assert.Equal("bad_ip_version", WeirdCounters.NameOf(WeirdReason.BadIPVersion));
        Assert.Equal("ipv6_ignored", WeirdCounters.NameOf(WeirdReason.IPv6Ignored));
        Assert.Equal("ip_fragment_not_reassembled", WeirdCounters.NameOf(WeirdReason.IPFragmentNotReassembled));
        Assert.Equal("truncated_ipv6_extension_header", WeirdCounters.NameOf(WeirdReason.TruncatedIPv6ExtensionHeader));
        Assert.All(Enum.GetValues<WeirdReason>(), r => Assert.Matches("^[a-z0-9]+(_[a-z0-9]+)*$", WeirdCounters.NameOf(r)));
    }

    [Fact]
    public void DispatchTable_DuplicateRegistration_Throws()
    {
        var builder = new DispatchTable.Builder().EtherType(0x0800, Layer.IPv4);

        Assert.Throws<InvalidOperationException>(() => builder.EtherType(0x0800, Layer.IPv6));
    }
}
