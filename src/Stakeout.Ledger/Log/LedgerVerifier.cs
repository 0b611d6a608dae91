using System.Globalization;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Merkle;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Log;

/// <summary>
/// The first inconsistency found: which check failed, where (record index and/or block), what was expected and found.
/// Checks: <c>block-missing</c>, <c>block-hash</c>, <c>checkpoint-format</c>, <c>signature</c>, <c>origin</c>,
/// <c>checkpoint-order</c>, <c>bundle-coverage</c>, <c>leaf-index</c>, <c>record-hash</c>, <c>record-count</c>,
/// <c>checkpoint-root</c>, <c>checkpoint-range</c>, <c>consistency</c>, <c>inclusion</c>, <c>rollback</c>.
/// </summary>
/// <param name="Check">The check's name.</param>
/// <param name="Message">What is wrong, in words.</param>
/// <param name="RecordIndex">The record concerned (0-based), when one is.</param>
/// <param name="Block">The block concerned.</param>
/// <param name="Expected">What the signed data says.</param>
/// <param name="Found">What the store holds.</param>
public sealed record VerificationFailure(string Check, string Message, long? RecordIndex = null, Cid? Block = null, string? Expected = null, string? Found = null)
{
    /// <inheritdoc />
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        if (RecordIndex is long index)
        {
            text.Append(CultureInfo.InvariantCulture, $"record {index}: ");
        }

        text.Append(CultureInfo.InvariantCulture, $"check '{Check}' failed: {Message}");
        if (Block is Cid cid)
        {
            text.Append(CultureInfo.InvariantCulture, $" [block {cid}]");
        }

        if (Expected is not null || Found is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"; expected {Expected ?? "-"}, found {Found ?? "-"}");
        }

        return text.ToString();
    }
}

/// <summary>What a verification walked and whether it held.</summary>
public sealed record VerificationReport
{
    /// <summary>The head checkpoint verified (null when it could not be read).</summary>
    public Checkpoint? Head { get; init; }

    /// <summary>Its CID.</summary>
    public required Cid HeadCid { get; init; }

    /// <summary>
    /// Records whose block hash and leaf hash were checked and whose leaves rebuilt the tree of every checkpoint up to the
    /// head's signed root (so each is included in the head); with <see cref="VerifyOptions.CheckInclusionProofs"/> also
    /// an explicit inclusion proof each.
    /// </summary>
    public long RecordsVerified { get; init; }

    /// <summary>Checkpoints whose signature, root, compact range and consistency with the previous one were checked.</summary>
    public int CheckpointsVerified { get; init; }

    /// <summary>Blocks fetched and checked against their CIDs.</summary>
    public int BlocksVerified { get; init; }

    /// <summary>The first inconsistency, or null when everything held.</summary>
    public VerificationFailure? Failure { get; init; }

    /// <summary>True when every check held.</summary>
    public bool Ok => Failure is null;
}

/// <summary>What to verify against.</summary>
public sealed record VerifyOptions
{
    /// <summary>The sensor's Ed25519 public key (raw 32 bytes): the only thing a verifier has to trust.</summary>
    public required byte[] TrustedKey { get; init; }

    /// <summary>A checkpoint seen earlier (size and root): the head must not be older and must contain it (rollback, fork).</summary>
    public Checkpoint? Seen { get; init; }

    /// <summary>Called with each record (index, canonical bytes) in order once its block and leaf hash are checked.</summary>
    public Action<long, byte[]>? OnRecord { get; init; }

    /// <summary>
    /// Also build and check an RFC 9162 inclusion proof of every record against the head's root. Off by default because it
    /// adds no assurance to a full walk: the verifier rebuilds the tree from the very leaves it checked and requires the
    /// head's signed root, and a tree whose root matches includes each of its leaves. It exercises the proof path a
    /// reader without the whole log relies on (a proof server, a single-record check), at about log2(n) hashes a record.
    /// </summary>
    public bool CheckInclusionProofs { get; init; }
}

/// <summary>
/// Walks a ledger from one checkpoint CID with nothing but the sensor's public key and a block store (a local directory
/// or any IPFS node): every block is checked against its CID, every checkpoint's signature, origin, order and coverage;
/// every record against the signed leaf index; the tree rebuilt from the records must give each checkpoint's root and
/// compact range (so every record is included in the head's signed tree); successive checkpoints must be consistent
/// (RFC 9162 consistency proofs); optionally every record's inclusion proof must lead to the head's root; and the head
/// must extend a checkpoint seen before. The first failure is reported
/// with the record and the check.
/// </summary>
public static class LedgerVerifier
{
    /// <summary>Verifies the log whose newest checkpoint is <paramref name="head"/>.</summary>
    public static async Task<VerificationReport> VerifyAsync(IBlockStore store, Cid head, VerifyOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        var state = new WalkState();
        var failure = await WalkAsync(store, head, options, state, cancellationToken).ConfigureAwait(false);
        return new VerificationReport
        {
            Head = state.Head,
            HeadCid = head,
            RecordsVerified = failure is null ? state.Tree.Size : state.RecordsChecked,
            CheckpointsVerified = state.CheckpointsChecked,
            BlocksVerified = state.Blocks,
            Failure = failure,
        };
    }

    private sealed class WalkState
    {
        public MerkleTree Tree { get; } = new();

        public Checkpoint? Head { get; set; }

        public long RecordsChecked { get; set; }

        public int CheckpointsChecked { get; set; }

        public int Blocks { get; set; }
    }

    private static async Task<VerificationFailure?> WalkAsync(IBlockStore store, Cid head, VerifyOptions options, WalkState state, CancellationToken cancellationToken)
    {
        string keyId = Ed25519.KeyId(options.TrustedKey);

        // 1. Back from the head along the signed prev links: every checkpoint, newest first.
        var chain = new List<(Checkpoint Checkpoint, Cid Cid)>();
        Cid? at = head;
        string? origin = null;
        long nextSize = long.MaxValue;
        while (at is Cid cid)
        {
            byte[]? block = await store.GetAsync(cid, cancellationToken).ConfigureAwait(false);
            string which = chain.Count == 0 ? "the head checkpoint" : $"checkpoint {chain.Count} before the head";
            if (block is null)
            {
                return new VerificationFailure("block-missing", $"{which} is not in {store.Name}", Block: cid);
            }

            state.Blocks++;
            if (!cid.Matches(block) || cid.Codec != Cid.RawCodec)
            {
                return new VerificationFailure("block-hash", $"{which} does not hash to its CID (altered)", Block: cid, Expected: cid.ToString(), Found: Cid.Of(block).ToString());
            }

            CheckpointNote.Parsed parsed;
            try
            {
                parsed = CheckpointNote.Parse(block);
            }
            catch (CheckpointFormatException e)
            {
                return new VerificationFailure("checkpoint-format", $"{which}: {e.Message}", Block: cid);
            }

            var c = parsed.Checkpoint;
            state.Head ??= c;
            var records = c.Size > c.PreviousSize ? (long?)c.PreviousSize : null;
            if (!CheckpointNote.VerifySignature(parsed, options.TrustedKey))
            {
                string found = string.Join(",", parsed.Signatures.Select(s => $"{s.Name} keyhash {Convert.ToHexStringLower(s.KeyHash)}"));
                return new VerificationFailure("signature", $"{which} (size {c.Size}, records {c.PreviousSize}-{c.Size - 1}) is not signed by the trusted key {keyId}", records, cid,
                    $"a signature by {keyId} (keyhash {Convert.ToHexStringLower(CheckpointNote.KeyHash(c.Origin, options.TrustedKey))})", found);
            }

            if (!c.Origin.EndsWith("/" + keyId, StringComparison.Ordinal) || (origin is not null && c.Origin != origin))
            {
                return new VerificationFailure("origin", $"{which} belongs to another log", records, cid, origin ?? $"an origin ending /{keyId}", c.Origin);
            }

            origin ??= c.Origin;
            if (c.Size >= nextSize || c.PreviousSize > c.Size || (c.Previous is null) != (c.PreviousSize == 0))
            {
                return new VerificationFailure("checkpoint-order", $"{which} has size {c.Size} after previous size {c.PreviousSize}; sizes must grow from checkpoint to checkpoint", records, cid,
                    nextSize == long.MaxValue ? null : $"a size below {nextSize}", c.Size.ToString(CultureInfo.InvariantCulture));
            }

            long expectFirst = c.PreviousSize;
            foreach (var b in c.Bundles)
            {
                if (b.First != expectFirst || b.Count < 1)
                {
                    return new VerificationFailure("bundle-coverage", $"{which}: its records blocks do not cover records {c.PreviousSize}-{c.Size - 1} in order", expectFirst, cid,
                        $"a block starting at record {expectFirst}", $"one starting at {b.First} with {b.Count} records");
                }

                expectFirst += b.Count;
            }

            if (expectFirst != c.Size)
            {
                return new VerificationFailure("bundle-coverage", $"{which}: its records blocks end at record {expectFirst}, the checkpoint at size {c.Size}", expectFirst, cid, c.Size.ToString(CultureInfo.InvariantCulture), expectFirst.ToString(CultureInfo.InvariantCulture));
            }

            chain.Add((c, cid));
            nextSize = c.Size;
            at = c.Previous;
        }

        if (chain[^1].Checkpoint.PreviousSize != 0)
        {
            return new VerificationFailure("checkpoint-order", "the first checkpoint does not start at record 0", 0, chain[^1].Cid);
        }

        chain.Reverse();

        // 2. Forward: records against the signed leaf index, the tree against every checkpoint.
        var tree = state.Tree;
        Checkpoint? previous = null;
        foreach (var (c, cid) in chain)
        {
            foreach (var b in c.Bundles)
            {
                var bad = await CheckBundleAsync(store, b, tree, options, state, cancellationToken).ConfigureAwait(false);
                if (bad is not null)
                {
                    return bad;
                }
            }

            byte[] root = tree.Root(c.Size);
            if (!root.AsSpan().SequenceEqual(c.Root))
            {
                return new VerificationFailure("checkpoint-root", $"the records up to the checkpoint of size {c.Size} do not give its signed root", c.PreviousSize, cid, Convert.ToBase64String(c.Root), Convert.ToBase64String(root));
            }

            var range = CompactRangeOf(tree, c.Size);
            if (range.Count != c.Range.Count || range.Zip(c.Range).Any(p => !p.First.AsSpan().SequenceEqual(p.Second)))
            {
                return new VerificationFailure("checkpoint-range", $"the checkpoint of size {c.Size} carries a compact range that is not its tree's", c.PreviousSize, cid,
                    string.Join(' ', range.Select(Convert.ToBase64String)), string.Join(' ', c.Range.Select(Convert.ToBase64String)));
            }

            if (previous is not null)
            {
                var proof = tree.ConsistencyProof(previous.Size, c.Size);
                if (ProofVerifier.VerifyConsistency(previous.Size, c.Size, previous.Root, c.Root, proof) is { } inconsistent)
                {
                    return new VerificationFailure("consistency", $"checkpoint of size {c.Size} does not extend the one of size {previous.Size}: {inconsistent.Message}", previous.Size, cid, inconsistent.Expected, inconsistent.Computed);
                }
            }

            state.CheckpointsChecked++;
            previous = c;
        }

        var headCheckpoint = chain[^1].Checkpoint;

        // 3. On request, every record's inclusion proof against the head's signed root (the tree is read-only now, so
        // in parallel). The root check above already proves inclusion; this checks the proofs a partial reader would use.
        if (options.CheckInclusionProofs && headCheckpoint.Size > 0)
        {
            long firstBad = long.MaxValue;
            ProofFailure? badProof = null;
            var gate = new object();
            long size = headCheckpoint.Size;
            byte[] headRoot = headCheckpoint.Root;
            Parallel.For(0, (int)((size + 4095) / 4096), new ParallelOptions { CancellationToken = cancellationToken }, chunk =>
            {
                long end = Math.Min(size, (chunk + 1) * 4096L);
                for (long i = chunk * 4096L; i < end; i++)
                {
                    var proof = tree.InclusionProof(i, size);
                    if (ProofVerifier.VerifyInclusion(i, size, tree.LeafHash(i), proof, headRoot) is { } f)
                    {
                        lock (gate)
                        {
                            if (i < firstBad)
                            {
                                firstBad = i;
                                badProof = f;
                            }
                        }

                        return;
                    }
                }
            });

            if (badProof is not null)
            {
                return new VerificationFailure("inclusion", badProof.Message, firstBad, chain[^1].Cid, badProof.Expected, badProof.Computed);
            }
        }

        // 4. Rollback and fork: the head must contain a checkpoint seen before.
        if (options.Seen is { Size: > 0 } seen)
        {
            if (seen.Size > headCheckpoint.Size)
            {
                return new VerificationFailure("rollback", $"the head has {headCheckpoint.Size} records, but a checkpoint with {seen.Size} was seen before: records {headCheckpoint.Size}-{seen.Size - 1} are withheld (an old checkpoint replayed)",
                    headCheckpoint.Size, chain[^1].Cid, $"size >= {seen.Size}", headCheckpoint.Size.ToString(CultureInfo.InvariantCulture));
            }

            byte[] seenRoot = tree.Root(seen.Size);
            var proof = tree.ConsistencyProof(seen.Size, headCheckpoint.Size);
            if (!seenRoot.AsSpan().SequenceEqual(seen.Root) || ProofVerifier.VerifyConsistency(seen.Size, headCheckpoint.Size, seen.Root, headCheckpoint.Root, proof) is not null)
            {
                return new VerificationFailure("rollback", $"the log no longer contains the checkpoint of size {seen.Size} seen before (a fork or a rewritten history)",
                    seen.Size == 0 ? 0 : seen.Size - 1, chain[^1].Cid, Convert.ToBase64String(seen.Root), Convert.ToBase64String(seenRoot));
            }
        }

        return null;
    }

    // Records hashed per parallel work item: enough to outweigh the scheduling, few enough to share a 512-record block.
    private const int LeafChunk = 64;

    private static async Task<VerificationFailure?> CheckBundleAsync(IBlockStore store, BundleRef b, MerkleTree tree, VerifyOptions options, WalkState state, CancellationToken cancellationToken)
    {
        string span = $"records {b.First}-{b.First + b.Count - 1}";
        byte[]? leaves = await store.GetAsync(b.Leaves, cancellationToken).ConfigureAwait(false);
        if (leaves is null)
        {
            return new VerificationFailure("block-missing", $"the leaf index of {span} is not in {store.Name}", b.First, b.Leaves);
        }

        byte[]? records = await store.GetAsync(b.Records, cancellationToken).ConfigureAwait(false);
        if (records is null)
        {
            return new VerificationFailure("block-missing", $"the records block of {span} is not in {store.Name}", b.First, b.Records);
        }

        state.Blocks += 2;
        var lines = SplitLines(records);

        // Hashing is the walk's whole cost: both blocks' CID checks and the records' leaf hashes run on every core, then
        // the checks below go record by record in order, so the first failure named is the same as sequentially.
        // A block with more lines than its checkpoint signed fails at line b.Count at the latest: no need to hash past it.
        bool leavesOk = false, recordsOk = false;
        int hashed = Math.Min(lines.Count, b.Count + 1);
        byte[] hashes = new byte[hashed * MerkleHasher.HashSize];
        int chunks = (hashed + LeafChunk - 1) / LeafChunk;
        Parallel.For(0, chunks + 2, part =>
        {
            if (part == chunks)
            {
                recordsOk = b.Records.Matches(records);
            }
            else if (part == chunks + 1)
            {
                leavesOk = b.Leaves.Matches(leaves);
            }
            else
            {
                for (int i = part * LeafChunk, end = Math.Min(hashed, i + LeafChunk); i < end; i++)
                {
                    MerkleHasher.HashLeaf(records.AsSpan(lines[i].Start, lines[i].Length), hashes.AsSpan(i * MerkleHasher.HashSize, MerkleHasher.HashSize));
                }
            }
        });

        int n = Math.Max(lines.Count, b.Count);
        for (int i = 0; i < n; i++)
        {
            long index = b.First + i;
            bool haveLine = i < lines.Count;
            bool haveIndex = (i + 1) * MerkleHasher.HashSize <= leaves.Length && i < b.Count;
            ReadOnlySpan<byte> leaf = haveLine ? hashes.AsSpan(i * MerkleHasher.HashSize, MerkleHasher.HashSize) : default;

            ReadOnlySpan<byte> signed = haveIndex ? leaves.AsSpan(i * MerkleHasher.HashSize, MerkleHasher.HashSize) : default;
            if (!haveLine || !haveIndex || !leaf.SequenceEqual(signed))
            {
                string expected = haveIndex ? Convert.ToHexStringLower(signed) : "no record";
                string found = haveLine ? Convert.ToHexStringLower(leaf) : "no record";
                if (!leavesOk)
                {
                    return new VerificationFailure("leaf-index", $"the signed leaf index of {span} was altered at this record's entry (its block does not hash to its CID)", index, b.Leaves, expected, found);
                }

                if (!haveLine || i >= b.Count)
                {
                    return new VerificationFailure("record-count", $"the records block of {span} holds {lines.Count} records, the checkpoint says {b.Count} (a record dropped or added)", index, b.Records,
                        b.Count.ToString(CultureInfo.InvariantCulture), lines.Count.ToString(CultureInfo.InvariantCulture));
                }

                return new VerificationFailure("record-hash", "the record does not match its signed leaf hash: it was altered, dropped, or moved", index, b.Records, $"leaf hash {expected}", $"leaf hash {found}");
            }

            tree.AppendLeafHash(leaf);
            state.RecordsChecked = tree.Size;
            options.OnRecord?.Invoke(index, records.AsSpan(lines[i].Start, lines[i].Length).ToArray());
        }

        if (!leavesOk || leaves.Length != b.Count * MerkleHasher.HashSize)
        {
            return new VerificationFailure("block-hash", $"the leaf index of {span} does not hash to its CID", b.First, b.Leaves, b.Leaves.ToString(), Cid.Of(leaves).ToString());
        }

        if (!recordsOk)
        {
            return new VerificationFailure("block-hash", $"the records block of {span} does not hash to its CID", b.First, b.Records, b.Records.ToString(), Cid.Of(records).ToString());
        }

        return null;
    }

    private static List<(int Start, int Length)> SplitLines(byte[] block)
    {
        var lines = new List<(int, int)>();
        int start = 0;
        while (true)
        {
            int newline = block.AsSpan(start).IndexOf((byte)'\n');
            if (newline < 0)
            {
                lines.Add((start, block.Length - start));
                return lines;
            }

            lines.Add((start, newline));
            start += newline + 1;
        }
    }

    private static List<byte[]> CompactRangeOf(MerkleTree tree, long size)
    {
        var hashes = new List<byte[]>();
        long begin = 0;
        for (int bit = 62; bit >= 0; bit--)
        {
            long width = 1L << bit;
            if ((size & width) != 0)
            {
                hashes.Add(tree.HashRange(new LeafRange(begin, begin + width)));
                begin += width;
            }
        }

        return hashes;
    }
}
