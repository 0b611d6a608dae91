using Microsoft.Extensions.Time.Testing;
using Stakeout.Detection;

namespace Stakeout.Dashboard.Tests;

public sealed class AlertConversionTests
{
    [Fact]
    public void FromEveLine_WhatEveWriterWrites_SameFieldsAsFromTheAlert()
    {
        var alert = Fixtures.DetectionAlert();
        var live = AlertConversion.FromAlert(alert);

        var stored = AlertConversion.FromEveLine(EveWriter.ToJson(alert), "alerts.json", 1)!;

        Assert.Equal(live.SourceIp, stored.SourceIp);
        Assert.Equal("172.16.0.1", stored.SourceIp);
        Assert.Equal(live.DestinationPort, stored.DestinationPort);
        Assert.Equal(live.Protocol, stored.Protocol);
        Assert.Equal(live.Signature, stored.Signature);
        Assert.Equal(live.Severity, stored.Severity);
        Assert.Equal(live.Count, stored.Count);
        Assert.Equal(live.FirstSeen, stored.FirstSeen);
        Assert.Equal(live.Stream, stored.Stream);
        Assert.Equal(live.Line, stored.Line);
        Assert.Equal(live.SourceFlowId, stored.SourceFlowId);
        Assert.Equal(live.FlowId, stored.FlowId);
        Assert.Equal(live.Timestamp, stored.Timestamp);
        Assert.Equal(["Flow Duration", "Flow Bytes/s"], stored.Explanation.Select(c => c.Feature));
        Assert.Equal("Infinity", stored.Explanation[1].Value);
        Assert.Equal("Infinity", live.Explanation[1].Value);
    }

    [Theory]
    [InlineData("{not json", "not a JSON object")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("{\"timestamp\":\"2026-12-03T09:00:00.000000+0000\"}", "'event_type' is missing")]
    [InlineData("{\"event_type\":\"alert\",\"timestamp\":\"2026-12-03T09:00:00.000000+0000\"}", "field 'alert'")]
    [InlineData("{\"event_type\":\"alert\",\"timestamp\":\"yesterday\",\"alert\":{\"signature\":\"x\"}}", "field 'timestamp' is not a time")]
    public void FromEveLine_Malformed_ErrorNamesFileLineAndField(string line, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => AlertConversion.FromEveLine(line, "run/alerts.json", 7));
        Assert.Contains("run/alerts.json line 7", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEveLine_OtherEventType_Null() =>
        Assert.Null(AlertConversion.FromEveLine("{\"event_type\":\"stats\",\"timestamp\":\"2026-12-03T09:00:00.000000+0000\"}", "f", 1));
}

public sealed class StoredRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-dash-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_RotatedFilesAndSummary_EveryAlertCountedOldestFileFirst()
    {
        var a = Fixtures.DetectionAlert();
        File.WriteAllLines(Path.Combine(_dir, "alerts.json.2"), [EveWriter.ToJson(a with { Signature = "first" })]);
        File.WriteAllLines(Path.Combine(_dir, "alerts.json.1"), [EveWriter.ToJson(a), "", EveWriter.ToJson(a)]);
        File.WriteAllLines(Path.Combine(_dir, "alerts.json"), [EveWriter.ToJson(a with { Signature = "last", Count = 1 })]);
        File.WriteAllText(Path.Combine(_dir, "summary.json"), """{"model":"/nowhere/model.stakeout","classes":["BENIGN","DDoS"],"flows_in":100,"flows_scored":98,"flows_rejected":1,"flows_dropped":1,"alert_flows":8,"alerts_emitted":4}""");

        var (state, report) = StoredRun.Load(_dir, new DashboardLimits(), new FakeTimeProvider(Fixtures.T0));

        Assert.Equal(4, report.Alerts);
        Assert.Equal(1, report.BlankLines);
        Assert.Equal("/nowhere/model.stakeout", report.ModelPath);
        Assert.Equal(["alerts.json.2", "alerts.json.1", "alerts.json"], report.Files.Select(Path.GetFileName));
        Assert.Equal("first", state.Find(1)!.Signature);
        Assert.Equal("last", state.Find(4)!.Signature);
        var stats = state.Stats();
        Assert.Equal(3 + 3 + 3 + 1, stats.AlertFlowsSeen);
        Assert.Equal(100, stats.Totals!.FlowsIn);
        Assert.Equal("stored", stats.Mode);
        Assert.Contains("DDoS", stats.Colors.Keys);
    }

    [Fact]
    public void Load_BadLine_ErrorNamesTheFileAndLine()
    {
        File.WriteAllLines(Path.Combine(_dir, "alerts.json"), [EveWriter.ToJson(Fixtures.DetectionAlert()), "{oops"]);

        var ex = Assert.Throws<InvalidDataException>(() => StoredRun.Load(_dir, new DashboardLimits(), TimeProvider.System));

        Assert.Contains("alerts.json line 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NoAlertsFile_SaysWhatToGive()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => StoredRun.Load(_dir, new DashboardLimits(), TimeProvider.System));
        Assert.Contains("-o directory of a detect or monitor run", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RunSpanningDays_BucketsWidenToFitTheWindow()
    {
        var a = Fixtures.DetectionAlert();
        File.WriteAllLines(Path.Combine(_dir, "alerts.json"),
        [
            EveWriter.ToJson(a with { FirstSeen = new DateTime(2017, 7, 3, 9, 0, 0) }),
            EveWriter.ToJson(a with { FirstSeen = new DateTime(2017, 7, 7, 17, 0, 0) }),
        ]);

        var (state, _) = StoredRun.Load(_dir, new DashboardLimits { Buckets = 100 }, TimeProvider.System);

        var view = state.Stats().AlertsOverTime;
        Assert.True(view.BucketMs * 100 >= TimeSpan.FromHours(104).TotalMilliseconds);
        Assert.Equal(2 * a.Count, view.Counts[0].Sum());
    }
}

public sealed class ModelCardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-dash-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FromArtifact_TinyModel_ManifestAndDigest()
    {
        string path = Path.Combine(_dir, "m.stakeout");
        var saved = Stakeout.Testing.TinyModel.Save(path);

        var card = ModelCards.FromArtifact(path);

        Assert.Equal(saved.Sha256 ?? Models.ModelArtifact.Load(path).Sha256, card.Sha256);
        Assert.Equal(["BENIGN", "DDoS", "PortScan"], card.Manifest.Classes);
        Assert.False(card.IsSigned);
    }
}
