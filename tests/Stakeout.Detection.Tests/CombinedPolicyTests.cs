using Stakeout.Models.Anomaly;

namespace Stakeout.Detection.Tests;

/// <summary>
/// The combined policy on fixtures with known answers: <see cref="RuleScorer"/> names the class from Total Fwd Packets,
/// and a one-feature anomaly model on the same feature finds 50 packets (t = ln 51 ≈ 3.9, bin 3) and anything beyond
/// e^8 − 1 ≈ 2,980 packets unusual.
/// </summary>
public sealed class CombinedPolicyTests
{
    private static AnomalyScorer Anomaly() => AnomalyScorer.Compile(
        new HistogramAnomalyModel
        {
            Bins = 8,
            Features = [RuleScorer.Feature],
            Lower = [0],
            Width = [1],
            Scores = [[0, 0, 0, 20, 0, 0, 0, 0]],
            Outside = [20],
            Threshold = 10,
            ThresholdSource = "test",
            BenignRows = 1000,
        },
        "test");

    private static async Task<List<Alert>> Run(DetectionOptions options, bool withAnomaly, params float[] fwdPackets)
    {
        var sink = new CollectingSink();
        var handle = ModelHandle.Create(new RuleScorer(), options, "m", null, withAnomaly ? Anomaly() : null);
        var pipeline = new DetectionPipeline(new ModelHolder(handle), options, [sink], closeAggregatesOnClock: false);
        var rows = fwdPackets.Select((v, i) => Csv.Row(i, v)).Prepend(Csv.Header()).ToArray();
        await pipeline.RunAsync([PiecesSource.FromText("fixture", Csv.Lines(rows))]);
        Pipelines.AssertBalanced(pipeline);
        return [.. sink.Alerts.OrderBy(a => a.Line)];
    }

    [Theory]
    [InlineData(false, false, null)]
    [InlineData(true, false, AlertReason.Classifier)]
    [InlineData(false, true, AlertReason.Anomaly)]
    [InlineData(true, true, AlertReason.Both)]
    public void Decide_ClassifierAndAnomalyVerdicts_Reason(bool classifier, bool anomaly, AlertReason? expected)
    {
        Assert.Equal(expected, AlertPolicy.Decide(classifier, anomaly));
    }

    [Fact]
    public async Task RunAsync_FourKnownFlows_EachAlertCarriesClassProbabilityAnomalyScoreAndReason()
    {
        // 5 packets: benign and usual (no alert); 50: called BENIGN but unusual (anomaly); 150: DDoS, usual (classifier);
        // 5000: PortScan and far outside (both).
        var alerts = await Run(Pipelines.Options(), withAnomaly: true, 5, 50, 150, 5000);

        Assert.Equal([AlertReason.Anomaly, AlertReason.Classifier, AlertReason.Both], alerts.Select(a => a.Reason));
        var anomaly = alerts[0];
        Assert.Equal("Anomaly", anomaly.Signature);
        Assert.Equal("Anomaly", anomaly.Category);
        Assert.Equal("BENIGN", anomaly.Class);
        Assert.Equal(0.99, anomaly.ClassProbability!.Value, 5);
        Assert.Equal(20, anomaly.AnomalyScore!.Value, 5);
        Assert.Equal("Total Fwd Packets", Assert.Single(anomaly.Unusual).Feature);
        Assert.Equal("Total Fwd Packets", anomaly.Explanation[0].Feature);

        var classifier = alerts[1];
        Assert.Equal("DDoS", classifier.Signature);
        Assert.Equal("DDoS", classifier.Class);
        Assert.Equal(0.95, classifier.ClassProbability!.Value, 5);
        Assert.Equal(0, classifier.AnomalyScore!.Value, 5);
        Assert.Empty(classifier.Unusual);

        var both = alerts[2];
        Assert.Equal("PortScan", both.Signature);
        Assert.Equal(20 + Math.Log(1 + (Math.Log(5001) - 8)), both.AnomalyScore!.Value, 3);
        Assert.Equal("Total Fwd Packets", Assert.Single(both.Unusual).Feature);

        foreach (var a in alerts)
        {
            var json = AlertSchema.AssertValid(EveWriter.ToJson(a));
            Assert.Equal(AlertReasons.Name(a.Reason), (string?)json["alert"]!["reason"]);
            Assert.Equal(a.Class, (string?)json["alert"]!["class"]);
            Assert.NotNull(json["anomaly"]!["score"]);
        }
    }

    [Fact]
    public async Task RunAsync_AnomalyAlertsOff_OnlyTheClassifierAlerts()
    {
        var alerts = await Run(Pipelines.Options(o => o with { AnomalyAlerts = false }), withAnomaly: true, 5, 50, 150, 5000);

        Assert.Equal(["DDoS", "PortScan"], alerts.Select(a => a.Signature));
        Assert.All(alerts, a => Assert.Equal(AlertReason.Classifier, a.Reason));
    }

    [Fact]
    public async Task RunAsync_AnomalyThresholdOverride_Applies()
    {
        var alerts = await Run(Pipelines.Options(o => o with { AnomalyThreshold = 25 }), withAnomaly: true, 50, 5000);

        // 20 is now under the threshold; 5000 packets score 20 + ln(1.52) ≈ 20.4, under it too: both stay classifier-only.
        Assert.Equal([AlertReason.Classifier], alerts.Select(a => a.Reason));
    }

    [Fact]
    public async Task RunAsync_ModelWithoutAnomaly_ClassifierAlertsWithoutAnomalyFields()
    {
        var alerts = await Run(Pipelines.Options(), withAnomaly: false, 5, 50, 150);

        var alert = Assert.Single(alerts);
        Assert.Equal(AlertReason.Classifier, alert.Reason);
        Assert.Null(alert.AnomalyScore);
        var json = AlertSchema.AssertValid(EveWriter.ToJson(alert));
        Assert.Null(json["anomaly"]);
        Assert.Equal("classifier", (string?)json["alert"]!["reason"]);
    }
}
