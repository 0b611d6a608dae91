using System.Text;
using Stakeout.Models;

namespace Stakeout.Training.Tests;

public sealed class FineTuneCalibrateTests : IDisposable
{
    private static readonly LightGbmSettings Small = new() { Iterations = 8, Leaves = 8, MinDataInLeaf = 3 };

    private readonly Fixtures _fixtures = new();

    public void Dispose() => _fixtures.Dispose();

    private sealed class NullLog : ITrainingLog
    {
        public void Info(string message)
        {
        }
    }

    private string Parent(out ModelArtifact saved)
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 60), ("DDoS", 40), ("PortScan", 30)], seed: 1);
        var result = new TrainingRun(new NullLog(), TimeProvider.System).Execute(new TrainOptions { Paths = [a], LightGbm = Small });
        string path = Path.Combine(_fixtures.Root, "parent.stakeout");
        saved = result.Artifact.Save(path);
        return path;
    }

    [Fact]
    public void FineTune_NewData_AppendsRoundsKeepsSchemaAndRecordsLineage()
    {
        string parentPath = Parent(out var parent);
        // The site's data: the same classes, shifted so the stored model has something to learn.
        var random = new Random(9);
        string b = _fixtures.Write("b.csv", [("BENIGN", 50), ("DDoS", 30), ("PortScan", 30)], seed: 9, value: (c, f) => f < 6 ? (c * 10) + 3 + (float)(random.NextDouble() * 6) : 1);

        var result = new TrainingRun(new NullLog(), TimeProvider.System).FineTune(parentPath, new TrainOptions { Paths = [b], LightGbm = Small with { Iterations = 5 } }, allowNewClasses: false);
        var m = result.Artifact.Manifest;
        var before = Calibration.Load(parent);
        var after = result.Model;

        Assert.Equal(parent.Manifest.Features, m.Features);
        Assert.Equal(parent.Manifest.Classes, m.Classes);
        var lineage = Assert.Single(m.Lineage);
        Assert.Equal(parent.Sha256, lineage.Sha256);
        string text = Encoding.UTF8.GetString(result.Artifact.Payload.Span);
        Assert.Equal((8 + 5) * 3, text.Split('\n').Count(l => l.StartsWith("Tree=", StringComparison.Ordinal)));
        Assert.True(Loss(after, result.Table, result.Split.Train) < Loss(before, result.Table, result.Split.Train), "fine-tuning did not lower the loss on the new data");
    }

    [Theory]
    [InlineData(true, "class-weights")]
    [InlineData(false, "benign-half")]
    public void FineTune_ImbalanceFromParent_KeepsTheParentsWeightingUnlessTold(bool fromParent, string expected)
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 60), ("DDoS", 40), ("PortScan", 30)], seed: 1);
        var parentResult = new TrainingRun(new NullLog(), TimeProvider.System).Execute(new TrainOptions { Paths = [a], LightGbm = Small with { Imbalance = ImbalanceHandling.ClassWeights } });
        string parentPath = Path.Combine(_fixtures.Root, "parent-cw.stakeout");
        parentResult.Artifact.Save(parentPath);
        string b = _fixtures.Write("b.csv", [("BENIGN", 50), ("DDoS", 30), ("PortScan", 30)], seed: 9);

        var result = new TrainingRun(new NullLog(), TimeProvider.System).FineTune(parentPath, new TrainOptions
        {
            Paths = [b],
            LightGbm = Small with { Iterations = 3, Imbalance = ImbalanceHandling.BenignHalf },
            ImbalanceFromParent = fromParent,
        }, allowNewClasses: false);

        Assert.Equal("class-weights", parentResult.Artifact.Manifest.Hyperparameters["imbalance"]);
        Assert.Equal(expected, result.Artifact.Manifest.Hyperparameters["imbalance"]);
    }

    [Fact]
    public void FineTune_NewClass_FailsUnlessAllowed()
    {
        string parentPath = Parent(out var parent);
        string b = _fixtures.Write("b.csv", [("BENIGN", 40), ("Bot", 30)], seed: 9);
        var run = new TrainingRun(new NullLog(), TimeProvider.System);
        var options = new TrainOptions { Paths = [b], LightGbm = Small with { Iterations = 3 } };

        var ex = Assert.Throws<TrainingDataException>(() => run.FineTune(parentPath, options, allowNewClasses: false));
        var allowed = run.FineTune(parentPath, options, allowNewClasses: true);

        Assert.Contains("Bot", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--allow-new-classes", ex.Message, StringComparison.Ordinal);
        Assert.Equal([.. parent.Manifest.Classes, "Bot"], allowed.Artifact.Manifest.Classes);
    }

    [Fact]
    public void Calibrate_BenignTraffic_ThresholdMeetsMaxFprAndIsRecorded()
    {
        Parent(out var parent);
        string benign = _fixtures.Write("benign.csv", [("BENIGN", 400)], seed: 4, value: null);

        var result = Calibration.Run(parent, [benign], 0.01, TimeProvider.System);

        Assert.InRange(result.FalsePositiveRate, 0, 0.01);
        Assert.Equal(400, result.BenignRows);
        Assert.Equal(result.Threshold, result.Artifact.Manifest.Threshold);
        Assert.StartsWith("calibrated: max FPR 0.01 on 400 benign flows", result.Artifact.Manifest.ThresholdSource, StringComparison.Ordinal);
        Assert.Equal(parent.Sha256, result.Artifact.Manifest.Lineage[^1].Sha256);
    }

    private static double Loss(ExportedModel model, TrainingTable table, IReadOnlyList<int> rows)
    {
        var p = new double[model.Classes];
        double sum = 0;
        foreach (int r in rows)
        {
            model.Predict(table.Row(r), p);
            sum -= Math.Log(Math.Max(p[table.Label(r)], 1e-15));
        }

        return sum / rows.Count;
    }
}
