namespace Stakeout.Ledger.Merkle;

/// <summary>
/// The compact range of a log: the roots of the perfect subtrees that cover leaves <c>[0, Size)</c>, largest first (one
/// per set bit of the size). Appending a leaf merges equal-sized neighbours, so an append costs O(1) hashes amortised
/// and the writer keeps O(log n) state instead of the whole tree. The checkpoint stores it, so a writer reopening the
/// log resumes without reading old records.
/// </summary>
public sealed class CompactRange
{
    private readonly List<byte[]> _hashes;

    /// <summary>The empty range.</summary>
    public CompactRange()
    {
        _hashes = [];
    }

    private CompactRange(long size, List<byte[]> hashes)
    {
        Size = size;
        _hashes = hashes;
    }

    /// <summary>Leaves covered.</summary>
    public long Size { get; private set; }

    /// <summary>The perfect subtree roots, largest (leftmost) first.</summary>
    public IReadOnlyList<byte[]> Hashes => _hashes;

    /// <summary>A range for <paramref name="size"/> leaves from its subtree roots (largest first), as a checkpoint stores them.</summary>
    /// <exception cref="ArgumentException">The number of hashes is not the number of set bits of the size, or one is not 32 bytes.</exception>
    public static CompactRange FromHashes(long size, IReadOnlyList<byte[]> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        int expected = System.Numerics.BitOperations.PopCount((ulong)size);
        if (hashes.Count != expected)
        {
            throw new ArgumentException($"a compact range of size {size} has {expected} hashes, not {hashes.Count}.", nameof(hashes));
        }

        if (hashes.Any(h => h is null || h.Length != MerkleHasher.HashSize))
        {
            throw new ArgumentException($"every hash of a compact range is {MerkleHasher.HashSize} bytes.", nameof(hashes));
        }

        return new CompactRange(size, hashes.Select(h => (byte[])h.Clone()).ToList());
    }

    /// <summary>Appends the leaf whose hash is <paramref name="leafHash"/>.</summary>
    public void Append(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != MerkleHasher.HashSize)
        {
            throw new ArgumentException($"a leaf hash is {MerkleHasher.HashSize} bytes, not {leafHash.Length}.", nameof(leafHash));
        }

        byte[] hash = leafHash.ToArray();
        for (long s = Size; (s & 1) == 1; s >>= 1)
        {
            byte[] left = _hashes[^1];
            _hashes.RemoveAt(_hashes.Count - 1);
            MerkleHasher.HashChildren(left, hash, hash);
        }

        _hashes.Add(hash);
        Size++;
    }

    /// <summary>The RFC 9162 root of the leaves covered.</summary>
    public byte[] Root()
    {
        if (_hashes.Count == 0)
        {
            return MerkleHasher.EmptyRoot();
        }

        byte[] root = (byte[])_hashes[^1].Clone();
        for (int i = _hashes.Count - 2; i >= 0; i--)
        {
            MerkleHasher.HashChildren(_hashes[i], root, root);
        }

        return root;
    }

    /// <summary>A copy that can be appended to without changing this one.</summary>
    public CompactRange Clone() => new(Size, _hashes.Select(h => (byte[])h.Clone()).ToList());
}
