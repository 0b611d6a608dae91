using System.Runtime.CompilerServices;
using Stakeout.FlowMeter.Decoding;

namespace Stakeout.FlowMeter.Flows;

/// <summary>
/// One table entry per conversation, whichever way a packet goes: the two endpoints in a fixed order (lower address,
/// then lower port, first), like Zeek's connection key. Which endpoint started the flow is kept in the flow itself.
/// </summary>
internal readonly record struct FlowKey(Address A, Address B, ushort PortA, ushort PortB, byte Protocol)
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static FlowKey Of(Address src, ushort srcPort, Address dst, ushort dstPort, byte protocol)
    {
        int c = src.CompareTo(dst);
        return c < 0 || (c == 0 && srcPort <= dstPort)
            ? new FlowKey(src, dst, srcPort, dstPort, protocol)
            : new FlowKey(dst, src, dstPort, srcPort, protocol);
    }

    /// <summary>Field by field, as the record's own; written out so that it is compiled optimized from its first call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Equals(FlowKey other)
        => A == other.A && B == other.B && PortA == other.PortA && PortB == other.PortB && Protocol == other.Protocol;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override int GetHashCode()
        => HashCode.Combine(A.High ^ B.High, A.Low, B.Low, PortA | (PortB << 16), Protocol);
}
