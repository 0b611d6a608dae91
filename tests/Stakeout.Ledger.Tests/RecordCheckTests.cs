using System.Text;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Crypto;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Records;

namespace Stakeout.Ledger.Tests;

/// <summary>One record's standing, as the dashboard's alert detail asks for it: verified, pending or failed, and why.</summary>
public sealed class RecordCheckTests : IDisposable
{
    private static readonly string[] Alerts = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "TestData", "alerts.json"));
    private readonly LedgerFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    private Task<RecordCheck> CheckAsync(long index, byte[]? key = null) =>
        RecordChecker.CheckAsync(_fx.Store, _fx.Head, key ?? _fx.Signer.PublicKey, index, CancellationToken.None);

    [Fact]
    public async Task Check_EmptyLog_IsPendingWithNoHead()
    {
        var check = await CheckAsync(0);

        Assert.Equal(RecordStanding.Pending, check.Standing);
        Assert.Null(check.Head);
        Assert.Contains("no signed checkpoint yet", check.Describe("k"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_CommittedRecord_IsVerifiedWithItsOwnBytes_AndAnUncommittedOneIsPending()
    {
        var log = await _fx.OpenAsync();
        await LedgerFixture.AppendAsync(log, 0, 10, commitEvery: 3);
        log.Append(LedgerFixture.Record(10));

        var check = await CheckAsync(7);
        var pending = await CheckAsync(10);

        Assert.Equal(RecordStanding.Verified, check.Standing);
        Assert.Equal(LedgerFixture.Record(7), check.Record);
        Assert.Equal(10, check.Head!.Size);
        Assert.Equal(4, check.CheckpointsVerified);
        Assert.False(check.Sealed);
        Assert.Contains("record 7 of 10", check.Describe("k"), StringComparison.Ordinal);
        Assert.Equal(RecordStanding.Pending, pending.Standing);
        Assert.Contains("the head covers records 0-9", pending.Describe("k"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_AlteredRecord_FailsAsThisRecord_AndAnotherRecordAsTheLog()
    {
        var log = await _fx.OpenAsync();
        await LedgerFixture.AppendAsync(log, 0, 10, commitEvery: 5);
        var head = CheckpointNote.Parse(File.ReadAllBytes(_fx.Store.PathOf((await _fx.Head.ResolveAsync(CancellationToken.None))!.Value))).Checkpoint;
        var bundle = head.Bundles.First(b => b.First <= 6 && 6 < b.First + b.Count);
        string path = _fx.Store.PathOf(bundle.Records);
        string text = File.ReadAllText(path);
        File.WriteAllText(path, text.Replace("{\"i\":6,", "{\"i\":9,", StringComparison.Ordinal));

        var own = await CheckAsync(6);
        var other = await CheckAsync(2);

        Assert.Equal(RecordStanding.Failed, own.Standing);
        Assert.True(own.FailureIsThisRecord);
        Assert.Equal("record-hash", own.Failure!.Check);
        Assert.Null(own.Record);
        Assert.StartsWith("this record fails verification", own.Describe("k"), StringComparison.Ordinal);
        Assert.Equal(RecordStanding.Failed, other.Standing);
        Assert.False(other.FailureIsThisRecord);
        Assert.StartsWith("the log does not verify", other.Describe("k"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_AnotherKey_FailsOnTheSignature()
    {
        var log = await _fx.OpenAsync();
        await LedgerFixture.AppendAsync(log, 0, 3, commitEvery: 3);
        using var stranger = new Ed25519.InMemorySigner();

        var check = await CheckAsync(1, stranger.PublicKey);

        Assert.Equal(RecordStanding.Failed, check.Standing);
        Assert.Equal("signature", check.Failure!.Check);
    }

    [Fact]
    public async Task Check_SealedRecord_VerifiesWithoutTheRecipientsKey()
    {
        string keys = Directory.CreateDirectory(Path.Combine(_fx.Directory, "keys")).FullName;
        RecipientKeys.Create(Path.Combine(keys, "r.key"), Path.Combine(keys, "r.pub"));
        var log = await _fx.OpenAsync();
        log.Append(RecordSealer.Seal(LedgerFixture.Record(0), [RecipientKeys.LoadPublic(Path.Combine(keys, "r.pub"))]));
        await log.CommitAsync(CancellationToken.None);

        var check = await CheckAsync(0);

        Assert.Equal(RecordStanding.Verified, check.Standing);
        Assert.True(check.Sealed);
    }

    [Fact]
    public void RecordId_OfEveryRealAlert_IsTheBundleIdOfItsRecord()
    {
        var builder = new StixRecordBuilder("edge-1");
        for (int i = 0; i < Alerts.Length; i++)
        {
            Assert.True(EveObservationReader.TryRead(Encoding.UTF8.GetBytes(Alerts[i]), "alerts.json", i + 1, out var o));
            Assert.Equal((string?)builder.Build(o!)["id"], builder.RecordId(o!));
        }

        Assert.NotEqual(builder.RecordId(Observe(0)), new StixRecordBuilder("edge-2").RecordId(Observe(0)));
        Assert.NotEqual(builder.RecordId(Observe(0)), builder.RecordId(Observe(1)));
    }

    private static ThreatObservation Observe(long line)
    {
        Assert.True(EveObservationReader.TryRead(Encoding.UTF8.GetBytes(Alerts[0]), "alerts.json", 1, out var o));
        return o! with { Line = line };
    }
}
