using System.Numerics;

namespace Stakeout.Ledger.Merkle;

/// <summary>A run of leaves <c>[Begin, End)</c> whose Merkle tree hash (RFC 9162 MTH) is one element of a proof.</summary>
/// <param name="Begin">First leaf.</param>
/// <param name="End">One past the last leaf.</param>
public readonly record struct LeafRange(long Begin, long End)
{
    /// <summary>Leaves in the range.</summary>
    public long Count => End - Begin;

    /// <summary>True when the range is a perfect subtree (a power-of-two count aligned on its size), stored as one node.</summary>
    public bool IsPerfect => Count > 0 && BitOperations.IsPow2(Count) && Begin % Count == 0;
}

/// <summary>
/// Which subtree hashes make up an inclusion or consistency proof (RFC 9162 sections 2.1.3.1 and 2.1.4.1), as leaf
/// ranges, in proof order. Planning is separate from fetching the hashes, so the same plan serves an in-memory tree, a
/// block store or a proof server, and a verifier can tell a proof's expected length before hashing anything.
/// </summary>
public static class ProofPlanner
{
    /// <summary>The ranges whose hashes prove leaf <paramref name="index"/> is in the tree of <paramref name="size"/> leaves.</summary>
    /// <exception cref="ArgumentOutOfRangeException">index is not below size.</exception>
    public static IReadOnlyList<LeafRange> Inclusion(long index, long size)
    {
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"leaf index {index} is not in a tree of size {size}.");
        }

        var ranges = new List<LeafRange>(64);
        Path(index, 0, size, ranges);
        return ranges;
    }

    /// <summary>The ranges whose hashes prove the tree of <paramref name="size1"/> leaves is a prefix of the one of <paramref name="size2"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The sizes are negative or size1 exceeds size2.</exception>
    public static IReadOnlyList<LeafRange> Consistency(long size1, long size2)
    {
        if (size1 < 0 || size2 < size1)
        {
            throw new ArgumentOutOfRangeException(nameof(size1), size1, $"no consistency proof from size {size1} to size {size2}.");
        }

        var ranges = new List<LeafRange>(64);
        if (size1 > 0 && size1 < size2)
        {
            SubProof(size1, 0, size2, true, ranges);
        }

        return ranges;
    }

    /// <summary>The number of hashes in an inclusion proof, without building it.</summary>
    public static int InclusionLength(long index, long size)
    {
        // Levels where the paths to the index and to the last leaf part (inner), plus one left sibling per set bit above.
        int inner = 64 - BitOperations.LeadingZeroCount((ulong)(index ^ (size - 1)));
        int border = BitOperations.PopCount((ulong)index >> inner);
        return inner + border;
    }

    /// <summary>The largest power of two strictly below <paramref name="n"/> (n &gt; 1).</summary>
    internal static long SplitPoint(long n) => (long)BitOperations.RoundUpToPowerOf2((ulong)n) >> 1;

    // RFC 9162 PATH(m, D[n]) over the leaves [offset, offset + n): the sibling of the innermost subtree comes first.
    private static void Path(long m, long offset, long n, List<LeafRange> into)
    {
        if (n == 1)
        {
            return;
        }

        long k = SplitPoint(n);
        if (m < k)
        {
            Path(m, offset, k, into);
            into.Add(new LeafRange(offset + k, offset + n));
        }
        else
        {
            Path(m - k, offset + k, n - k, into);
            into.Add(new LeafRange(offset, offset + k));
        }
    }

    // RFC 9162 SUBPROOF(m, D[n], b) over the leaves [offset, offset + n).
    private static void SubProof(long m, long offset, long n, bool wholeTreeKnown, List<LeafRange> into)
    {
        if (m == n)
        {
            if (!wholeTreeKnown)
            {
                into.Add(new LeafRange(offset, offset + n));
            }

            return;
        }

        long k = SplitPoint(n);
        if (m <= k)
        {
            SubProof(m, offset, k, wholeTreeKnown, into);
            into.Add(new LeafRange(offset + k, offset + n));
        }
        else
        {
            SubProof(m - k, offset + k, n - k, false, into);
            into.Add(new LeafRange(offset, offset + k));
        }
    }
}
