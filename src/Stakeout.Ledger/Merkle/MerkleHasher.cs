using System.Buffers;
using System.Security.Cryptography;

namespace Stakeout.Ledger.Merkle;

/// <summary>
/// RFC 9162 (Certificate Transparency v2) tree hashing with SHA-256: a leaf is <c>SHA-256(0x00 || data)</c>, an inner
/// node <c>SHA-256(0x01 || left || right)</c>, the empty tree <c>SHA-256("")</c>. The one-byte prefixes keep a leaf from
/// ever being taken for an inner node (second-preimage resistance).
/// </summary>
public static class MerkleHasher
{
    /// <summary>Bytes in a hash.</summary>
    public const int HashSize = 32;

    /// <summary>The root of the empty tree, SHA-256 of nothing.</summary>
    public static byte[] EmptyRoot() => SHA256.HashData([]);

    /// <summary>The leaf hash of <paramref name="data"/>.</summary>
    public static byte[] HashLeaf(ReadOnlySpan<byte> data)
    {
        var hash = new byte[HashSize];
        HashLeaf(data, hash);
        return hash;
    }

    /// <summary>Writes the leaf hash of <paramref name="data"/> into <paramref name="destination"/> (32 bytes).</summary>
    public static void HashLeaf(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        // One-shot hashing of 0x00 || data in one buffer: an IncrementalHash per leaf costs a native context allocation
        // and teardown per record, which dominated hashing 3 KiB records. Small records go on the stack, others in a
        // pooled buffer.
        int length = data.Length + 1;
        byte[]? rented = length > 1024 ? ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            Span<byte> buffer = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
            buffer[0] = 0x00;
            data.CopyTo(buffer[1..]);
            SHA256.HashData(buffer, destination);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The hash of an inner node over <paramref name="left"/> and <paramref name="right"/>.</summary>
    public static byte[] HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[HashSize];
        HashChildren(left, right, hash);
        return hash;
    }

    /// <summary>Writes the hash of an inner node into <paramref name="destination"/>.</summary>
    public static void HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        // Left and right are hashes (normally 32 bytes, but a verifier is handed whatever a proof holds): one buffer on the
        // stack when it fits, so the hot path of a proof allocates nothing.
        int length = 1 + left.Length + right.Length;
        Span<byte> buffer = length <= 1 + (2 * HashSize) ? stackalloc byte[length] : new byte[length];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + left.Length)..]);
        SHA256.HashData(buffer, destination);
    }
}
