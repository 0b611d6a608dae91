using System.Runtime.CompilerServices;
using Stakeout.FlowMeter.Decoding;

namespace Stakeout.FlowMeter.Flows;

/// <summary>
/// One table entry per conversation, whichever way a packet goes: the two endpoints in a fixed order (lower address,
/// then lower port, first), like Zeek's connection key. Which endpoint started the flow is kept in the flow itself.
/// The hash is computed once, when the key is made: a new flow's key is hashed by the lookup that misses, the insert,
/// the parked-conversation filter and at last the remove, and a packet's by its lookup.
/// </summary>
internal readonly struct FlowKey : IEquatable<FlowKey>
{
    private readonly int _hash;

    private FlowKey(Address a, Address b, ushort portA, ushort portB, byte protocol)
    {
        A = a;
        B = b;
        PortA = portA;
        PortB = portB;
        Protocol = protocol;

        _hash = Hash(a.High ^ b.High, a.Low, b.Low, (uint)(portA | (portB << 16)) | ((ulong)protocol << 32));
    }

    /// <summary>
    /// Keyed with four secret words drawn once per process, so a crafted capture cannot aim its flows at one run of the
    /// table's slots (hash flooding); each step is a full 64x64-bit multiply folded to 64 bits (wyhash's mixing), so
    /// every input bit reaches the low bits the table indexes by. Written here rather than with
    /// <see cref="HashCode.Combine{T1, T2, T3, T4, T5}"/>, whose generic code for these arguments is outside the
    /// ReadyToRun image and ran unoptimised for the first part of every capture.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Hash(ulong high, ulong lowA, ulong lowB, ulong ports)
    {
        ulong h = Fold(high ^ Secret0, lowA ^ Secret1);
        h = Fold(h ^ lowB ^ Secret2, ports ^ Secret3);
        return (int)(h ^ (h >> 32));
    }

    private static ulong Fold(ulong a, ulong b)
    {
        ulong high = Math.BigMul(a, b, out ulong low);
        return high ^ low;
    }

    private static readonly ulong Secret0 = SecretWord();
    private static readonly ulong Secret1 = SecretWord();
    private static readonly ulong Secret2 = SecretWord();
    private static readonly ulong Secret3 = SecretWord();

    // Odd, so a multiply by it never loses a bit.
    private static ulong SecretWord() => BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)) | 1;

    public Address A { get; }

    public Address B { get; }

    public ushort PortA { get; }

    public ushort PortB { get; }

    public byte Protocol { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static FlowKey Of(Address src, ushort srcPort, Address dst, ushort dstPort, byte protocol)
    {
        int c = src.CompareTo(dst);
        return c < 0 || (c == 0 && srcPort <= dstPort)
            ? new FlowKey(src, dst, srcPort, dstPort, protocol)
            : new FlowKey(dst, src, dstPort, srcPort, protocol);
    }

    public static bool operator ==(FlowKey left, FlowKey right) => left.Equals(right);

    public static bool operator !=(FlowKey left, FlowKey right) => !left.Equals(right);

    /// <summary>Field by field, the stored hash first; written out so that it is compiled optimized from its first call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Equals(FlowKey other)
        => _hash == other._hash && A == other.A && B == other.B && PortA == other.PortA && PortB == other.PortB && Protocol == other.Protocol;

    public override bool Equals(object? obj) => obj is FlowKey other && Equals(other);

    public override int GetHashCode() => _hash;
}
