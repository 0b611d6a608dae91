using System.Text.Json;
using Stakeout.Core;
using Stakeout.Models;

namespace Stakeout.Training.Tests;

public sealed class TrainingRunTests : IDisposable
{
    private readonly Fixtures _fixtures = new();

    public void Dispose() => _fixtures.Dispose();

    private sealed class ListLog : ITrainingLog
    {
        public List<string> Lines { get; } = [];

        public void Info(string message) => Lines.Add(message);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public void Execute_LightGbm_ManifestComplete()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 60), ("DDoS", 40), ("PortScan", 30)], seed: 1);
        var when = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var log = new ListLog();

        var result = new TrainingRun(log, new FixedTime(when)).Execute(new TrainOptions
        {
            Paths = [a],
            LightGbm = new LightGbmSettings { Iterations = 10, Leaves = 8, MinDataInLeaf = 3 },
            Seed = 5,
        });
        var m = result.Artifact.Manifest;

        Assert.Equal("lightgbm", m.ModelKind);
        Assert.Equal(when, m.CreatedUtc);
        Assert.Equal(["BENIGN", "DDoS", "PortScan"], m.Classes);
        Assert.Equal("class", m.LabelLevel);
        Assert.Equal("nan-zero-inf-max", m.NonFinite);
        Assert.Equal(0.5, m.Threshold);
        Assert.DoesNotContain(m.Features, f => f.Index == FeatureSchema.DestinationPort);
        Assert.Equal(a, m.Training.Files.Single().Path);
        Assert.Equal(64, m.Training.Files.Single().Sha256.Length);
        Assert.Equal(130, m.Training.RowsRead);
        Assert.Equal(m.Training.TrainRows + m.Training.TestRows + m.Training.DuplicatesRemoved, m.Training.RowsRead);
        Assert.Equal(5, m.Training.Seed);
        Assert.Equal(m.Training.TrainRows, m.Training.ClassCounts.Values.Sum());
        Assert.True(m.Metrics.ContainsKey("macro_f1"));
        Assert.Equal("10", m.Hyperparameters["num_iterations"]);
        Assert.NotEmpty(m.FeatureImportance);
        Assert.InRange(result.ExportMaxAbsDiff, 0, 1e-5);
        Assert.Contains(log.Lines, l => l.Contains("exact duplicates removed", StringComparison.Ordinal));
        Assert.Contains("confusion matrix", result.Report, StringComparison.Ordinal);
        Assert.Contains("feature importance", result.Report, StringComparison.Ordinal);
        Assert.Contains("constant features", result.Report, StringComparison.Ordinal);

        // The artifact writes and reads back with its manifest intact.
        string path = Path.Combine(_fixtures.Root, "m.stakeout");
        var saved = result.Artifact.Save(path);
        Assert.Equal(m.Classes, ModelArtifact.Load(path).Manifest.Classes);
        Assert.NotNull(saved.Sha256);
    }

    [Fact]
    public void Execute_SeedLogReg_ThreeFeaturePayloadThatSeparatesTheClasses()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 80), ("DoS Hulk", 50)], seed: 1);

        var result = new TrainingRun(new ListLog(), TimeProvider.System).Execute(new TrainOptions { Paths = [a], Model = ModelChoice.SeedLogReg });
        var m = result.Artifact.Manifest;
        using var payload = JsonDocument.Parse(result.Artifact.Payload);

        Assert.Equal("logistic-regression", m.ModelKind);
        Assert.Equal(["BENIGN", "ATTACK"], m.Classes);
        Assert.Equal([1, 2, 3], m.Features.Select(f => f.Index));
        Assert.Equal([1, 2, 3], payload.RootElement.GetProperty("features").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(3, payload.RootElement.GetProperty("weights").GetArrayLength());
        Assert.True(result.Test.MacroF1 > 0.9, $"macro-F1 {result.Test.MacroF1}");
    }

    [Fact]
    public void Execute_SaveSplit_WritesTheExactRows()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 50), ("DDoS", 30)], seed: 1);
        string dir = Path.Combine(_fixtures.Root, "split");

        var result = new TrainingRun(new ListLog(), TimeProvider.System).Execute(new TrainOptions
        {
            Paths = [a],
            LightGbm = new LightGbmSettings { Iterations = 3, Leaves = 4, MinDataInLeaf = 3 },
            SaveSplitDirectory = dir,
        });

        Assert.Equal(result.Split.Train.Count + 1, File.ReadAllLines(Path.Combine(dir, "train.csv")).Length);
        Assert.Equal(result.Split.Test.Count + 1, File.ReadAllLines(Path.Combine(dir, "test.csv")).Length);
    }

    [Fact]
    public void Metrics_KnownConfusion_ExactFigures()
    {
        // truth: B B B A A ; predicted: B A B A B  (threshold 0.5 on P(attack))
        double[] p = [0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.1, 0.9, 0.6, 0.4];
        var m = ClassificationMetrics.Compute(["BENIGN", "ATTACK"], [0, 0, 0, 1, 1], p, 0, 0.5);

        Assert.Equal(0.6, m.Accuracy, 10);
        Assert.Equal(1.0 / 3, m.BenignFalsePositiveRate, 10);
        Assert.Equal(0.5, m.AttackRecall, 10);
        Assert.Equal(2.0 / 3, m.PerClass[0].Precision, 10);
        Assert.Equal(0.5, m.PerClass[1].F1, 10);
        Assert.Equal([[2L, 1L], [1L, 1L]], m.Confusion);
    }
}
