using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Merkle;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Log;

/// <summary>How the log packs records into blocks.</summary>
public sealed record LedgerLogOptions
{
    /// <summary>The sensor's id, part of the log's origin (1-64 of letters, digits, '.', '_', '-').</summary>
    public required string Sensor { get; init; }

    /// <summary>Most records in one records block. Default 512.</summary>
    public int MaxBundleRecords { get; init; } = 512;

    /// <summary>Most bytes in one records block; IPFS nodes refuse blocks over 1 MiB. Default 768 KiB.</summary>
    public int MaxBundleBytes { get; init; } = 768 * 1024;

    /// <summary>Most bytes of one record. Default 256 KiB.</summary>
    public int MaxRecordBytes { get; init; } = 256 * 1024;

    /// <summary>Checks the options; the message names the option.</summary>
    public void Validate()
    {
        if (!Checkpoint.IsValidSensorId(Sensor))
        {
            throw new ArgumentException($"sensor id '{Sensor}' must be 1-64 letters, digits, '.', '_' or '-'.", nameof(Sensor));
        }

        if (MaxBundleRecords is < 1 or > 65536)
        {
            throw new ArgumentException($"MaxBundleRecords {MaxBundleRecords} must be 1-65536.", nameof(MaxBundleRecords));
        }

        if (MaxRecordBytes < 1 || MaxBundleBytes < MaxRecordBytes + 1)
        {
            throw new ArgumentException($"MaxBundleBytes ({MaxBundleBytes}) must exceed MaxRecordBytes ({MaxRecordBytes}).", nameof(MaxBundleBytes));
        }
    }
}

/// <summary>What a commit made durable: records [FirstIndex, Checkpoint.Size), under checkpoint <see cref="CheckpointCid"/>.</summary>
/// <param name="FirstIndex">The first record the commit added.</param>
/// <param name="Checkpoint">The new checkpoint.</param>
/// <param name="CheckpointCid">Its CID, now the head.</param>
public sealed record CommitReceipt(long FirstIndex, Checkpoint Checkpoint, Cid CheckpointCid)
{
    /// <summary>Records the commit added.</summary>
    public long Count => Checkpoint.Size - FirstIndex;
}

/// <summary>A log that cannot be opened for appending: a head that does not verify, another key, a broken block.</summary>
public sealed class LedgerStateException(string message) : Exception(message);

/// <summary>
/// The append side of the threat ledger: records are buffered by <see cref="Append"/> and made durable by
/// <see cref="CommitAsync"/>, which writes the records blocks and their leaf-hash blocks, then the signed checkpoint that
/// links them (and the previous checkpoint), all fsynced, and only then moves the head. A record is acknowledged when the
/// commit that holds it returns. The writer keeps only the compact range of the tree, so appends cost O(1) hashes.
/// Not thread-safe: one writer (see <see cref="LedgerAppender"/> for batching from many producers).
/// </summary>
public sealed class LedgerLog
{
    private readonly IBlockStore _store;
    private readonly IHeadPointer _head;
    private readonly ICheckpointSigner _signer;
    private readonly LedgerLogOptions _options;
    private readonly TimeProvider _time;
    private readonly List<byte[]> _pending = [];
    private CompactRange _range;

    private LedgerLog(IBlockStore store, IHeadPointer head, ICheckpointSigner signer, LedgerLogOptions options, TimeProvider time, Checkpoint? checkpoint, Cid? headCid, CompactRange range)
    {
        _store = store;
        _head = head;
        _signer = signer;
        _options = options;
        _time = time;
        Head = checkpoint;
        HeadCid = headCid;
        _range = range;
        Origin = Checkpoint.OriginFor(options.Sensor, signer.PublicKey);
    }

    /// <summary>The log's origin line.</summary>
    public string Origin { get; }

    /// <summary>The newest durable checkpoint (null for a new log).</summary>
    public Checkpoint? Head { get; private set; }

    /// <summary>Its CID.</summary>
    public Cid? HeadCid { get; private set; }

    /// <summary>Records durable (acknowledged).</summary>
    public long DurableSize => Head?.Size ?? 0;

    /// <summary>Records appended, durable or not.</summary>
    public long Size => DurableSize + _pending.Count;

    /// <summary>Records appended and not yet committed.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>
    /// Opens the log at <paramref name="head"/>: a new one when the head is empty, otherwise the head checkpoint is read,
    /// its block hash and signature checked with the signer's own public key, and its compact range checked against its root.
    /// </summary>
    public static async ValueTask<LedgerLog> OpenAsync(IBlockStore store, IHeadPointer head, ICheckpointSigner signer, LedgerLogOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        string origin = Checkpoint.OriginFor(options.Sensor, signer.PublicKey);
        var cid = await head.ResolveAsync(cancellationToken).ConfigureAwait(false);
        if (cid is null)
        {
            return new LedgerLog(store, head, signer, options, time, null, null, new CompactRange());
        }

        byte[] block = await store.GetAsync(cid.Value, cancellationToken).ConfigureAwait(false)
            ?? throw new LedgerStateException($"{store.Name}: the head checkpoint {cid} is not in the store.");
        if (!cid.Value.Matches(block))
        {
            throw new LedgerStateException($"{store.Name}: the head checkpoint block {cid} does not hash to its CID (altered on disk).");
        }

        CheckpointNote.Parsed parsed;
        try
        {
            parsed = CheckpointNote.Parse(block);
        }
        catch (CheckpointFormatException e)
        {
            throw new LedgerStateException($"{store.Name}: head checkpoint {cid}: {e.Message}.");
        }

        var checkpoint = parsed.Checkpoint;
        if (checkpoint.Origin != origin)
        {
            throw new LedgerStateException($"{store.Name}: the log's origin is '{checkpoint.Origin}', not '{origin}': another sensor id or key wrote it.");
        }

        if (!CheckpointNote.VerifySignature(parsed, signer.PublicKey))
        {
            throw new LedgerStateException($"{store.Name}: head checkpoint {cid} is not signed by key {Ed25519.KeyId(signer.PublicKey)}.");
        }

        CompactRange range;
        try
        {
            range = CompactRange.FromHashes(checkpoint.Size, checkpoint.Range);
        }
        catch (ArgumentException e)
        {
            throw new LedgerStateException($"{store.Name}: head checkpoint {cid}: {e.Message}");
        }

        if (!range.Root().AsSpan().SequenceEqual(checkpoint.Root))
        {
            throw new LedgerStateException($"{store.Name}: head checkpoint {cid}: its compact range does not give its root.");
        }

        return new LedgerLog(store, head, signer, options, time, checkpoint, cid, range);
    }

    /// <summary>Buffers one record (its canonical bytes: one line, no newline) and returns its index in the log.</summary>
    public long Append(ReadOnlySpan<byte> record)
    {
        if (record.IsEmpty)
        {
            throw new ArgumentException("a record cannot be empty.", nameof(record));
        }

        if (record.Length > _options.MaxRecordBytes)
        {
            throw new ArgumentException($"a record of {record.Length} bytes exceeds MaxRecordBytes ({_options.MaxRecordBytes}).", nameof(record));
        }

        if (record.IndexOf((byte)'\n') >= 0)
        {
            throw new ArgumentException("a record is one line: canonical JSON has no raw newline.", nameof(record));
        }

        _pending.Add(record.ToArray());
        return Size - 1;
    }

    /// <summary>Makes every buffered record durable under a new signed checkpoint; null when nothing was pending.</summary>
    public async ValueTask<CommitReceipt?> CommitAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0)
        {
            return null;
        }

        long first = DurableSize;
        var range = _range.Clone();
        var blocks = new List<(ReadOnlyMemory<byte> Block, ulong Codec)>();
        var bundles = new List<(long First, int Count, int RecordsBlock, int LeavesBlock)>();
        int at = 0;
        while (at < _pending.Count)
        {
            int start = at, bytes = 0;
            while (at < _pending.Count && at - start < _options.MaxBundleRecords && bytes + _pending[at].Length + 1 <= _options.MaxBundleBytes)
            {
                bytes += _pending[at].Length + 1;
                at++;
            }

            int count = at - start;
            byte[] records = new byte[bytes - 1];
            byte[] leaves = new byte[count * MerkleHasher.HashSize];
            int offset = 0;
            for (int i = 0; i < count; i++)
            {
                byte[] record = _pending[start + i];
                if (i > 0)
                {
                    records[offset++] = (byte)'\n';
                }

                record.CopyTo(records, offset);
                offset += record.Length;
                Span<byte> leaf = leaves.AsSpan(i * MerkleHasher.HashSize, MerkleHasher.HashSize);
                MerkleHasher.HashLeaf(record, leaf);
                range.Append(leaf);
            }

            bundles.Add((first + start, count, blocks.Count, blocks.Count + 1));
            blocks.Add((records, Cid.RawCodec));
            blocks.Add((leaves, Cid.RawCodec));
        }

        var checkpoint = new Checkpoint
        {
            Origin = Origin,
            Size = range.Size,
            Root = range.Root(),
            Previous = HeadCid,
            PreviousSize = DurableSize,
            Bundles = bundles.Select(b => new BundleRef(b.First, b.Count, Cid.Of(blocks[b.RecordsBlock].Block.Span), Cid.Of(blocks[b.LeavesBlock].Block.Span))).ToList(),
            Range = range.Hashes.ToList(),
            Time = _time.GetUtcNow(),
        };
        byte[] note = CheckpointNote.Sign(checkpoint, _signer);
        blocks.Add((note, Cid.RawCodec));

        // The checkpoint is unreachable until the head names it, so it is written in the same durable batch as its records.
        var cids = await _store.PutManyAsync(blocks, cancellationToken).ConfigureAwait(false);
        Cid checkpointCid = cids[^1];
        await _head.PublishAsync(checkpointCid, cancellationToken).ConfigureAwait(false);

        _pending.Clear();
        // The writer's range advances only once the commit is durable, so a failed commit can simply be retried.
        _range = range;
        Head = checkpoint;
        HeadCid = checkpointCid;
        return new CommitReceipt(first, checkpoint, checkpointCid);
    }
}
