using System.Buffers.Binary;

namespace Stakeout.FlowMeter.Tests;

/// <summary>Builds frames and capture files byte by byte, so each test states exactly what is on the wire.</summary>
internal static class Packets
{
    public const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10, Urg = 0x20;

    public static byte[] Ip(string dotted) => dotted.Split('.').Select(byte.Parse).ToArray();

    /// <summary>An IPv4 header (with <paramref name="optionBytes"/> of NOP options) followed by <paramref name="l4"/>.</summary>
    public static byte[] IPv4(string src, string dst, byte protocol, byte[] l4, int optionBytes = 0, ushort fragment = 0, int? totalLength = null)
    {
        int ihl = 20 + optionBytes;
        var p = new byte[ihl + l4.Length];
        p[0] = (byte)(0x40 | (ihl / 4));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(totalLength ?? p.Length));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), fragment);
        p[8] = 64;
        p[9] = protocol;
        Ip(src).CopyTo(p, 12);
        Ip(dst).CopyTo(p, 16);
        for (int i = 20; i < ihl; i++)
        {
            p[i] = 1; // NOP
        }

        l4.CopyTo(p, ihl);
        return p;
    }

    public static byte[] IPv6(byte[] src16, byte[] dst16, byte nextHeader, byte[] payload)
    {
        var p = new byte[40 + payload.Length];
        p[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)payload.Length);
        p[6] = nextHeader;
        p[7] = 64;
        src16.CopyTo(p, 8);
        dst16.CopyTo(p, 24);
        payload.CopyTo(p, 40);
        return p;
    }

    public static byte[] Tcp(ushort sport, ushort dport, byte flags, int payload = 0, ushort window = 8192, int optionBytes = 0, uint seq = 0, uint ack = 0)
    {
        int hl = 20 + optionBytes;
        var t = new byte[hl + payload];
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(8), ack);
        t[12] = (byte)((hl / 4) << 4);
        t[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(14), window);
        for (int i = 20; i < hl; i++)
        {
            t[i] = 1;
        }

        return t;
    }

    public static byte[] Udp(ushort sport, ushort dport, int payload)
    {
        var u = new byte[8 + payload];
        BinaryPrimitives.WriteUInt16BigEndian(u, sport);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(4), (ushort)u.Length);
        return u;
    }

    public static byte[] Ethernet(byte[] ip, ushort etherType = 0x0800, params ushort[] vlanTpids)
    {
        var frame = new List<byte>(new byte[12]);
        frame[0] = 0x02; // unicast, locally administered
        foreach (ushort tpid in vlanTpids)
        {
            frame.Add((byte)(tpid >> 8));
            frame.Add((byte)tpid);
            frame.Add(0x00);
            frame.Add(0x2A);
        }

        frame.Add((byte)(etherType >> 8));
        frame.Add((byte)etherType);
        frame.AddRange(ip);
        while (frame.Count < 60)
        {
            frame.Add(0); // Ethernet minimum frame: padding a decoder must not count
        }

        return [.. frame];
    }

    /// <summary>A TCP/IPv4 Ethernet frame between two hosts.</summary>
    public static byte[] TcpFrame(string src, ushort sport, string dst, ushort dport, byte flags, int payload = 0, ushort window = 8192, uint seq = 0, uint ack = 0)
        => Ethernet(IPv4(src, dst, 6, Tcp(sport, dport, flags, payload, window, seq: seq, ack: ack)));

    /// <summary>A classic pcap file.</summary>
    public static byte[] Pcap(IEnumerable<(long Micros, byte[] Frame)> packets, int linkType = 1, bool bigEndian = false, bool nanos = false)
    {
        var ms = new MemoryStream();
        void U32(uint v)
        {
            Span<byte> b = stackalloc byte[4];
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt32BigEndian(b, v);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            }

            ms.Write(b);
        }

        void U16(ushort v)
        {
            Span<byte> b = stackalloc byte[2];
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt16BigEndian(b, v);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(b, v);
            }

            ms.Write(b);
        }

        U32(nanos ? 0xA1B23C4D : 0xA1B2C3D4);
        U16(2);
        U16(4);
        U32(0);
        U32(0);
        U32(262144);
        U32((uint)linkType);
        foreach (var (micros, frame) in packets)
        {
            U32((uint)(micros / 1_000_000));
            U32((uint)(nanos ? (micros % 1_000_000) * 1000 : micros % 1_000_000));
            U32((uint)frame.Length);
            U32((uint)frame.Length);
            ms.Write(frame);
        }

        return ms.ToArray();
    }

    /// <summary>A pcapng file with one interface per entry of <paramref name="interfaces"/> (link type, if_tsresol byte or null).</summary>
    public static byte[] PcapNg(IReadOnlyList<(int LinkType, byte? TsResol)> interfaces, IEnumerable<(int Iface, ulong Ticks, byte[] Frame)> packets, bool simpleFirst = false)
    {
        var ms = new MemoryStream();
        void Block(uint type, byte[] body)
        {
            int padded = (body.Length + 3) & ~3;
            uint len = (uint)(12 + padded);
            var b = new byte[len];
            BinaryPrimitives.WriteUInt32LittleEndian(b, type);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), len);
            body.CopyTo(b, 8);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)len - 4), len);
            ms.Write(b);
        }

        var shb = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(shb, 0x1A2B3C4D);
        BinaryPrimitives.WriteUInt16LittleEndian(shb.AsSpan(4), 1);
        BinaryPrimitives.WriteInt64LittleEndian(shb.AsSpan(8), -1);
        Block(0x0A0D0D0A, shb);
        foreach (var (linkType, tsresol) in interfaces)
        {
            var idb = new List<byte>(new byte[8]);
            BinaryPrimitives.WriteUInt16LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(idb), (ushort)linkType);
            if (tsresol is { } r)
            {
                idb.AddRange([9, 0, 1, 0, r, 0, 0, 0]);
                idb.AddRange([0, 0, 0, 0]); // opt_endofopt
            }

            Block(1, [.. idb]);
        }

        Block(0x00000BAD, [1, 2, 3, 4]); // a custom block a reader must skip
        if (simpleFirst)
        {
            var spb = new byte[4 + 60];
            BinaryPrimitives.WriteUInt32LittleEndian(spb, 60);
            Block(3, spb);
        }

        foreach (var (iface, ticks, frame) in packets)
        {
            var epb = new byte[20 + frame.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(epb, (uint)iface);
            BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(4), (uint)(ticks >> 32));
            BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(8), (uint)ticks);
            BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(12), (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(epb.AsSpan(16), (uint)frame.Length);
            frame.CopyTo(epb, 20);
            Block(6, epb);
        }

        return ms.ToArray();
    }
}
