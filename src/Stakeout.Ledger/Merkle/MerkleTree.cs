namespace Stakeout.Ledger.Merkle;

/// <summary>
/// Every perfect subtree hash of a log held in memory, level by level in contiguous buffers (32 bytes a node, about
/// 64 bytes a leaf in all): the verifier builds it once while walking the records and then answers any proof plan of
/// <see cref="ProofPlanner"/> and any earlier root by lookups, hashing only the few imperfect ranges.
/// </summary>
public sealed class MerkleTree
{
    private readonly List<HashBuffer> _levels = [new HashBuffer()];

    /// <summary>Leaves appended.</summary>
    public long Size => _levels[0].Count;

    /// <summary>Appends a leaf by its hash.</summary>
    public void AppendLeafHash(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != MerkleHasher.HashSize)
        {
            throw new ArgumentException($"a leaf hash is {MerkleHasher.HashSize} bytes, not {leafHash.Length}.", nameof(leafHash));
        }

        _levels[0].Add(leafHash);
        Span<byte> parent = stackalloc byte[MerkleHasher.HashSize];
        for (int level = 0; (_levels[level].Count & 1) == 0; level++)
        {
            var nodes = _levels[level];
            long right = nodes.Count - 1;
            MerkleHasher.HashChildren(nodes[right - 1], nodes[right], parent);
            if (_levels.Count == level + 1)
            {
                _levels.Add(new HashBuffer());
            }

            _levels[level + 1].Add(parent);
        }
    }

    /// <summary>The hash of leaf <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> LeafHash(long index) => _levels[0][index];

    /// <summary>The root of the first <paramref name="size"/> leaves.</summary>
    public byte[] Root(long size)
    {
        if (size < 0 || size > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"the tree holds {Size} leaves.");
        }

        return size == 0 ? MerkleHasher.EmptyRoot() : HashRange(new LeafRange(0, size));
    }

    /// <summary>The RFC 9162 MTH of the leaves in <paramref name="range"/>.</summary>
    public byte[] HashRange(LeafRange range)
    {
        if (range.Begin < 0 || range.End > Size || range.Count <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(range), range, $"the tree holds {Size} leaves.");
        }

        if (range.IsPerfect)
        {
            int level = System.Numerics.BitOperations.Log2((ulong)range.Count);
            return _levels[level][range.Begin >> level].ToArray();
        }

        long k = ProofPlanner.SplitPoint(range.Count);
        byte[] left = HashRange(new LeafRange(range.Begin, range.Begin + k));
        byte[] right = HashRange(new LeafRange(range.Begin + k, range.End));
        MerkleHasher.HashChildren(left, right, left);
        return left;
    }

    /// <summary>The hashes of an inclusion proof of leaf <paramref name="index"/> in the first <paramref name="size"/> leaves.</summary>
    public IReadOnlyList<byte[]> InclusionProof(long index, long size) => Fetch(ProofPlanner.Inclusion(index, size));

    /// <summary>The hashes of a consistency proof from size <paramref name="size1"/> to <paramref name="size2"/>.</summary>
    public IReadOnlyList<byte[]> ConsistencyProof(long size1, long size2) => Fetch(ProofPlanner.Consistency(size1, size2));

    private byte[][] Fetch(IReadOnlyList<LeafRange> plan)
    {
        var hashes = new byte[plan.Count][];
        for (int i = 0; i < plan.Count; i++)
        {
            hashes[i] = HashRange(plan[i]);
        }

        return hashes;
    }

    /// <summary>A growable array of 32-byte hashes in one buffer.</summary>
    private sealed class HashBuffer
    {
        private byte[] _bytes = new byte[MerkleHasher.HashSize * 64];

        public long Count { get; private set; }

        public ReadOnlySpan<byte> this[long index] => _bytes.AsSpan(checked((int)(index * MerkleHasher.HashSize)), MerkleHasher.HashSize);

        public void Add(ReadOnlySpan<byte> hash)
        {
            long need = (Count + 1) * MerkleHasher.HashSize;
            if (need > _bytes.Length)
            {
                Array.Resize(ref _bytes, checked((int)Math.Min(Math.Max(need, (long)_bytes.Length * 2), Array.MaxLength)));
            }

            hash.CopyTo(_bytes.AsSpan(checked((int)(Count * MerkleHasher.HashSize))));
            Count++;
        }
    }
}
