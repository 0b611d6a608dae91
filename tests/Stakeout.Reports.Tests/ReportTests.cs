using System.Globalization;
using System.Text;
using Stakeout.Core;
using Stakeout.Detection;
using Stakeout.Evaluation;
using Stakeout.Ingest;
using Stakeout.Models;

namespace Stakeout.Reports.Tests;

public sealed class ReportTests : IDisposable
{
    private const string Markup = "<img src=x onerror=alert(1)>";

    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-reports-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DataReport_FixtureWithMarkupLabelAndInfinity_WritesValidSelfContainedReport()
    {
        string csv = Path.Combine(_dir, "flows.csv");
        var random = new Random(7);
        var sb = new StringBuilder("Flow Duration,Total Fwd Packets,Total Backward Packets,Flow Bytes/s,Init_Win_bytes_forward,Label\n");
        string[] labels = ["BENIGN", "DoS Hulk", "DoS slowloris", "PortScan", Markup];
        for (int i = 0; i < 300; i++)
        {
            string label = labels[i % labels.Length];
            double scale = 1 + (i % labels.Length * 100);
            string bytesPerSecond = i % 37 == 0 ? "Infinity" : (random.NextDouble() * 1e7 * scale).ToString("0.##", CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"{(int)(random.NextDouble() * 1e6 * scale)},{random.Next(1, 50)},{random.Next(0, 40)},{bytesPerSecond},{random.Next(-1, 65535)},{label}\n");
        }

        sb.Append("12,not-a-number,3,4,5,BENIGN\n");
        File.WriteAllText(csv, sb.ToString());
        var read = new FlowCsvReader(new FlowReaderOptions()).Open([csv]);
        var profile = new FeatureProfile();
        var sample = new DataSample(perGroup: 50);
        foreach (var batch in read.ReadBatches())
        {
            profile.Add(batch);
            sample.Add(batch, read.Labels);
        }

        var files = DataReport.Write(new DataReportInput(read.Report, profile.Results(), sample), Path.Combine(_dir, "report"));

        // accounting, classes, non-finite, 5 drawable default features (the others are absent), correlation
        string html = ReportAssert.Valid(files, "data-report.html", 8);
        Assert.DoesNotContain(Markup, html, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html, StringComparison.Ordinal);
        Assert.Contains("Flow Bytes/s", html, StringComparison.Ordinal);
        Assert.Contains("rows rejected", html, StringComparison.Ordinal);
        Assert.Contains(files, f => f.EndsWith("data-report-feature-flow-duration.png", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("data-report-non-finite.svg", StringComparison.Ordinal));
        Assert.Equal(50, sample.Rows("DoS").Count); // Hulk and slowloris share the DoS group, capped
        Assert.Equal(120, sample.Seen("DoS"));
    }

    [Fact]
    public void DataReportOptions_ParseFeatures_AllDefaultAndNames()
    {
        Assert.Null(DataReportOptions.ParseFeatures(null));
        Assert.Equal(78, DataReportOptions.ParseFeatures("all")!.Count);
        Assert.Equal([FeatureSchema.FlowDuration, 14], DataReportOptions.ParseFeatures("flow duration, Flow Byts/s"));
        var ex = Assert.Throws<ArgumentException>(() => DataReportOptions.ParseFeatures("Flow Duration,Nope"));
        Assert.Contains("'Nope'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DataReport_HeavyTailRule_LogForRatesLinearForWindows()
    {
        Assert.True(DataReport.IsHeavyTailed([1, 2, 3, 5, 8, 10, 20, 1e7]));
        Assert.False(DataReport.IsHeavyTailed([8192, 29200, 65535, 255, 8192, 29200]));
    }

    [Fact]
    public void ModelReport_MetricsCurvesAndManifestWithMarkupClass_WritesEveryPlot()
    {
        string[] classes = [LabelTaxonomy.Benign, "DoS Hulk", "PortScan", Markup];
        var accumulator = new EvaluationAccumulator(classes, LabelLevel.Class, 0, threshold: 0.5);
        var random = new Random(11);
        for (int i = 0; i < 400; i++)
        {
            int truth = i % classes.Length;
            var p = new float[classes.Length];
            for (int k = 0; k < p.Length; k++)
            {
                p[k] = (float)random.NextDouble() + (k == truth ? 1.5f : 0);
            }

            float sum = p.Sum();
            accumulator.Add(classes[truth], [.. p.Select(v => v / sum)]);
        }

        var manifest = new ModelManifest
        {
            StakeoutVersion = "0.1.0-test",
            CreatedUtc = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero),
            ModelKind = "lightgbm",
            Features = [new ManifestFeature(1, "Flow Duration")],
            Classes = classes,
            Hyperparameters = new Dictionary<string, string> { ["leaves"] = "31", ["note"] = "<b>bold</b>" },
            FeatureImportance = new Dictionary<string, double> { ["Flow Duration"] = 0.7, ["Flow Bytes/s"] = 0.3 },
            Training = new ManifestTrainingData { Files = [new ManifestDataFile("train.csv", 400, new string('a', 64))], TrainRows = 280, TestRows = 120, Seed = 1 },
            Lineage = [new ManifestLineage(new string('b', 64), new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), "fine-tuned on site.csv")],
        };

        var files = ModelReport.Write(new ModelReportInput("Evaluation report", "fixture rows", accumulator.Compute(), accumulator.ComputeCurves(), manifest, new string('c', 64)), _dir);

        string html = ReportAssert.Valid(files, "model-report.html", 7);
        foreach (string plot in new[] { "confusion-counts", "confusion-normalised", "per-class", "pr-curves", "roc-curves", "threshold", "importance-gain" })
        {
            Assert.Contains(files, f => f.EndsWith($"model-report-{plot}.png", StringComparison.Ordinal));
        }

        Assert.DoesNotContain(Markup, html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>bold</b>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;bold&lt;/b&gt;", html, StringComparison.Ordinal);
        Assert.Contains("fine-tuned on site.csv", html, StringComparison.Ordinal);
        Assert.Contains(new string('a', 64), html, StringComparison.Ordinal); // the data fingerprint
    }

    [Fact]
    public void ModelReport_NoRowsScored_WritesTheCardWithoutPlots()
    {
        var accumulator = new EvaluationAccumulator([LabelTaxonomy.Benign, "DoS"], LabelLevel.Family, 0, 0.5);
        var manifest = new ModelManifest { ModelKind = "lightgbm", Classes = [LabelTaxonomy.Benign, "DoS"] };

        var files = ModelReport.Write(new ModelReportInput("Training report", "empty split", accumulator.Compute(), null, manifest, null), _dir);

        Assert.Single(files);
        string html = File.ReadAllText(files[0]);
        ReportAssert.SelfContained(html);
        Assert.Contains("No row was scored", html, StringComparison.Ordinal);
    }

    [Fact]
    public void DetectionReport_AlertsAndSummary_WritesPlotsAndEscapedExamples()
    {
        string alerts = Path.Combine(_dir, "alerts.json");
        var lines = new List<string>();
        for (int i = 0; i < 30; i++)
        {
            string signature = i % 3 == 0 ? Markup.Replace("\"", "", StringComparison.Ordinal) : i % 3 == 1 ? "DDoS" : "PortScan";
            lines.Add($$$"""{"timestamp":"2026-12-01T08:00:00.000000+0000","flow_id":{{{i}}},"event_type":"alert","src_ip":"172.16.0.{{{i % 4}}}","src_port":{{{40000 + i}}},"dest_ip":"192.168.10.50","dest_port":80,"proto":"TCP","alert":{"signature":"{{{signature}}}","category":"DDoS","severity":1,"score":{{{0.5 + (i / 100.0)}}}},"explanation":[{"feature":"Flow Duration","value":12,"contribution":1.5},{"feature":"Flow Bytes/s","value":"Infinity","contribution":-0.25}],"count":{{{1 + (i % 5)}}},"first_seen":"2017-07-07T15:{{{10 + i}}}:00.000000","last_seen":"2017-07-07T15:{{{10 + i}}}:30.000000","stakeout":{"stream":"day.csv","line":{{{i + 2}}},"flow_start":"2017-07-07T15:{{{10 + i}}}:00.000000"}}""");
        }

        File.WriteAllLines(alerts, lines);
        var counts = new long[AttackScoreHistogram.Bins];
        counts[0] = 900;
        counts[3] = 40;
        counts[99] = 60;
        var summary = new DetectionSummary
        {
            Model = "model.stakeout",
            Classes = [LabelTaxonomy.Benign, "DDoS", "PortScan"],
            Thresholds = new Dictionary<string, double> { ["DDoS"] = 0.5, ["PortScan"] = 0.5 },
            FlowsIn = 1000,
            FlowsScored = 1000,
            Balanced = true,
            RejectedByReason = new Dictionary<string, long>(),
            DroppedByReason = new Dictionary<string, long>(),
            AlertFlows = 90,
            AlertsEmitted = 30,
            AlertsByClass = [new NamedCount("DDoS", 40), new NamedCount("PortScan", 30), new NamedCount(Markup, 20)],
            TopSources = [new NamedCount("172.16.0.1", 50), new NamedCount("172.16.0.2", 40)],
            TopTargets = [new NamedCount("192.168.10.50:80", 90)],
            DataHasAddresses = true,
            Sinks = [],
            AttackScores = new AttackScoreCounts(counts, 0),
        };

        var files = DetectionReport.Write(summary, alerts, _dir);

        string html = ReportAssert.Valid(files, "detection-report.html", 5);
        foreach (string plot in new[] { "by-class", "over-time", "top-sources", "top-targets", "scores" })
        {
            Assert.Contains(files, f => f.EndsWith($"detection-report-{plot}.png", StringComparison.Ordinal));
        }

        Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
        Assert.Contains("Flow Duration", html, StringComparison.Ordinal);
        Assert.Contains("+1.5000", html, StringComparison.Ordinal);
        Assert.Contains("172.16.0.", html, StringComparison.Ordinal);
    }

    [Fact]
    public void DetectionReport_BrokenAlertLine_NamesFileAndLine()
    {
        string alerts = Path.Combine(_dir, "alerts.json");
        File.WriteAllText(alerts, "{\"event_type\":\"alert\"\n");
        var summary = new DetectionSummary
        {
            Model = "m",
            Classes = [],
            Thresholds = new Dictionary<string, double>(),
            RejectedByReason = new Dictionary<string, long>(),
            DroppedByReason = new Dictionary<string, long>(),
            AlertsByClass = [],
            TopSources = [],
            TopTargets = [],
            Sinks = [],
        };

        var ex = Assert.Throws<InvalidDataException>(() => DetectionReport.Write(summary, alerts, _dir));
        Assert.Contains("alerts.json:1", ex.Message, StringComparison.Ordinal);
    }
}
