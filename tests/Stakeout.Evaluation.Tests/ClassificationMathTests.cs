namespace Stakeout.Evaluation.Tests;

public sealed class ClassificationMathTests
{
    [Fact]
    public void PerClass_ThreeLabels_MatchesHandComputedValues()
    {
        long[][] confusion = [[3, 1, 0], [1, 2, 0], [0, 1, 2]];

        var m = ClassificationMath.PerClass(confusion);

        Assert.Equal(0.75, m[0].Precision, 12);
        Assert.Equal(0.75, m[0].Recall, 12);
        Assert.Equal(0.5, m[1].Precision, 12);
        Assert.Equal(2.0 / 3, m[1].Recall, 12);
        Assert.Equal(4.0 / 7, m[1].F1, 12); // 2 * 0.5 * 2/3 / (0.5 + 2/3)
        Assert.Equal(1.0, m[2].Precision, 12);
        Assert.Equal(0.8, m[2].F1, 12);
        Assert.Equal([4L, 3L, 3L], m.Select(c => c.Support));
    }

    [Fact]
    public void PerClass_LabelNeverPredictedNorPresent_ReportsZeroNotNaN()
    {
        long[][] confusion = [[5, 0], [0, 0]];

        var m = ClassificationMath.PerClass(confusion);

        Assert.Equal(0, m[1].Precision);
        Assert.Equal(0, m[1].Recall);
        Assert.Equal(0, m[1].F1);
    }

    [Fact]
    public void PerClass_RaggedMatrix_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => ClassificationMath.PerClass([[1, 2], [3]]));
        Assert.Contains("row 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AveragePrecision_TiedScoresAcrossClasses_CountsTheTieAsOneStep()
    {
        // Scores .6 belong to one positive and one negative: crossing that threshold adds both rows at once.
        // Hand: .9 R=.25 P=1; .8 R=.5 P=1; .6 R=.75 P=.75; .3 R=1 P=.8 => .25 + .25 + .1875 + .2 = .8875.
        // sklearn.metrics.average_precision_score([1,1,1,1,0,0,0,0,0,0], [.9,.8,.3,.6,.1,.2,.6,.1,.2,.05]) == 0.8875
        double[] scores = [.9, .8, .3, .6, .1, .2, .6, .1, .2, .05];
        bool[] positive = [true, true, true, true, false, false, false, false, false, false];

        Assert.Equal(0.8875, ClassificationMath.AveragePrecision(scores, positive)!.Value, 12);
    }

    [Fact]
    public void AveragePrecision_TieOrderInInput_DoesNotChangeTheResult()
    {
        double[] scores = [.5, .5, .5, .9];
        bool[] a = [true, false, false, true];
        bool[] b = [false, false, true, true];

        Assert.Equal(ClassificationMath.AveragePrecision(scores, a), ClassificationMath.AveragePrecision(scores, b));
        // .9: R=.5 P=1; .5 group: R=1 P=2/4 => .5 + .25
        Assert.Equal(0.75, ClassificationMath.AveragePrecision(scores, a)!.Value, 12);
    }

    [Fact]
    public void AveragePrecision_PerfectRanking_IsOne()
    {
        Assert.Equal(1.0, ClassificationMath.AveragePrecision([.9, .8, .1], [true, true, false])!.Value, 12);
    }

    [Fact]
    public void AveragePrecision_AllScoresEqual_IsThePrevalence()
    {
        Assert.Equal(0.25, ClassificationMath.AveragePrecision([.3, .3, .3, .3], [false, true, false, false])!.Value, 12);
    }

    [Fact]
    public void AveragePrecision_NoPositives_IsNull()
    {
        Assert.Null(ClassificationMath.AveragePrecision([.3, .4], [false, false]));
    }

    [Fact]
    public void AveragePrecision_NaNScore_TerminatesAndCountsTheRow()
    {
        double? ap = ClassificationMath.AveragePrecision([double.NaN, .9, .1], [false, true, true]);

        Assert.NotNull(ap);
        Assert.InRange(ap!.Value, 0, 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void AveragePrecision_RandomScoresWithTiesAndNaN_EqualsTheDefinition(int seed)
    {
        var random = new Random(seed);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = random.Next(1, 60);
            var scores = new double[n];
            var positive = new bool[n];
            for (int i = 0; i < n; i++)
            {
                // Few distinct values, so ties are common; now and then a NaN.
                scores[i] = random.Next(20) == 0 ? double.NaN : random.Next(6) / 5.0;
                positive[i] = random.Next(3) == 0;
            }

            Assert.Equal(Definition(scores, positive), ClassificationMath.AveragePrecision(scores, positive));
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public void Curves_AveragePrecision_IsExactlyTheMetricsFigure(int seed)
    {
        // The curves and the metrics compute AP from one walk each; the report shows both, so they must be the same
        // number, not merely close.
        var random = new Random(seed);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = random.Next(1, 80);
            var scores = new double[n];
            var positive = new bool[n];
            for (int i = 0; i < n; i++)
            {
                scores[i] = random.Next(25) == 0 ? double.NaN : random.Next(2) == 0 ? random.Next(6) / 5.0 : random.NextDouble();
                positive[i] = random.Next(3) == 0;
            }

            var curves = CurveMath.Curves("x", scores, positive);
            double? ap = ClassificationMath.AveragePrecision(scores, positive);
            Assert.Equal(ap, curves?.AveragePrecision);
            Assert.Equal(Definition(scores, positive), ap);
        }
    }

    /// <summary>
    /// AP straight from its definition: for every distinct score from the highest down (NaN first, as a sort puts it),
    /// the rows at or above it give precision and recall; AP = Σ ΔR · P. Quadratic, for tests only.
    /// </summary>
    private static double? Definition(double[] scores, bool[] positive)
    {
        int positives = positive.Count(p => p);
        if (positives == 0)
        {
            return null;
        }

        var thresholds = scores.Select(s => -s).Distinct().Order().ToArray();
        double ap = 0, previous = 0;
        var reached = new HashSet<int>();
        foreach (double t in thresholds)
        {
            for (int i = 0; i < scores.Length; i++)
            {
                if ((-scores[i]).Equals(t))
                {
                    reached.Add(i);
                }
            }

            int tp = reached.Count(i => positive[i]);
            double recall = (double)tp / positives;
            double precision = (double)tp / reached.Count;
            ap += (recall - previous) * precision;
            previous = recall;
        }

        return ap;
    }
}
