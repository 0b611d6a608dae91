using System.Text;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Tests;

public sealed class LedgerLogTests : IDisposable
{
    private readonly LedgerFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task Verify_AppendedInSeveralCheckpoints_WalksEveryRecordInOrder()
    {
        var log = await _fx.OpenAsync();
        var cids = await LedgerFixture.AppendAsync(log, 0, 23, commitEvery: 7);
        var seen = new List<long>();

        var report = await _fx.VerifyAsync(onRecord: (i, bytes) =>
        {
            Assert.Equal(LedgerFixture.Record(i), bytes);
            seen.Add(i);
        });

        Assert.True(report.Ok, report.Failure?.ToString());
        Assert.Equal(4, cids.Count);
        Assert.Equal(23, report.RecordsVerified);
        Assert.Equal(4, report.CheckpointsVerified);
        Assert.Equal(Enumerable.Range(0, 23).Select(i => (long)i), seen);
        Assert.Equal(23, report.Head!.Size);
    }

    [Fact]
    public async Task Open_ExistingLog_ResumesFromTheCheckpointsCompactRange()
    {
        var log = await _fx.OpenAsync();
        await LedgerFixture.AppendAsync(log, 0, 10, commitEvery: 10);
        byte[] rootAt10 = log.Head!.Root;

        var reopened = await _fx.OpenAsync();
        await LedgerFixture.AppendAsync(reopened, 10, 5, commitEvery: 5);
        var report = await _fx.VerifyAsync();

        Assert.Equal(10, reopened.Head!.PreviousSize);
        Assert.True(report.Ok, report.Failure?.ToString());
        Assert.Equal(15, report.RecordsVerified);
        Assert.NotEqual(rootAt10, reopened.Head.Root);
    }

    [Fact]
    public async Task Open_LogOfAnotherKey_IsRefusedNamingTheKey()
    {
        var log = await _fx.OpenAsync();
        await LedgerFixture.AppendAsync(log, 0, 3, commitEvery: 3);
        using var other = new Ed25519.InMemorySigner();

        var e = await Assert.ThrowsAsync<LedgerStateException>(() => LedgerLog.OpenAsync(_fx.Store, _fx.Head, other, _fx.Options, TimeProvider.System, CancellationToken.None).AsTask());

        Assert.Contains("origin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Append_RecordWithNewline_IsRefused()
    {
        var log = await _fx.OpenAsync();

        Assert.Throws<ArgumentException>(() => log.Append("{\"a\":\n1}"u8));
        Assert.Throws<ArgumentException>(() => log.Append([]));
    }

    [Fact]
    public async Task Commit_NothingPending_WritesNoCheckpoint()
    {
        var log = await _fx.OpenAsync();

        Assert.Null(await log.CommitAsync(CancellationToken.None));
        Assert.Null(await _fx.Head.ResolveAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Checkpoint_Note_IsASignedNoteWithOriginSizeRootAndLinks()
    {
        var log = await _fx.OpenAsync();
        await LedgerFixture.AppendAsync(log, 0, 5, commitEvery: 5);
        byte[] block = (await _fx.Store.GetAsync(log.HeadCid!.Value, CancellationToken.None))!;
        string[] lines = Encoding.UTF8.GetString(block).Split('\n');

        Assert.Equal($"stakeout.ledger/v1/sensor-1/{Ed25519.KeyId(_fx.Signer.PublicKey)}", lines[0]);
        Assert.Equal("5", lines[1]);
        Assert.Equal(Convert.ToBase64String(log.Head!.Root), lines[2]);
        Assert.StartsWith("stakeout-prev - 0", lines[4], StringComparison.Ordinal);
        Assert.StartsWith("stakeout-bundle 0 4 b", lines[5], StringComparison.Ordinal);
        Assert.StartsWith("stakeout-bundle 4 1 b", lines[6], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("\u2014 stakeout.ledger/v1/sensor-1/", StringComparison.Ordinal));
        var parsed = CheckpointNote.Parse(block);
        Assert.True(CheckpointNote.VerifySignature(parsed, _fx.Signer.PublicKey));
        using var other = new Ed25519.InMemorySigner();
        Assert.False(CheckpointNote.VerifySignature(parsed, other.PublicKey));
    }

    [Theory]
    [InlineData("\u2014 AAAA")]
    [InlineData("\u2014 ")]
    [InlineData("\u2014  x")]
    public async Task Checkpoint_SignatureLineWithoutName_IsAFormatErrorNotACrash(string signatureLine)
    {
        // Found by fuzzing: a signature line whose only space is the dash's own threw ArgumentOutOfRangeException.
        var log = await _fx.OpenAsync();
        await LedgerFixture.AppendAsync(log, 0, 3, commitEvery: 3);
        string note = Encoding.UTF8.GetString((await _fx.Store.GetAsync(log.HeadCid!.Value, CancellationToken.None))!);
        int split = note.IndexOf("\n\n", StringComparison.Ordinal);
        byte[] bad = Encoding.UTF8.GetBytes(note[..(split + 2)] + signatureLine + "\n");

        var e = Record.Exception(() => CheckpointNote.Parse(bad));

        Assert.True(e is CheckpointFormatException, $"{e?.GetType().Name}: {e?.Message}");
    }

    [Fact]
    public async Task Appender_ManyProducers_AcknowledgesEveryRecordOnceDurable()
    {
        var log = await _fx.OpenAsync();
        var acked = new List<CommitReceipt>();
        await using var appender = new LedgerAppender(log, new AppenderOptions { CheckpointEvery = 50, MaxDelay = TimeSpan.FromMilliseconds(20) }, TimeProvider.System) { Committed = acked.Add };
        appender.Start();
        await Parallel.ForAsync(0, 4, async (p, ct) =>
        {
            for (int i = 0; i < 100; i++)
            {
                await appender.WriteAsync(LedgerFixture.Record((p * 1000) + i), ct);
            }
        });

        await appender.CompleteAsync(CancellationToken.None);
        var report = await _fx.VerifyAsync();

        Assert.True(report.Ok, report.Failure?.ToString());
        Assert.Equal(400, acked.Sum(r => r.Count));
        Assert.Equal(400, report.RecordsVerified);
        Assert.All(acked, r => Assert.True(r.Count <= 50));
        Assert.Equal(0, appender.Failures);
    }

    [Fact]
    public async Task Appender_CommitsFailPastGiveUpAfter_CompleteThrowsWithTheCause_WritesFailToo_AndTheLogKeepsWhatWasDurable()
    {
        var store = new FailingStore(_fx.Store);
        var log = await LedgerLog.OpenAsync(store, _fx.Head, _fx.Signer, _fx.Options, TimeProvider.System, CancellationToken.None);
        var acked = new List<CommitReceipt>();
        var options = new AppenderOptions { CheckpointEvery = 10, MaxDelay = TimeSpan.FromMilliseconds(5), RetryDelay = TimeSpan.FromMilliseconds(5), GiveUpAfter = TimeSpan.FromMilliseconds(100) };
        var appender = new LedgerAppender(log, options, TimeProvider.System) { Committed = acked.Add };
        appender.Start();
        for (int i = 0; i < 10; i++)
        {
            await appender.WriteAsync(LedgerFixture.Record(i), CancellationToken.None);
        }

        while (acked.Count == 0)
        {
            await Task.Delay(5);
        }

        store.Fail = true; // the disk is full from now on
        for (int i = 10; i < 25; i++)
        {
            await appender.WriteAsync(LedgerFixture.Record(i), CancellationToken.None);
        }

        var e = await Assert.ThrowsAsync<LedgerCommitException>(() => appender.CompleteAsync(CancellationToken.None));
        await appender.DisposeAsync(); // reported once, by CompleteAsync
        await Assert.ThrowsAsync<System.Threading.Channels.ChannelClosedException>(() => appender.WriteAsync(LedgerFixture.Record(99), CancellationToken.None).AsTask());

        Assert.IsType<IOException>(e.InnerException);
        Assert.Contains("No space left on device", e.Message, StringComparison.Ordinal);
        Assert.Equal(15, e.Unacknowledged);
        Assert.True(appender.Failures >= 2, $"{appender.Failures} failed tries: it gave up without retrying");
        Assert.Equal(10, acked.Sum(r => r.Count));
        var report = await _fx.VerifyAsync();
        Assert.True(report.Ok, report.Failure?.ToString());
        Assert.Equal(10, report.RecordsVerified);
    }

    private sealed class FailingStore(DirectoryBlockStore inner) : IBlockStore
    {
        public volatile bool Fail;

        public string Name => inner.Name;

        public ValueTask<Cid> PutAsync(ReadOnlyMemory<byte> block, ulong codec, CancellationToken cancellationToken) =>
            Fail ? throw new IOException("No space left on device") : inner.PutAsync(block, codec, cancellationToken);

        public ValueTask<byte[]?> GetAsync(Cid cid, CancellationToken cancellationToken) => inner.GetAsync(cid, cancellationToken);
    }

    [Fact]
    public async Task DirectoryStore_HalfWrittenTemporaryFile_IsRemovedAndBlocksRoundTrip()
    {
        var cid = await _fx.Store.PutAsync("hello"u8.ToArray(), Cid.RawCodec, CancellationToken.None);
        string dir = Path.GetDirectoryName(_fx.Store.PathOf(cid))!;
        await File.WriteAllTextAsync(Path.Combine(dir, ".tmp-crashed"), "half");

        Assert.Equal(1, _fx.Store.RemoveTemporaryFiles());
        Assert.Equal("hello"u8.ToArray(), await _fx.Store.GetAsync(cid, CancellationToken.None));
        Assert.Equal("bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq", cid.ToString());
        Assert.Null(await _fx.Store.GetAsync(Cid.Of("other"u8), CancellationToken.None));
    }
}
