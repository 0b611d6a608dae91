using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Tests;

/// <summary>Every way an attacker with the disk (or one IPFS node) can change stored blocks, and what verify says about it.</summary>
public sealed class TamperTests : IDisposable
{
    private readonly LedgerFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    private async Task<List<(Checkpoint Checkpoint, Cid Cid)>> BuildAsync(int records = 23, int commitEvery = 7)
    {
        var log = await _fx.OpenAsync();
        var cids = await LedgerFixture.AppendAsync(log, 0, records, commitEvery);
        var chain = new List<(Checkpoint, Cid)>();
        foreach (var cid in cids)
        {
            chain.Add((CheckpointNote.Parse(File.ReadAllBytes(_fx.Store.PathOf(cid))).Checkpoint, cid));
        }

        return chain;
    }

    [Fact]
    public async Task Verify_EveryByteOfEveryRecordsBlockFlipped_NamesTheRecordHoldingIt()
    {
        var chain = await BuildAsync();
        int cases = 0;
        foreach (var b in chain.SelectMany(c => c.Checkpoint.Bundles))
        {
            string path = _fx.Store.PathOf(b.Records);
            byte[] original = File.ReadAllBytes(path);
            for (int at = 0; at < original.Length; at++)
            {
                byte[] bad = (byte[])original.Clone();
                bad[at] ^= 0x20;
                File.WriteAllBytes(path, bad);

                var report = await _fx.VerifyAsync();

                long expectedRecord = b.First + original.AsSpan(0, at).Count((byte)'\n');
                Assert.False(report.Ok, $"byte {at} of {b.Records}");
                Assert.Equal(expectedRecord, report.Failure!.RecordIndex);
                Assert.Equal(b.Records, report.Failure.Block);
                Assert.Contains(report.Failure.Check, new[] { "record-hash", "record-count" });
                cases++;
            }

            File.WriteAllBytes(path, original);
        }

        Assert.True(cases > 500);
        Assert.True((await _fx.VerifyAsync()).Ok);
    }

    [Fact]
    public async Task Verify_WithAndWithoutInclusionProofs_AgreeOnEveryRecordAndEveryFlippedByte()
    {
        // The default walk proves inclusion by rebuilding each checkpoint's tree; the per-record proofs must add no
        // verdict of their own: same count on a good log, same first failure on a tampered one.
        var chain = await BuildAsync(records: 70, commitEvery: 9);
        var plain = await _fx.VerifyAsync();
        var proved = await _fx.VerifyAsync(inclusionProofs: true);
        Assert.True(plain.Ok, plain.Failure?.ToString());
        Assert.True(proved.Ok, proved.Failure?.ToString());
        Assert.Equal(70, plain.RecordsVerified);
        Assert.Equal(70, proved.RecordsVerified);

        var b = chain[^1].Checkpoint.Bundles[^1];
        string path = _fx.Store.PathOf(b.Records);
        byte[] original = File.ReadAllBytes(path);
        for (int at = 0; at < original.Length; at += 3)
        {
            byte[] bad = (byte[])original.Clone();
            bad[at] ^= 0x01;
            File.WriteAllBytes(path, bad);
            var without = await _fx.VerifyAsync();
            var with = await _fx.VerifyAsync(inclusionProofs: true);
            Assert.False(without.Ok);
            Assert.Equal(without.Failure, with.Failure);
        }
    }

    [Fact]
    public async Task Verify_ByteOfALeafIndexFlipped_NamesTheRecordOfThatEntry()
    {
        var chain = await BuildAsync();
        var b = chain[1].Checkpoint.Bundles[0];
        string path = _fx.Store.PathOf(b.Leaves);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[(2 * 32) + 5] ^= 1;
        File.WriteAllBytes(path, bytes);

        var report = await _fx.VerifyAsync();

        Assert.Equal("leaf-index", report.Failure!.Check);
        Assert.Equal(b.First + 2, report.Failure.RecordIndex);
        Assert.Equal(b.Leaves, report.Failure.Block);
    }

    [Fact]
    public async Task Verify_ByteOfACheckpointFlipped_NamesTheCheckpointBlock()
    {
        var chain = await BuildAsync();
        foreach (var (_, cid) in chain)
        {
            string path = _fx.Store.PathOf(cid);
            byte[] original = File.ReadAllBytes(path);
            for (int at = 0; at < original.Length; at += 7)
            {
                byte[] bad = (byte[])original.Clone();
                bad[at] ^= 0x01;
                File.WriteAllBytes(path, bad);

                var report = await _fx.VerifyAsync();

                Assert.Equal("block-hash", report.Failure?.Check);
                Assert.Equal(cid, report.Failure!.Block);
            }

            File.WriteAllBytes(path, original);
        }
    }

    [Fact]
    public async Task Verify_RecordDropped_NamesTheDroppedRecord()
    {
        var chain = await BuildAsync();
        var b = chain[2].Checkpoint.Bundles[0]; // records 14-17
        RewriteLines(b.Records, lines => lines.RemoveAt(1));

        var report = await _fx.VerifyAsync();

        Assert.Equal("record-hash", report.Failure!.Check);
        Assert.Equal(b.First + 1, report.Failure.RecordIndex);
    }

    [Fact]
    public async Task Verify_LastRecordOfABlockDropped_SaysTheCountIsShort()
    {
        var chain = await BuildAsync();
        var b = chain[0].Checkpoint.Bundles[0]; // records 0-3
        RewriteLines(b.Records, lines => lines.RemoveAt(lines.Count - 1));

        var report = await _fx.VerifyAsync();

        Assert.Equal("record-count", report.Failure!.Check);
        Assert.Equal(3, report.Failure.RecordIndex);
        Assert.Equal("4", report.Failure.Expected);
        Assert.Equal("3", report.Failure.Found);
    }

    [Fact]
    public async Task Verify_TwoRecordsSwapped_NamesTheFirstOfThem()
    {
        var chain = await BuildAsync();
        var b = chain[1].Checkpoint.Bundles[0]; // records 7-10
        RewriteLines(b.Records, lines => (lines[1], lines[2]) = (lines[2], lines[1]));

        var report = await _fx.VerifyAsync();

        Assert.Equal("record-hash", report.Failure!.Check);
        Assert.Equal(8, report.Failure.RecordIndex);
    }

    [Fact]
    public async Task Verify_BlockDeleted_SaysWhichIsMissing()
    {
        var chain = await BuildAsync();
        var b = chain[3].Checkpoint.Bundles[^1];
        File.Delete(_fx.Store.PathOf(b.Records));

        var report = await _fx.VerifyAsync();

        Assert.Equal("block-missing", report.Failure!.Check);
        Assert.Equal(b.First, report.Failure.RecordIndex);
        Assert.Equal(b.Records, report.Failure.Block);
    }

    [Fact]
    public async Task Verify_OldCheckpointReplayedAsHead_IsARollbackAgainstTheSeenOne()
    {
        var chain = await BuildAsync();
        var seen = chain[^1].Checkpoint;
        Assert.True((await _fx.VerifyAsync(seen: seen)).Ok);

        await _fx.Head.PublishAsync(chain[1].Cid, CancellationToken.None);
        var withoutState = await _fx.VerifyAsync();
        var report = await _fx.VerifyAsync(seen: seen);

        Assert.True(withoutState.Ok, "an old checkpoint is a valid shorter log: only the seen state exposes it");
        Assert.Equal("rollback", report.Failure!.Check);
        Assert.Equal(14, report.Failure.RecordIndex);
        Assert.Contains("records 14-22 are withheld", report.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_HistoryRewrittenAndResignedByAnotherKey_FailsTheSignatureAtTheHead()
    {
        await BuildAsync();
        // The attacker writes a log of their own (same sensor name, other records) into the same store, and points the head at it.
        using var attacker = new Ed25519.InMemorySigner();
        string otherHead = Directory.CreateTempSubdirectory("stakeout-ledger-forged-").FullName;
        try
        {
            var forged = await LedgerLog.OpenAsync(_fx.Store, new FileHeadPointer(otherHead), attacker, _fx.Options, TimeProvider.System, CancellationToken.None);
            forged.Append("{\"forged\":true}"u8);
            var receipt = await forged.CommitAsync(CancellationToken.None);
            await _fx.Head.PublishAsync(receipt!.CheckpointCid, CancellationToken.None);

            var report = await _fx.VerifyAsync();

            Assert.Equal("signature", report.Failure!.Check);
            Assert.Equal(receipt.CheckpointCid, report.Failure.Block);
            Assert.Contains(Ed25519.KeyId(_fx.Signer.PublicKey), report.Failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(otherHead, recursive: true);
        }
    }

    [Fact]
    public async Task Verify_WithAnotherTrustedKey_FailsTheSignature()
    {
        await BuildAsync();
        using var other = new Ed25519.InMemorySigner();

        var report = await _fx.VerifyAsync(key: other.PublicKey);

        Assert.Equal("signature", report.Failure!.Check);
        Assert.Equal(21, report.Failure.RecordIndex); // the head checkpoint adds records 21-22
    }

    [Property(MaxTest = 300)]
    public void Verify_RandomMutationOfStoredBlocks_IsAlwaysDetected(NonNegativeInt blockSeed, NonNegativeInt positionSeed, byte xor, NonNegativeInt kindSeed)
    {
        // One mutation of one referenced block (flip, truncate, extend, delete, replace by another block, swap two blocks),
        // or of the head file; verify must fail every time.
        // The log is built once and its files restored before each case (fsync makes building slow on a busy disk).
        _snapshot ??= Snapshot(BuildAsync(records: 13, commitEvery: 5).GetAwaiter().GetResult());
        var (chain, files) = _snapshot.Value;
        Restore(files);
        var blocks = chain.SelectMany(c => c.Checkpoint.Bundles.SelectMany(b => new[] { b.Records, b.Leaves }).Append(c.Cid)).Select(_fx.Store.PathOf).Append(_fx.Head.FilePath).ToList();
        string path = blocks[blockSeed.Get % blocks.Count];
        byte[] bytes = File.ReadAllBytes(path);
        int at = positionSeed.Get % bytes.Length;
        switch (kindSeed.Get % 6)
        {
            case 0:
                bytes[at] ^= xor == 0 ? (byte)0x80 : xor;
                File.WriteAllBytes(path, bytes);
                break;
            case 1:
                File.WriteAllBytes(path, bytes[..at]);
                break;
            case 2:
                File.WriteAllBytes(path, [.. bytes, xor]);
                break;
            case 3:
                File.Delete(path);
                break;
            case 4:
                string other = blocks[(blockSeed.Get + 1) % blocks.Count];
                File.WriteAllBytes(path, File.ReadAllBytes(other) is var o && o.AsSpan().SequenceEqual(bytes) ? [.. o, 0] : o);
                break;
            default:
                string second = blocks[(blockSeed.Get + 1 + (positionSeed.Get % (blocks.Count - 1))) % blocks.Count];
                byte[] secondBytes = File.ReadAllBytes(second);
                File.WriteAllBytes(second, bytes);
                File.WriteAllBytes(path, secondBytes.AsSpan().SequenceEqual(bytes) ? [.. bytes, 1] : secondBytes);
                break;
        }

        VerificationReport? report = null;
        Exception? error = null;
        try
        {
            report = _fx.VerifyAsync().GetAwaiter().GetResult();
        }
        catch (InvalidDataException e)
        {
            error = e; // the head file no longer names a CID: refused as well
        }
        catch (InvalidOperationException e)
        {
            error = e; // the head file was deleted: there is no log to verify
        }

        Assert.True(error is not null || report?.Ok == false, $"mutation {kindSeed.Get % 6} of {Path.GetFileName(path)} at {at} went unnoticed");
    }

    private (List<(Checkpoint Checkpoint, Cid Cid)> Chain, Dictionary<string, byte[]> Files)? _snapshot;

    private (List<(Checkpoint, Cid)>, Dictionary<string, byte[]>) Snapshot(List<(Checkpoint, Cid)> chain) =>
        (chain, Directory.EnumerateFiles(_fx.Directory, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes));

    private void Restore(Dictionary<string, byte[]> files)
    {
        foreach (string file in Directory.EnumerateFiles(_fx.Directory, "*", SearchOption.AllDirectories))
        {
            if (!files.ContainsKey(file))
            {
                File.Delete(file);
            }
        }

        foreach (var (file, bytes) in files)
        {
            File.WriteAllBytes(file, bytes);
        }
    }

    private void RewriteLines(Cid block, Action<List<string>> change)
    {
        string path = _fx.Store.PathOf(block);
        var lines = File.ReadAllText(path).Split('\n').ToList();
        change(lines);
        File.WriteAllText(path, string.Join('\n', lines));
    }
}
