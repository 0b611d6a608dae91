namespace Stakeout.Ledger.Merkle;

/// <summary>Why a proof was rejected.</summary>
public enum ProofFailureKind
{
    /// <summary>The leaf index is not below the tree size.</summary>
    IndexOutOfRange,

    /// <summary>The sizes cannot be proved (size2 below size1, or negative).</summary>
    InvalidSizes,

    /// <summary>The proof has more or fewer hashes than the sizes call for.</summary>
    WrongProofLength,

    /// <summary>A hash in the proof, or a given root or leaf hash, is not 32 bytes.</summary>
    WrongHashLength,

    /// <summary>The hashes do not recompute the expected root.</summary>
    RootMismatch,
}

/// <summary>A rejected proof: what was wrong, and for a root mismatch the root expected and the one the proof gives.</summary>
/// <param name="Kind">The check that failed.</param>
/// <param name="Message">What failed, in words, with the sizes and indices.</param>
/// <param name="Expected">The root the proof had to reach (hex), when the failure is a mismatch.</param>
/// <param name="Computed">The root it reached (hex).</param>
public sealed record ProofFailure(ProofFailureKind Kind, string Message, string? Expected = null, string? Computed = null)
{
    /// <inheritdoc />
    public override string ToString() => Expected is null ? Message : $"{Message} (expected {Expected}, computed {Computed})";
}

/// <summary>
/// Pure RFC 9162 proof verifiers (sections 2.1.3.2 and 2.1.4.2): hashes in, a verdict out, no storage. Malformed input
/// (index beyond size, wrong hash or proof length, impossible sizes) is rejected before any hashing. Each returns null
/// when the proof holds and the failure otherwise; they never throw on bad proof data.
/// </summary>
public static class ProofVerifier
{
    /// <summary>Checks that <paramref name="leafHash"/> is leaf <paramref name="index"/> of the tree of <paramref name="size"/> leaves with <paramref name="root"/>.</summary>
    public static ProofFailure? VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (index < 0 || index >= size)
        {
            return new ProofFailure(ProofFailureKind.IndexOutOfRange, $"leaf index {index} is not in a tree of size {size}");
        }

        int expectedLength = ProofPlanner.InclusionLength(index, size);
        if (proof.Count != expectedLength)
        {
            return new ProofFailure(ProofFailureKind.WrongProofLength, $"an inclusion proof of leaf {index} in size {size} has {expectedLength} hashes, this one {proof.Count}");
        }

        if (BadHash(leafHash, proof, root) is { } bad)
        {
            return bad;
        }

        Span<byte> r = stackalloc byte[MerkleHasher.HashSize];
        leafHash.CopyTo(r);
        long fn = index, sn = size - 1;
        foreach (byte[] p in proof)
        {
            if (sn == 0)
            {
                return new ProofFailure(ProofFailureKind.WrongProofLength, $"the inclusion proof of leaf {index} in size {size} is longer than the path to the root");
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHasher.HashChildren(p, r, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHasher.HashChildren(r, p, r);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return new ProofFailure(ProofFailureKind.WrongProofLength, $"the inclusion proof of leaf {index} in size {size} stops short of the root");
        }

        return r.SequenceEqual(root)
            ? null
            : new ProofFailure(ProofFailureKind.RootMismatch, $"the inclusion proof of leaf {index} in size {size} does not lead to the root", Convert.ToHexStringLower(root), Convert.ToHexStringLower(r));
    }

    /// <summary>Checks (for 0 &lt; size1 &lt;= size2) that the tree of <paramref name="size1"/> leaves with <paramref name="root1"/> is a prefix of the tree of <paramref name="size2"/> with <paramref name="root2"/>.</summary>
    public static ProofFailure? VerifyConsistency(long size1, long size2, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (size1 < 0 || size2 < size1)
        {
            return new ProofFailure(ProofFailureKind.InvalidSizes, $"size {size2} cannot extend size {size1}");
        }

        if (size1 == 0)
        {
            // Every tree extends the empty one, so such a proof proves nothing; as transparency-dev/merkle, refuse it.
            return new ProofFailure(ProofFailureKind.InvalidSizes, $"a consistency proof from the empty tree (to size {size2}) is meaningless");
        }

        if (size1 == size2)
        {
            if (proof.Count != 0)
            {
                return new ProofFailure(ProofFailureKind.WrongProofLength, $"equal sizes ({size1}) take an empty consistency proof, not {proof.Count} hashes");
            }

            return root1.SequenceEqual(root2)
                ? null
                : new ProofFailure(ProofFailureKind.RootMismatch, $"two trees of size {size1} have different roots", Convert.ToHexStringLower(root1), Convert.ToHexStringLower(root2));
        }

        int expectedLength = ProofPlanner.Consistency(size1, size2).Count;
        if (proof.Count != expectedLength)
        {
            return new ProofFailure(ProofFailureKind.WrongProofLength, $"a consistency proof from size {size1} to {size2} has {expectedLength} hashes, this one {proof.Count}");
        }

        if (BadHash(root1, proof, root2) is { } bad)
        {
            return bad;
        }

        // RFC 9162 2.1.4.2: when size1 is a power of two its root is the proof's implicit first element.
        bool pow2 = (size1 & (size1 - 1)) == 0;
        int start = pow2 ? 0 : 1;
        Span<byte> fr = stackalloc byte[MerkleHasher.HashSize];
        Span<byte> sr = stackalloc byte[MerkleHasher.HashSize];
        (pow2 ? root1 : proof[0]).CopyTo(fr);
        fr.CopyTo(sr);
        long fn = size1 - 1, sn = size2 - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        for (int i = start; i < proof.Count; i++)
        {
            byte[] c = proof[i];
            if (sn == 0)
            {
                return new ProofFailure(ProofFailureKind.WrongProofLength, $"the consistency proof from size {size1} to {size2} is longer than the path to the root");
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHasher.HashChildren(c, fr, fr);
                MerkleHasher.HashChildren(c, sr, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHasher.HashChildren(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return new ProofFailure(ProofFailureKind.WrongProofLength, $"the consistency proof from size {size1} to {size2} stops short of the root");
        }

        if (!fr.SequenceEqual(root1))
        {
            return new ProofFailure(ProofFailureKind.RootMismatch, $"the consistency proof from size {size1} to {size2} does not reproduce the first root", Convert.ToHexStringLower(root1), Convert.ToHexStringLower(fr));
        }

        return sr.SequenceEqual(root2)
            ? null
            : new ProofFailure(ProofFailureKind.RootMismatch, $"the consistency proof from size {size1} to {size2} does not reproduce the second root", Convert.ToHexStringLower(root2), Convert.ToHexStringLower(sr));
    }

    private static ProofFailure? BadHash(ReadOnlySpan<byte> first, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> last)
    {
        if (first.Length != MerkleHasher.HashSize || last.Length != MerkleHasher.HashSize)
        {
            return new ProofFailure(ProofFailureKind.WrongHashLength, $"a given hash has {(first.Length != MerkleHasher.HashSize ? first.Length : last.Length)} bytes, not {MerkleHasher.HashSize}");
        }

        for (int i = 0; i < proof.Count; i++)
        {
            if (proof[i] is null || proof[i].Length != MerkleHasher.HashSize)
            {
                return new ProofFailure(ProofFailureKind.WrongHashLength, $"proof hash {i} has {proof[i]?.Length ?? 0} bytes, not {MerkleHasher.HashSize}");
            }
        }

        return null;
    }
}
