using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Stakeout.Ledger.Storage;

/// <summary>
/// A content identifier: CIDv1 with a sha2-256 multihash, written in base32 (lower case, no padding, multibase prefix
/// <c>b</c>), as IPFS prints it. The codec says how the block's bytes are to be read: <see cref="RawCodec"/> for opaque
/// bytes, <see cref="DagJsonCodec"/> for dag-json.
/// </summary>
public readonly record struct Cid
{
    /// <summary>Multicodec of raw bytes.</summary>
    public const ulong RawCodec = 0x55;

    /// <summary>Multicodec of dag-json.</summary>
    public const ulong DagJsonCodec = 0x0129;

    private const ulong Sha256Multihash = 0x12;
    private const string Base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    private Cid(ulong codec, byte[] digest)
    {
        Codec = codec;
        _digest = digest;
    }

    private readonly byte[] _digest;

    /// <summary>The multicodec of the block's content.</summary>
    public ulong Codec { get; }

    /// <summary>The SHA-256 of the block's bytes.</summary>
    public ReadOnlySpan<byte> Digest => _digest;

    /// <summary>The CID of <paramref name="block"/> under <paramref name="codec"/>.</summary>
    public static Cid Of(ReadOnlySpan<byte> block, ulong codec = RawCodec) => new(codec, SHA256.HashData(block));

    /// <summary>True when <paramref name="block"/> is the content this CID names.</summary>
    public bool Matches(ReadOnlySpan<byte> block)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(block, hash);
        return hash.SequenceEqual(_digest);
    }

    /// <summary>The binary CID: version, codec, multihash code, digest length, digest (each as unsigned varints).</summary>
    public byte[] ToBytes()
    {
        var bytes = new List<byte>(36);
        WriteVarint(bytes, 1);
        WriteVarint(bytes, Codec);
        WriteVarint(bytes, Sha256Multihash);
        WriteVarint(bytes, 32);
        bytes.AddRange(_digest);
        return [.. bytes];
    }

    /// <summary>The base32 text form, e.g. <c>bafkrei…</c> for a raw block.</summary>
    public override string ToString()
    {
        if (_digest is null)
        {
            return "";
        }

        byte[] bytes = ToBytes();
        var text = new System.Text.StringBuilder(1 + (bytes.Length * 8 + 4) / 5);
        text.Append('b');
        int buffer = 0, bits = 0;
        foreach (byte b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text.Append(Base32Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            text.Append(Base32Alphabet[(buffer << (5 - bits)) & 31]);
        }

        return text.ToString();
    }

    /// <summary>Parses the base32 text form of a CIDv1 with a sha2-256 multihash.</summary>
    /// <exception cref="FormatException">The text is not such a CID; the message says which part is wrong.</exception>
    public static Cid Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParse(text, out var cid, out string? error))
        {
            throw new FormatException($"'{text}' is not a CIDv1 sha2-256 in base32: {error}.");
        }

        return cid;
    }

    /// <summary>Parses the base32 text form; <paramref name="error"/> says why when it returns false.</summary>
    public static bool TryParse(string? text, out Cid cid, out string? error)
    {
        cid = default;
        if (string.IsNullOrEmpty(text) || text[0] != 'b')
        {
            error = "it does not start with the base32 multibase prefix 'b'";
            return false;
        }

        var bytes = new List<byte>(36);
        int buffer = 0, bits = 0;
        for (int i = 1; i < text.Length; i++)
        {
            int value = Base32Alphabet.IndexOf(char.ToLowerInvariant(text[i]), StringComparison.Ordinal);
            if (value < 0)
            {
                error = $"character {i} ('{text[i]}') is not base32";
                return false;
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }

        return TryFromBytes(CollectionsMarshal.AsSpan(bytes), out cid, out error);
    }

    /// <summary>
    /// Reads the binary form (version, codec and multihash varints, then the digest), as any multibase decodes to;
    /// <paramref name="error"/> says why when it returns false.
    /// </summary>
    public static bool TryFromBytes(ReadOnlySpan<byte> bytes, out Cid cid, out string? error)
    {
        cid = default;
        int at = 0;
        if (!ReadVarint(bytes, ref at, out ulong version) || version != 1)
        {
            error = "it is not CID version 1";
            return false;
        }

        if (!ReadVarint(bytes, ref at, out ulong codec))
        {
            error = "the codec is cut short";
            return false;
        }

        if (!ReadVarint(bytes, ref at, out ulong hash) || hash != Sha256Multihash
            || !ReadVarint(bytes, ref at, out ulong length) || length != 32)
        {
            error = "the multihash is not sha2-256 with a 32-byte digest";
            return false;
        }

        if (bytes.Length - at != 32)
        {
            error = $"the digest has {bytes.Length - at} bytes, not 32";
            return false;
        }

        cid = new Cid(codec, bytes.Slice(at, 32).ToArray());
        error = null;
        return true;
    }

    /// <inheritdoc />
    public bool Equals(Cid other) => Codec == other.Codec && Digest.SequenceEqual(other.Digest);

    /// <inheritdoc />
    public override int GetHashCode() => _digest is null ? 0 : HashCode.Combine(Codec, BitConverter.ToInt32(_digest, 0));

    private static void WriteVarint(List<byte> into, ulong value)
    {
        while (value >= 0x80)
        {
            into.Add((byte)(value | 0x80));
            value >>= 7;
        }

        into.Add((byte)value);
    }

    private static bool ReadVarint(ReadOnlySpan<byte> from, ref int at, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && at < from.Length; shift += 7)
        {
            byte b = from[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
