using Stakeout.FlowMeter.Decoding;

namespace Stakeout.FlowMeter.Flows;

/// <summary>
/// One table entry per conversation, whichever way a packet goes: the two endpoints in a fixed order (lower address,
/// then lower port, first), like Zeek's connection key. Which endpoint started the flow is kept in the flow itself.
/// </summary>
internal readonly record struct FlowKey(Address A, Address B, ushort PortA, ushort PortB, byte Protocol)
{
    public static FlowKey Of(Address src, ushort srcPort, Address dst, ushort dstPort, byte protocol)
    {
        int c = src.CompareTo(dst);
        return c < 0 || (c == 0 && srcPort <= dstPort)
            ? new FlowKey(src, dst, srcPort, dstPort, protocol)
            : new FlowKey(dst, src, dstPort, srcPort, protocol);
    }

    public override int GetHashCode()
        => HashCode.Combine(A.High ^ B.High, A.Low, B.Low, PortA | (PortB << 16), Protocol);
}
