using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Stakeout.Core;

/// <summary>
/// An IPv4 or IPv6 address as a 16-byte value (IPv4 kept as such, not mapped), so batches of flows hold addresses
/// without one object per row. <see cref="None"/> means the source had no address.
/// </summary>
public readonly record struct IpAddressValue
{
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly byte _family; // 0 none, 4, 6

    private IpAddressValue(ulong high, ulong low, byte family)
    {
        _high = high;
        _low = low;
        _family = family;
    }

    /// <summary>No address.</summary>
    public static IpAddressValue None => default;

    /// <summary>True when an address is present.</summary>
    public bool HasValue => _family != 0;

    /// <summary>True for IPv4.</summary>
    public bool IsIPv4 => _family == 4;

    /// <summary>An IPv4 address from its 32-bit big-endian value.</summary>
    public static IpAddressValue FromIPv4(uint address) => new(0, address, 4);

    /// <summary>Converts from <see cref="IPAddress"/>.</summary>
    public static IpAddressValue From(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes, out _);
            return FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(bytes));
        }

        address.TryWriteBytes(bytes, out _);
        return new IpAddressValue(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), 6);
    }

    /// <summary>
    /// Parses dotted-quad IPv4 from ASCII bytes without allocating; falls back to <see cref="IPAddress"/> for IPv6.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out IpAddressValue value)
    {
        value = default;
        if (text.IsEmpty)
        {
            return false;
        }

        if (TryParseIPv4(text, out uint v4))
        {
            value = FromIPv4(v4);
            return true;
        }

        if (text.Length > 45 || text.IndexOf((byte)':') < 0)
        {
            return false;
        }

        Span<char> chars = stackalloc char[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            chars[i] = (char)text[i];
        }

        if (IPAddress.TryParse(chars, out var parsed) && parsed.AddressFamily == AddressFamily.InterNetworkV6)
        {
            value = From(parsed);
            return true;
        }

        return false;
    }

    /// <summary>Converts to <see cref="IPAddress"/>; null when <see cref="HasValue"/> is false.</summary>
    public IPAddress? ToIPAddress()
    {
        if (_family == 4)
        {
            return new IPAddress(BinaryPrimitives.ReverseEndianness((uint)_low));
        }

        if (_family == 6)
        {
            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(bytes, _high);
            BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _low);
            return new IPAddress(bytes);
        }

        return null;
    }

    /// <inheritdoc />
    public override string ToString() => ToIPAddress()?.ToString() ?? string.Empty;

    /// <summary>
    /// Writes <see cref="ToString"/>'s text as ASCII bytes without allocating for IPv4 (dotted quad, the hot case of the
    /// flow CSV writers); false, with nothing written, when <paramref name="utf8"/> is too short.
    /// </summary>
    public bool TryFormat(Span<byte> utf8, out int written)
    {
        written = 0;
        if (_family == 4)
        {
            uint v = (uint)_low;
            int n = 0;
            for (int shift = 24; shift >= 0; shift -= 8)
            {
                uint octet = (v >> shift) & 0xFF;
                int digits = octet >= 100 ? 3 : octet >= 10 ? 2 : 1;
                if (utf8.Length - n < digits + (shift > 0 ? 1 : 0))
                {
                    return false;
                }

                for (int d = digits - 1; d >= 0; d--)
                {
                    utf8[n + d] = (byte)('0' + (octet % 10));
                    octet /= 10;
                }

                n += digits;
                if (shift > 0)
                {
                    utf8[n++] = (byte)'.';
                }
            }

            written = n;
            return true;
        }

        return _family != 6 || ToIPAddress()!.TryFormat(utf8, out written);
    }

    private static bool TryParseIPv4(ReadOnlySpan<byte> text, out uint address)
    {
        address = 0;
        int octets = 0;
        int i = 0;
        while (octets < 4)
        {
            int start = i;
            uint octet = 0;
            while (i < text.Length && (uint)(text[i] - '0') <= 9 && i - start < 3)
            {
                octet = (octet * 10) + (uint)(text[i] - '0');
                i++;
            }

            if (i == start || octet > 255)
            {
                return false;
            }

            address = (address << 8) | octet;
            octets++;
            if (octets < 4)
            {
                if (i >= text.Length || text[i] != '.')
                {
                    return false;
                }

                i++;
            }
        }

        return i == text.Length;
    }
}
