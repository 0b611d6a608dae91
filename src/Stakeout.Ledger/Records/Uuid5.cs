using System.Security.Cryptography;
using System.Text;

namespace Stakeout.Ledger.Records;

/// <summary>Name-based UUIDs (RFC 9562 version 5, SHA-1): the same namespace and name always give the same id.</summary>
public static class Uuid5
{
    /// <summary>The namespace STIX 2.1 prescribes for cyber-observable ids (section 2.9).</summary>
    public static readonly Guid StixObservables = new("00abedb4-aa42-466c-9c01-fed23315a9b7");

    /// <summary>Stakeout's own namespace for the ids of threat records and their domain objects.</summary>
    public static readonly Guid Stakeout = new("dd92f6bb-c9ca-487f-b8a2-86d51a94fff4");

    /// <summary>The version-5 UUID of <paramref name="name"/> (UTF-8) in <paramref name="namespaceId"/>, in the lower-case text form.</summary>
    public static string Create(Guid namespaceId, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        return Create(namespaceId, nameBytes);
    }

    /// <summary>The version-5 UUID of the UTF-8 name <paramref name="utf8Name"/> in <paramref name="namespaceId"/>, in the lower-case text form.</summary>
    public static string Create(Guid namespaceId, ReadOnlySpan<byte> utf8Name)
    {
        byte[] input = new byte[16 + utf8Name.Length];
        namespaceId.TryWriteBytes(input, bigEndian: true, out _);
        utf8Name.CopyTo(input.AsSpan(16));
        Span<byte> hash = stackalloc byte[20];
#pragma warning disable CA5350 // SHA-1 is what RFC 9562 version 5 is defined with; it names, it does not protect.
        SHA1.HashData(input, hash);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true).ToString("D");
    }
}
