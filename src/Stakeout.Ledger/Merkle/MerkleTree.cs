using System.Collections.Concurrent;

namespace Stakeout.Ledger.Merkle;

/// <summary>
/// Every perfect subtree hash of a log held in memory, level by level in contiguous buffers (32 bytes a node, about
/// 64 bytes a leaf in all): the verifier builds it once while walking the records and then answers any proof plan of
/// <see cref="ProofPlanner"/> and any earlier root by lookups, hashing only the few imperfect ranges (once each: they are
/// kept). Reads may run in parallel once appends have stopped.
/// </summary>
public sealed class MerkleTree
{
    // Enough for the right edges of thousands of checkpoint sizes; beyond it ranges are hashed each time (still correct).
    private const int MaxCachedRanges = 1 << 16;
    private readonly List<HashBuffer> _levels = [new HashBuffer()];
    private readonly ConcurrentDictionary<LeafRange, byte[]> _imperfect = new();

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

        var hash = new byte[MerkleHasher.HashSize];
        HashRangeInto(range, hash);
        return hash;
    }

    // A perfect range is one stored node. An imperfect one (a right edge: the proofs of every leaf against one size share
    // the same few) is hashed from its two halves once and then kept: the log only grows, so the hash of leaves that
    // exist never changes. Without this, each inclusion proof re-hashed its right edge, O(log^2 n) hashes a proof.
    private void HashRangeInto(LeafRange range, Span<byte> destination)
    {
        if (range.IsPerfect)
        {
            int level = System.Numerics.BitOperations.Log2((ulong)range.Count);
            _levels[level][range.Begin >> level].CopyTo(destination);
            return;
        }

        if (_imperfect.TryGetValue(range, out byte[]? cached))
        {
            cached.CopyTo(destination);
            return;
        }

        long k = ProofPlanner.SplitPoint(range.Count);
        Span<byte> left = stackalloc byte[MerkleHasher.HashSize];
        Span<byte> right = stackalloc byte[MerkleHasher.HashSize];
        HashRangeInto(new LeafRange(range.Begin, range.Begin + k), left);
        HashRangeInto(new LeafRange(range.Begin + k, range.End), right);
        MerkleHasher.HashChildren(left, right, destination);
        if (_imperfect.Count < MaxCachedRanges)
        {
            _imperfect.TryAdd(range, destination.ToArray());
        }
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
