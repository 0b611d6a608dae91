using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>
/// Flow ids as Suricata writes them: the flow's start time packed with a hash of its 5-tuple, masked to 51 bits so
/// JavaScript and JSON tools read the number exactly. The same flow read by <c>detect</c> and by <c>monitor</c> gets the
/// same id, which is what lets their outputs be compared.
/// </summary>
public static class FlowIds
{
    /// <summary>Largest id: 2^51 - 1.</summary>
    public const long Mask = (1L << 51) - 1;

    /// <summary>
    /// The id of a flow. With identity: start time (seconds) and the 5-tuple. Without (the MachineLearningCVE layout has
    /// no addresses), the features themselves stand in for the 5-tuple.
    /// </summary>
    public static long Compute(in FlowIdentity identity, ReadOnlySpan<float> features)
    {
        Span<byte> key = stackalloc byte[48];
        bool known = identity.SourceIp.HasValue || identity.DestinationIp.HasValue;
        long seconds = identity.Timestamp == DateTime.MinValue ? 0 : identity.Timestamp.Ticks / TimeSpan.TicksPerSecond;
        var hash = new XxHash64();
        if (known)
        {
            WriteAddress(key, identity.SourceIp);
            WriteAddress(key[16..], identity.DestinationIp);
            BinaryPrimitives.WriteInt32LittleEndian(key[32..], identity.SourcePort);
            BinaryPrimitives.WriteInt32LittleEndian(key[36..], identity.DestinationPort);
            BinaryPrimitives.WriteInt64LittleEndian(key[40..], ((long)identity.Protocol << 48) ^ seconds);
            hash.Append(key);
        }
        else
        {
            BinaryPrimitives.WriteInt64LittleEndian(key, seconds);
            hash.Append(key[..8]);
        }

        // Features join the hash always: CIC timestamps have minute resolution, so two flows of one tuple in one minute
        // would otherwise share an id.
        hash.Append(MemoryMarshal.AsBytes(features));
        ulong h = hash.GetCurrentHashAsUInt64();
        long packed = ((seconds & 0xFFFF) << 35) | (long)(h & 0x7_FFFF_FFFFUL);
        return packed & Mask;
    }

    private static void WriteAddress(Span<byte> destination, IpAddressValue address)
    {
        destination[..16].Clear();
        var ip = address.ToIPAddress();
        ip?.TryWriteBytes(destination, out _);
    }
}
