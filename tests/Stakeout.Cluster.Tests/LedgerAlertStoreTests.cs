using System.Text.Json;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Records;
using Stakeout.Ledger.Storage;

namespace Stakeout.Cluster.Tests;

/// <summary>The ledger writer's store: alerts into the signed threat ledger, each alert id once, across reopens and crashes.</summary>
public sealed class LedgerAlertStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "stakeout-ledgerstore-" + Guid.NewGuid().ToString("N"));
    private readonly Ed25519.InMemorySigner _signer = new();

    public void Dispose()
    {
        _signer.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task AppendIfNew_SameIdTwice_OneSignedRecordThatVerifies()
    {
        using var store = await OpenAsync();

        Assert.True(store.AppendIfNew("dmz-1.0", Alert(1)));
        Assert.False(store.AppendIfNew("dmz-1.0", Alert(1)));
        Assert.True(store.AppendIfNew("dmz-1.1", Alert(2)));
        await store.FlushAsync(CancellationToken.None);

        var report = await VerifyAsync(store.Log);
        Assert.Null(report.Failure);
        Assert.Equal(2, report.RecordsVerified);
        Assert.Equal([(0L, "dmz-1.0"), (1L, "dmz-1.1")], LedgerAlertStore.ReadIndex(store.IndexPath));
    }

    [Fact]
    public async Task Reopen_AfterFlush_StillSkipsHeldIdsAndContinuesTheLog()
    {
        await CommitTwoAlertsAsync();

        using var reopened = await OpenAsync();
        Assert.Equal(0, reopened.IndexLinesCut);
        Assert.True(reopened.Contains("a.1"));
        Assert.False(reopened.AppendIfNew("a.0", Alert(1)));
        Assert.True(reopened.AppendIfNew("a.2", Alert(3)));
        await reopened.FlushAsync(CancellationToken.None);

        var report = await VerifyAsync(reopened.Log);
        Assert.Null(report.Failure);
        Assert.Equal(3, report.RecordsVerified);
        Assert.Equal(2, report.CheckpointsVerified);
    }

    [Fact]
    public async Task Reopen_AfterCrashBeforeCheckpoint_CutsTheUncommittedIdsSoTheirRedeliveryIsAppended()
    {
        // The crash: index lines fsynced (as FlushAsync does first), then the process dies before the checkpoint.
        using (var store = await OpenAsync())
        {
            store.AppendIfNew("a.0", Alert(1));
            await store.FlushAsync(CancellationToken.None);
            store.AppendIfNew("a.1", Alert(2));
            store.AppendIfNew("a.2", Alert(3));
        }

        File.AppendAllText(Path.Combine(_dir, LedgerAlertStore.IndexFile), "3\ta.3"); // and a torn last line

        using var reopened = await OpenAsync();
        Assert.Equal(3, reopened.IndexLinesCut);
        Assert.Equal(1, reopened.Log.DurableSize);
        Assert.True(reopened.AppendIfNew("a.1", Alert(2)));
        Assert.True(reopened.AppendIfNew("a.2", Alert(3)));
        await reopened.FlushAsync(CancellationToken.None);

        Assert.Equal([(0L, "a.0"), (1L, "a.1"), (2L, "a.2")], LedgerAlertStore.ReadIndex(reopened.IndexPath));
        Assert.Null((await VerifyAsync(reopened.Log)).Failure);
    }

    [Fact]
    public async Task Open_IndexShorterThanTheLog_NamesTheIndexAndBothCounts()
    {
        await CommitTwoAlertsAsync();

        File.WriteAllText(Path.Combine(_dir, LedgerAlertStore.IndexFile), "0\ta.0\n");

        var e = await Assert.ThrowsAsync<InvalidDataException>(OpenAsync);
        Assert.Contains(LedgerAlertStore.IndexFile, e.Message, StringComparison.Ordinal);
        Assert.Contains("names 1 alert id(s) but the ledger holds 2", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0\ta.0\n0\ta.1\n", ":2: field INDEX is 0, expected 1")]
    [InlineData("0\ta.0\n1\ta.0\n", ":2: field ALERT_ID 'a.0' appears a second time")]
    [InlineData("0\ta.0\nzz\n", ":2: not an index line")]
    public async Task Open_DamagedIndex_NamesTheLineAndField(string index, string message)
    {
        await CommitTwoAlertsAsync();

        File.WriteAllText(Path.Combine(_dir, LedgerAlertStore.IndexFile), index);

        var e = await Assert.ThrowsAsync<InvalidDataException>(OpenAsync);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppendIfNew_NotAnAlert_RejectedWithoutAppendingOrHoldingTheId()
    {
        using var store = await OpenAsync();

        var e = Assert.Throws<InvalidDataException>(() => store.AppendIfNew("a.0", """{"event_type":"alert"}"""u8));
        Assert.Contains("alert a.0: alert stream:1: field 'alert' is missing", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => store.AppendIfNew("a.1", [0xC3, 0x28]));

        Assert.Equal(2, store.Rejected);
        Assert.Equal(0, store.Count);
        Assert.False(store.Contains("a.0"));
        Assert.True(store.AppendIfNew("a.0", Alert(1)));
    }

    [Fact]
    public async Task Records_AreTheStixRecordsOfTheAlerts()
    {
        var builder = new StixRecordBuilder("cluster");
        using var store = await OpenAsync(builder);
        store.AppendIfNew("a.0", Alert(7));
        await store.FlushAsync(CancellationToken.None);

        var records = new List<byte[]>();
        var head = (await new FileHeadPointer(_dir).ResolveAsync(CancellationToken.None))!.Value;
        var report = await LedgerVerifier.VerifyAsync(new DirectoryBlockStore(_dir), head, new VerifyOptions { TrustedKey = _signer.PublicKey, OnRecord = (_, r) => records.Add(r) }, CancellationToken.None);

        Assert.Null(report.Failure);
        Assert.True(EveObservationReader.TryRead(Alert(7), "t", 1, out var observation));
        Assert.Equal(builder.Serialize(observation!), Assert.Single(records));
    }

    /// <summary>A ledger holding alerts a.0 and a.1 under one checkpoint, closed again.</summary>
    private async Task CommitTwoAlertsAsync()
    {
        using var store = await OpenAsync();
        Assert.True(store.AppendIfNew("a.0", Alert(1)));
        Assert.True(store.AppendIfNew("a.1", Alert(2)));
        await store.FlushAsync(CancellationToken.None);
    }

    private async Task<LedgerAlertStore> OpenAsync() => await OpenAsync(new StixRecordBuilder("cluster"));

    private async Task<LedgerAlertStore> OpenAsync(StixRecordBuilder builder)
    {
        Directory.CreateDirectory(_dir);
        var log = await LedgerLog.OpenAsync(new DirectoryBlockStore(_dir), new FileHeadPointer(_dir), _signer, new LedgerLogOptions { Sensor = "cluster" }, TimeProvider.System, CancellationToken.None);
        return LedgerAlertStore.Open(_dir, log, builder.Serialize);
    }

    private async Task<VerificationReport> VerifyAsync(LedgerLog log) =>
        await LedgerVerifier.VerifyAsync(new DirectoryBlockStore(_dir), log.HeadCid!.Value, new VerifyOptions { TrustedKey = _signer.PublicKey, CheckInclusionProofs = true }, CancellationToken.None);

    /// <summary>An EVE alert as workers publish it (the shape `EveWriter` writes), distinct by flow id.</summary>
    private static byte[] Alert(long flowId)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("timestamp", "2017-07-07T15:30:00.000000+0000");
            w.WriteNumber("flow_id", flowId);
            w.WriteString("event_type", "alert");
            w.WriteString("src_ip", "172.16.0.1");
            w.WriteNumber("src_port", 40000 + flowId);
            w.WriteString("dest_ip", "192.168.10.50");
            w.WriteNumber("dest_port", 80);
            w.WriteString("proto", "TCP");
            w.WriteString("first_seen", "2017-07-07T15:30:00.000000+0000");
            w.WriteString("last_seen", "2017-07-07T15:30:00.000000+0000");
            w.WriteStartObject("alert");
            w.WriteString("signature", "DDoS");
            w.WriteString("category", "Denial of Service");
            w.WriteNumber("severity", 1);
            w.WriteNumber("score", 0.99);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
