using System.Text;
using Stakeout.Core;
using Stakeout.Ingest;
using Stakeout.Models;

namespace Stakeout.Evaluation.Tests;

public sealed class ModelEvaluatorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-eval-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// A stand-in model on one feature: Flow Duration below 100 is benign, below 10,000 DoS Hulk, else PortScan.
    /// The real scorers are tested in Stakeout.Models; this one lets the streaming and accounting be checked exactly.
    /// </summary>
    private sealed class DurationScorer : IFlowScorer
    {
        public ModelManifest Manifest { get; } = new()
        {
            ModelKind = "test-rule",
            LabelLevel = "class",
            Classes = [LabelTaxonomy.Benign, "DoS Hulk", "PortScan"],
            Features = [new ManifestFeature(FeatureSchema.FlowDuration, "Flow Duration")],
            Threshold = 0.5,
        };

        public IReadOnlyList<string> Classes => Manifest.Classes;

        public int BenignClassIndex => 0;

        public long RowsScored;

        public void Score(ReadOnlySpan<float> features, Span<float> probabilities)
        {
            int rows = features.Length / FeatureSchema.Count;
            for (int r = 0; r < rows; r++)
            {
                float d = features[(r * FeatureSchema.Count) + FeatureSchema.FlowDuration];
                int k = d < 100 ? 0 : d < 10_000 ? 1 : 2;
                var p = probabilities.Slice(r * 3, 3);
                p.Fill(0.05f);
                p[k] = 0.9f;
            }

            Interlocked.Add(ref RowsScored, rows);
        }

        public void Explain(ReadOnlySpan<float> row, int classIndex, Span<double> contributions) => contributions.Clear();
    }

    private string Write(string name, string header, IEnumerable<string> lines)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, header + "\n" + string.Join("\n", lines) + "\n", Encoding.UTF8);
        return path;
    }

    private static IEnumerable<string> Rows(int count, int duration, string label) =>
        Enumerable.Range(0, count).Select(i => $"80,{duration + (i % 7)},3,{label}");

    [Fact]
    public void Evaluate_TwoFiles_ScoresEveryRowAndCountsThem()
    {
        string a = Write("a.csv", "Destination Port,Flow Duration,Total Fwd Packets,Label", [.. Rows(300, 10, "BENIGN"), .. Rows(200, 500, "DoS Hulk")]);
        string b = Write("b.csv", "Destination Port,Flow Duration,Total Fwd Packets,Label", [.. Rows(100, 50_000, "PortScan"), .. Rows(10, 500, "BENIGN")]);
        var scorer = new DurationScorer();

        var report = new ModelEvaluator(scorer, "feed").Evaluate([a, b]);

        Assert.Equal(610, report.Rows);
        Assert.Equal(610, scorer.RowsScored);
        Assert.Equal(LabelLevel.Class, report.Level);
        Assert.Equal(600.0 / 610, report.Accuracy, 12);
        Assert.Equal(10.0 / 310, report.BenignFpr!.Value, 12);
        Assert.Equal(1.0, report.AttackRecall!.Value, 12);
        Assert.Equal(2, report.Files.Count);
        Assert.True(report.Reading!.Balanced);
        Assert.Equal(610, report.Reading.RowsRead);
    }

    [Fact]
    public void Evaluate_DuplicateRows_KeptByDefaultAndDroppedWithDedupe()
    {
        string path = Write("dup.csv", "Flow Duration,Total Fwd Packets,Label", Enumerable.Repeat("10,3,BENIGN", 50).Append("20000,3,PortScan"));

        var all = new ModelEvaluator(new DurationScorer(), null).Evaluate([path]);
        var deduped = new ModelEvaluator(new DurationScorer(), null, new EvaluationOptions { Dedupe = true }).Evaluate([path]);

        Assert.Equal(51, all.Rows);
        Assert.Equal(2, deduped.Rows);
        Assert.Equal(49, deduped.Reading!.RowsDropped);
        Assert.True(deduped.Reading.Balanced);
    }

    [Fact]
    public void Evaluate_FileWithoutAModelFeature_FailsNamingFileAndFeature()
    {
        string path = Write("nofeature.csv", "Destination Port,Total Fwd Packets,Label", ["80,3,BENIGN"]);

        var ex = Assert.Throws<FlowDataException>(() => new ModelEvaluator(new DurationScorer(), null).Evaluate([path]));

        Assert.Contains("nofeature.csv", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Flow Duration", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_UnlabelledFile_FailsNamingTheFile()
    {
        string path = Write("nolabel.csv", "Flow Duration,Total Fwd Packets", ["10,3"]);

        var ex = Assert.Throws<FlowDataException>(() => new ModelEvaluator(new DurationScorer(), null).Evaluate([path]));

        Assert.Contains("nolabel.csv", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Label", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_FamilyLabelledData_ComparesFamilies()
    {
        string path = Write("fam.csv", "Destination Port,Flow Duration,Total Fwd Packets,Label", [.. Rows(5, 500, "DoS"), .. Rows(5, 10, "BENIGN"), .. Rows(3, 50_000, "PortScan")]);

        var report = new ModelEvaluator(new DurationScorer(), null).Evaluate([path]);

        Assert.Equal(LabelLevel.Family, report.Level);
        Assert.Equal(LabelLevel.Family, report.DataLevel);
        Assert.Equal(LabelLevel.Class, report.ModelLevel);
        Assert.Equal(1.0, report.MacroF1, 12);
        Assert.Equal(["BENIGN", "DoS", "PortScan"], report.Confusion.Labels);
    }

    [Fact]
    public void Evaluate_ThresholdOverride_IsUsedAndReported()
    {
        string path = Write("t.csv", "Destination Port,Flow Duration,Total Fwd Packets,Label", Rows(4, 500, "DoS Hulk"));

        // Attack score of every row is 1 - .05 = .95: a threshold of .96 turns all of them into misses.
        var report = new ModelEvaluator(new DurationScorer(), null, new EvaluationOptions { Threshold = 0.96 }).Evaluate([path]);

        Assert.Equal(0.96, report.Threshold);
        Assert.Equal(0.0, report.AttackRecall!.Value);
    }

    [Fact]
    public void Evaluate_ManyRowsInSeveralBatches_MatchesPerRowCounts()
    {
        var lines = Enumerable.Range(0, 30_000).Select(i => i % 3 == 0 ? $"{10 + (i % 50)},2,BENIGN" : $"{500 + i},2,DoS Hulk");
        string path = Write("big.csv", "Flow Duration,Total Fwd Packets,Label", lines);

        var report = new ModelEvaluator(new DurationScorer(), null, new EvaluationOptions { ScoringThreads = 2 }).Evaluate(
            new FlowCsvReader(new FlowReaderOptions { ChunkBytes = 64 * 1024, RequireLabel = true }).Open([path]));

        Assert.Equal(30_000, report.Rows);
        Assert.Equal(10_000, report.PerClass["BENIGN"].Support);
        // DoS rows with duration >= 10,000 (i >= 9,500) are predicted PortScan.
        long dosRight = Enumerable.Range(0, 30_000).Count(i => i % 3 != 0 && 500 + i < 10_000);
        Assert.Equal(dosRight, report.Confusion.Matrix[1][1]);
    }

    [Fact]
    public void Options_InvalidThreshold_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ModelEvaluator(new DurationScorer(), null, new EvaluationOptions { Threshold = 2 }));
        Assert.Contains("Threshold", ex.Message, StringComparison.Ordinal);
    }
}
