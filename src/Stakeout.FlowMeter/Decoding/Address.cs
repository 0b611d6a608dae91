using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using Stakeout.Core;

namespace Stakeout.FlowMeter.Decoding;

/// <summary>An IPv4 or IPv6 address as two words, cheap to hash and compare on the hot path.</summary>
internal readonly record struct Address(ulong High, ulong Low, bool IsV6) : IComparable<Address>
{
    public static Address V4(ReadOnlySpan<byte> bytes) => new(0, BinaryPrimitives.ReadUInt32BigEndian(bytes), false);

    public static Address V6(ReadOnlySpan<byte> bytes)
        => new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), true);

    /// <summary>Field by field, as the record's own; written out so that it is compiled optimized from its first call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Equals(Address other) => High == other.High && Low == other.Low && IsV6 == other.IsV6;

    /// <summary>Consistent with <see cref="Equals(Address)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(High, Low, IsV6);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int CompareTo(Address other)
    {
        int c = IsV6.CompareTo(other.IsV6);
        if (c != 0)
        {
            return c;
        }

        c = High.CompareTo(other.High);
        return c != 0 ? c : Low.CompareTo(other.Low);
    }

    public IpAddressValue ToValue()
    {
        if (!IsV6)
        {
            return IpAddressValue.FromIPv4((uint)Low);
        }

        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Low);
        return IpAddressValue.From(new IPAddress(bytes));
    }

    public override string ToString()
    {
        if (!IsV6)
        {
            uint v = (uint)Low;
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{v >> 24}.{(v >> 16) & 0xFF}.{(v >> 8) & 0xFF}.{v & 0xFF}");
        }

        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Low);
        return new IPAddress(bytes).ToString();
    }
}
