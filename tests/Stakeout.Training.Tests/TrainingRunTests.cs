using System.Text.Json;
using Stakeout.Core;
using Stakeout.Evaluation;
using Stakeout.Models;

namespace Stakeout.Training.Tests;

public sealed class TrainingRunTests : IDisposable
{
    private readonly Fixtures _fixtures = new();

    public void Dispose() => _fixtures.Dispose();

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
        Assert.Contains("Confusion matrix", result.Report, StringComparison.Ordinal);
        Assert.Contains("BENIGN false-positive rate", result.Report, StringComparison.Ordinal);
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
    public void Execute_TestReport_IsStakeoutEvaluationOnTheTestRows()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 60), ("DDoS", 40), ("PortScan", 30), ("Bot", 20)], seed: 3);

        var result = new TrainingRun(new ListLog(), TimeProvider.System).Execute(new TrainOptions
        {
            Paths = [a],
            LightGbm = new LightGbmSettings { Iterations = 5, Leaves = 4, MinDataInLeaf = 3 },
        });

        // Score the test rows with the runtime scorer and measure them with Stakeout.Evaluation directly.
        var scorer = result.Artifact.CreateScorer();
        var test = result.Split.Test;
        var features = new float[test.Count * FeatureSchema.Count];
        var truth = new int[test.Count];
        for (int i = 0; i < test.Count; i++)
        {
            result.Table.Row(test[i]).CopyTo(features.AsSpan(i * FeatureSchema.Count));
            truth[i] = result.Table.Label(test[i]);
        }

        var probabilities = new float[test.Count * scorer.Classes.Count];
        scorer.Score(features, probabilities);
        var accumulator = new EvaluationAccumulator(result.Table.Classes, result.Table.Level, scorer.BenignClassIndex, 0.5);
        accumulator.AddBatch(truth, [.. result.Table.Classes.Select(LabelTaxonomy.Resolve)], probabilities);
        var expected = accumulator.Compute();

        Assert.Equal(expected.Confusion.Matrix, result.Test.Confusion.Matrix);
        Assert.Equal(expected.MacroF1, result.Test.MacroF1, 12);
        Assert.Equal(expected.BenignFpr, result.Test.BenignFpr);
        Assert.Equal(expected.AttackRecall, result.Test.AttackRecall);
        Assert.Contains(ClassificationReportText.Format(result.Test), result.Report, StringComparison.Ordinal);
        Assert.Equal(Math.Round(expected.MacroF1, 6), result.Artifact.Manifest.Metrics["macro_f1"]);
    }
}
