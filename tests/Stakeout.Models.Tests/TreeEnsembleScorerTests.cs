using Stakeout.Core;
using Stakeout.Models.Scoring;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

/// <summary>
/// Hand-written models with outputs worked out by hand (and confirmed with LightGBM's own predictor through
/// tools/LightGbmReference: `predict MODEL.txt`). Feature 1 = Flow Duration, 14 = Flow Bytes/s, 2/3 = Fwd/Bwd packets.
/// </summary>
public sealed class TreeEnsembleScorerTests
{
    private static readonly string[] Binary = ["BENIGN", "ATTACK"];

    [Theory]
    // x0 = 5 <= 10 -> node1; x1 = 0.2 <= 0.5 -> leaf0 (0.5); + constant tree 0.25 = 0.75
    [InlineData(5f, 0.2f, 0.75)]
    // x0 = 20 > 10 -> leaf1 (-1.0); + 0.25 = -0.75
    [InlineData(20f, 0.2f, -0.75)]
    // thresholds are inclusive: 10 <= 10 and 0.5 <= 0.5 go left -> 0.75
    [InlineData(10f, 0.5f, 0.75)]
    // x1 = 0.6 > 0.5 -> leaf2 (2.0); + 0.25 = 2.25
    [InlineData(5f, 0.6f, 2.25)]
    public void Score_BinaryModel_MatchesHandComputedSigmoid(float duration, float bytesPerSecond, double margin)
    {
        var scorer = LightGbm(BinaryModel(), BinaryFeatures, Binary);

        float[] p = Probabilities(scorer, Row((1, duration), (14, bytesPerSecond)));

        Assert.Equal(Sigmoid(margin), p[1], 1e-7);
        Assert.Equal(1 - Sigmoid(margin), p[0], 1e-7);
    }

    [Fact]
    public void Score_SigmoidScale_MultipliesTheMargin()
    {
        // objective "binary sigmoid:2": p = sigmoid(2 × 0.75)
        var scorer = LightGbm(BinaryModel("binary sigmoid:2"), BinaryFeatures, Binary);

        float[] p = Probabilities(scorer, Row((1, 5f), (14, 0.2f)));

        Assert.Equal(Sigmoid(1.5), p[1], 1e-7);
    }

    [Theory]
    // "missing": x1 = NaN at node1 (missing type NaN, default right) -> leaf2 (2.0) -> 2.25
    [InlineData(NonFiniteMapping.Missing, 2.25)]
    // "nan-zero-inf-max": NaN becomes 0 before the comparison, 0 <= 0.5 -> leaf0 (0.5) -> 0.75
    [InlineData(NonFiniteMapping.NanZeroInfMax, 0.75)]
    public void Score_NaNAtNaNMissingTypeNode_FollowsThePolicy(string policy, double margin)
    {
        var scorer = LightGbm(BinaryModel(), BinaryFeatures, Binary, policy);

        float[] p = Probabilities(scorer, Row((1, 5f), (14, float.NaN)));

        Assert.Equal(Sigmoid(margin), p[1], 1e-7);
    }

    [Theory]
    [InlineData(NonFiniteMapping.Missing)]
    [InlineData(NonFiniteMapping.NanZeroInfMax)]
    public void Score_NaNAtNoneMissingTypeNode_ComparesAsZero(string policy)
    {
        // node0 has missing type None: NaN is compared as 0 (0 <= 10, left), as LightGBM does; 0.2 -> leaf0 -> 0.75
        var scorer = LightGbm(BinaryModel(), BinaryFeatures, Binary, policy);

        float[] p = Probabilities(scorer, Row((1, float.NaN), (14, 0.2f)));

        Assert.Equal(Sigmoid(0.75), p[1], 1e-7);
    }

    [Theory]
    // x0 = 1 <= 1.5 -> 1.0; x1 = 200 > 100 -> 2.0; x0 <= 1e300 -> 0.5: softmax(1, 2, 0.5)
    [InlineData(1f, 200f, 1.0, 2.0, 0.5)]
    // x1 = 0 is "missing" for a Zero-type node, default right -> 2.0 (not 0 <= 100 -> 0.0)
    [InlineData(1.5f, 0f, 1.0, 2.0, 0.5)]
    // |x1| <= 1e-35 counts as zero too -> 2.0
    [InlineData(2f, 1e-36f, -1.0, 2.0, 0.5)]
    // a Zero-type node sends NaN the default way as well (NaN -> 0 -> missing) under "missing"
    [InlineData(2f, float.NaN, -1.0, 2.0, 0.5)]
    // 100 <= 100 -> left (0.0); ordinary value
    [InlineData(2f, 100f, -1.0, 0.0, 0.5)]
    // "missing" compares +Infinity as a value: inf > 1e300 -> 3.0
    [InlineData(float.PositiveInfinity, 50f, -1.0, 0.0, 3.0)]
    public void Score_MulticlassModel_MatchesHandComputedSoftmax(float fwd, float bwd, double r0, double r1, double r2)
    {
        var scorer = LightGbm(MulticlassModel(), MulticlassFeatures, ThreeClasses, NonFiniteMapping.Missing);

        float[] p = Probabilities(scorer, Row((2, fwd), (3, bwd)));

        double sum = Math.Exp(r0) + Math.Exp(r1) + Math.Exp(r2);
        Assert.Equal(Math.Exp(r0) / sum, p[0], 1e-7);
        Assert.Equal(Math.Exp(r1) / sum, p[1], 1e-7);
        Assert.Equal(Math.Exp(r2) / sum, p[2], 1e-7);
    }

    [Fact]
    public void Score_InfinityUnderNanZeroInfMax_IsFloatMaxValue()
    {
        // +inf becomes float.MaxValue (3.4e38) <= 1e300 -> tree 2 gives 0.5, not 3.0; x1 = 50 -> 0.0; x0 > 1.5 -> -1.0
        var scorer = LightGbm(MulticlassModel(), MulticlassFeatures, ThreeClasses, NonFiniteMapping.NanZeroInfMax);

        float[] p = Probabilities(scorer, Row((2, float.PositiveInfinity), (3, 50f)));

        double sum = Math.Exp(-1) + Math.Exp(0) + Math.Exp(0.5);
        Assert.Equal(Math.Exp(0.5) / sum, p[2], 1e-7);
    }

    [Fact]
    public void Score_Batch_EqualsRowByRow()
    {
        var scorer = LightGbm(MulticlassModel(), MulticlassFeatures, ThreeClasses);
        var random = new Random(3);
        float[][] rows = Enumerable.Range(0, 50).Select(_ => Row((2, random.Next(0, 4)), (3, random.Next(0, 300)))).ToArray();
        float[] batch = rows.SelectMany(r => r).ToArray();

        var all = new float[rows.Length * 3];
        scorer.Score(batch, all);

        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(Probabilities(scorer, rows[i]), all.AsSpan(i * 3, 3).ToArray());
        }
    }

    [Theory]
    [InlineData(NonFiniteMapping.Missing)]
    [InlineData(NonFiniteMapping.NanZeroInfMax)]
    public void Score_ModelWithoutMissingTypes_SingleComparisonPathEqualsGeneralRule(string policy)
    {
        // No node has a missing type, so Score takes the one-comparison loop; RawScore always takes the general rule.
        var random = new Random(77);
        string text = RandomTrees.LightGbmText(random, trees: 30, classes: 3, features: 4, maxLeaves: 15, withMissingTypes: false);
        var scorer = (TreeEnsembleScorer)LightGbm(text, [1, 2, 3, 4], ThreeClasses, policy);
        var raw = new double[3];

        for (int i = 0; i < 500; i++)
        {
            float[] row = Row((1, Pick(random)), (2, Pick(random)), (3, Pick(random)), (4, Pick(random)));
            float[] p = Probabilities(scorer, row);
            scorer.RawScore(row, raw);
            double sum = raw.Sum(Math.Exp);
            for (int c = 0; c < 3; c++)
            {
                Assert.Equal((float)(Math.Exp(raw[c]) / sum), p[c], 6);
            }
        }

        static float Pick(Random r) => r.Next(8) switch
        {
            0 => float.NaN,
            1 => float.PositiveInfinity,
            2 => float.NegativeInfinity,
            3 => 0f,
            _ => (float)r.NextDouble(),
        };
    }

    [Fact]
    public void Score_SteadyState_AllocatesNothing()
    {
        var scorer = LightGbm(MulticlassModel(), MulticlassFeatures, ThreeClasses);
        float[] rows = new float[FeatureSchema.Count * 100];
        float[] p = new float[300];
        scorer.Score(rows, p);

        long before = GC.GetAllocatedBytesForCurrentThread();
        scorer.Score(rows, p);
        long after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(0, after - before);
    }

    [Fact]
    public void Score_FromSeveralThreads_GivesTheSameAsOneThread()
    {
        string text = RandomTrees.LightGbmText(new Random(5), trees: 40, classes: 3, features: 6, maxLeaves: 9);
        var scorer = LightGbm(text, [1, 2, 3, 4, 5, 6], ThreeClasses);
        var random = new Random(6);
        float[] rows = Enumerable.Range(0, 2000 * FeatureSchema.Count).Select(_ => (float)random.NextDouble()).ToArray();
        float[] serial = new float[2000 * 3];
        scorer.Score(rows, serial);

        float[] parallel = new float[2000 * 3];
        Parallel.For(0, 20, chunk => scorer.Score(
            rows.AsSpan(chunk * 100 * FeatureSchema.Count, 100 * FeatureSchema.Count),
            parallel.AsSpan(chunk * 300, 300)));

        Assert.Equal(serial, parallel);
    }

    [Fact]
    public void Score_WrongBufferSizes_ThrowNamingTheBuffer()
    {
        var scorer = LightGbm(MulticlassModel(), MulticlassFeatures, ThreeClasses);

        var partial = Assert.Throws<ArgumentException>(() => scorer.Score(new float[FeatureSchema.Count + 1], new float[3]));
        var small = Assert.Throws<ArgumentException>(() => scorer.Score(new float[FeatureSchema.Count * 2], new float[5]));

        Assert.Equal("features", partial.ParamName);
        Assert.Equal("probabilities", small.ParamName);
    }

    [Fact]
    public void BenignClassIndex_IsThePositionOfTheManifestsBenignClass()
    {
        var scorer = LightGbm(MulticlassModel(), MulticlassFeatures, ["DoS", "BENIGN", "PortScan"]);

        Assert.Equal(1, scorer.BenignClassIndex);
    }
}
