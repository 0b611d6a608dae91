using Stakeout.Core;
using Stakeout.Evaluation;

namespace Stakeout.Reports.Tests;

public sealed class CurveTests
{
    [Fact]
    public void Curves_HandComputedExample_RocAucAndPointsMatch()
    {
        // Scores 0.9+, 0.8-, 0.7+, 0.1-: thresholds 0.9 (tp1 fp0), 0.8 (1,1), 0.7 (2,1), 0.1 (2,2).
        // ROC points (0,.5) (.5,.5) (.5,1) (1,1): AUC = 0.5*0.5 + 0.5*1 = 0.75.
        var c = CurveMath.Curves("x", [0.9, 0.8, 0.7, 0.1], [true, false, true, false])!;

        Assert.Equal([0.9, 0.8, 0.7, 0.1], c.Thresholds);
        Assert.Equal([0.5, 0.5, 1, 1], c.Recall);
        Assert.Equal([1, 0.5, 2.0 / 3, 0.5], c.Precision);
        Assert.Equal([0, 0.5, 0.5, 1], c.FalsePositiveRate);
        Assert.Equal(0.75, c.RocAuc!.Value, 12);
        Assert.Equal(ClassificationMath.AveragePrecision([0.9, 0.8, 0.7, 0.1], [true, false, true, false]), c.AveragePrecision);
    }

    [Fact]
    public void Curves_NoPositives_Null() => Assert.Null(CurveMath.Curves("x", [0.2, 0.3], [false, false]));

    [Fact]
    public void Curves_ManyDistinctScores_ThinnedKeepingBothEnds()
    {
        var random = new Random(3);
        var scores = Enumerable.Range(0, 5000).Select(_ => random.NextDouble()).ToArray();
        var positive = scores.Select(s => s > 0.5).ToArray();
        var c = CurveMath.Curves("x", scores, positive, maxPoints: 100)!;

        Assert.InRange(c.Recall.Count, 2, 100);
        Assert.Equal(1.0, c.Recall[^1]);
        Assert.Equal(1.0, c.FalsePositiveRate[^1]);
        Assert.Equal(1.0, c.RocAuc!.Value, 9); // perfectly separated
    }

    [Fact]
    public void ComputeCurves_SweepAtTheChosenThreshold_EqualsTheMetrics()
    {
        string[] classes = [LabelTaxonomy.Benign, "DoS Hulk", "PortScan"];
        var accumulator = new EvaluationAccumulator(classes, LabelLevel.Class, 0, threshold: 0.4);
        var random = new Random(5);
        for (int i = 0; i < 400; i++)
        {
            string truth = classes[i % 3];
            float benign = (float)(truth == LabelTaxonomy.Benign ? 0.3 + (0.7 * random.NextDouble()) : 0.7 * random.NextDouble());
            float dos = (float)((1 - benign) * random.NextDouble());
            accumulator.Add(truth, [benign, dos, 1 - benign - dos]);
        }

        var metrics = accumulator.Compute();
        var curves = accumulator.ComputeCurves(thresholdPoints: 11);
        var sweep = curves.Threshold!;

        Assert.Equal(3, curves.Classes.Count);
        Assert.Equal(0.4, sweep.Chosen);
        Assert.Equal(metrics.BenignFpr, sweep.ChosenBenignFpr);
        int at = Array.IndexOf([.. sweep.Thresholds], 0.4);
        Assert.True(at >= 0);
        Assert.Equal(metrics.BenignFpr!.Value, sweep.BenignFpr[at], 12);
        Assert.Equal(metrics.AttackRecall!.Value, sweep.AttackRecall[at], 12);
        Assert.Equal(1.0, sweep.BenignFpr[0]);
        foreach (var c in curves.Classes)
        {
            Assert.Equal(metrics.PrAuc[c.Label], c.AveragePrecision);
        }
    }

    [Fact]
    public void ComputeCurves_WithoutKeptScores_Refuses()
    {
        var accumulator = new EvaluationAccumulator([LabelTaxonomy.Benign, "DoS"], LabelLevel.Family, 0, 0.5, keepScores: false);
        accumulator.Add("DoS", [0.2f, 0.8f]);
        Assert.Throws<InvalidOperationException>(() => accumulator.ComputeCurves());
    }
}
