using FsCheck.Xunit;
using Stakeout.Core;
using Stakeout.Models.Scoring;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

public sealed class TreeShapTests
{
    private static readonly string[] Binary = ["BENIGN", "ATTACK"];

    [Fact]
    public void Explain_BinaryModel_MatchesHandComputedShapleyValues()
    {
        // Row x0 = 5, x1 = 0.2 (leaf0). Tree 0 covers: leaf0 30, leaf1 50, leaf2 20.
        // v(∅)  = (30·0.5 − 50·1 + 20·2) / 100 = 0.05
        // v(x0) = node1 with x1 unknown = (30·0.5 + 20·2) / 50 = 1.1
        // v(x1) = 0.5·(x1 known at node1 → 0.5) + 0.5·(−1) = −0.25
        // v(x0, x1) = 0.5
        // φ0 = ½[(1.1 − 0.05) + (0.5 + 0.25)] = 0.9;  φ1 = ½[(−0.25 − 0.05) + (0.5 − 1.1)] = −0.45
        // bias = 0.05 + constant tree 0.25 = 0.3; 0.9 − 0.45 + 0.3 = 0.75, the margin.
        var scorer = LightGbm(BinaryModel(), BinaryFeatures, Binary);

        double[] phi = Explain(scorer, Row((1, 5f), (14, 0.2f)), classIndex: 1);

        Assert.Equal(0.9, phi[1], 12);
        Assert.Equal(-0.45, phi[14], 12);
        Assert.Equal(0.3, phi[FeatureSchema.Count], 12);
        Assert.Equal(0, phi.Where((_, i) => i is not (1 or 14) && i < FeatureSchema.Count).Sum(Math.Abs));
    }

    [Fact]
    public void Explain_BinaryNegativeClass_IsTheNegatedExplanation()
    {
        var scorer = LightGbm(BinaryModel(), BinaryFeatures, Binary);
        float[] row = Row((1, 5f), (14, 0.2f));

        double[] positive = Explain(scorer, row, 1);
        double[] negative = Explain(scorer, row, 0);

        Assert.Equal(positive.Select(v => -v), negative);
    }

    [Property(MaxTest = 60)]
    public void Explain_RandomTrees_EqualsBruteForceShapleyValues(int seed)
    {
        var random = new Random(seed);
        const int features = 5;
        int classes = random.Next(2) == 0 ? 2 : 3;
        string text = RandomTrees.LightGbmText(random, trees: 3, classes, features, maxLeaves: 10, threshold: Grid, allowEmptyLeaves: true);
        int[] canonical = [4, 9, 15, 30, 60];
        string[] names = classes == 2 ? Binary : ThreeClasses;
        var scorer = (TreeEnsembleScorer)LightGbm(text, canonical, names, random.Next(2) == 0 ? NonFiniteMapping.Missing : NonFiniteMapping.NanZeroInfMax);
        var model = LightGbmText.Parse(System.Text.Encoding.UTF8.GetBytes(text), "test");
        float[] row = RandomRow(random, canonical);

        for (int c = 0; c < names.Length; c++)
        {
            double[] phi = Explain(scorer, row, c);
            double[] expected = BruteForce(scorer, model, row, canonical, c, classes == 2);
            for (int j = 0; j < features; j++)
            {
                Assert.Equal(expected[j], phi[canonical[j]], 9);
            }

            Assert.Equal(expected[features], phi[FeatureSchema.Count], 9);
        }
    }

    [Property(MaxTest = 40)]
    public void Explain_RandomDeepTrees_SumsToTheRawMargin(int seed)
    {
        var random = new Random(seed);
        string text = RandomTrees.LightGbmText(random, trees: 10, classes: 4, features: 8, maxLeaves: 64, threshold: Grid);
        int[] canonical = [1, 2, 3, 5, 8, 13, 21, 34];
        var scorer = (TreeEnsembleScorer)LightGbm(text, canonical, ["BENIGN", "A", "B", "C"], NonFiniteMapping.Missing);
        float[] row = RandomRow(random, canonical);
        var raw = new double[4];
        scorer.RawScore(row, raw);

        for (int c = 0; c < 4; c++)
        {
            Assert.Equal(raw[c], Explain(scorer, row, c).Sum(), 9);
        }
    }

    [Fact]
    public void Explain_SteadyState_AllocatesNothing()
    {
        var scorer = LightGbm(RandomTrees.LightGbmText(new Random(1), 20, 3, 4, 31), [1, 2, 3, 4], ThreeClasses);
        float[] row = RandomRow(new Random(2), [1, 2, 3, 4]);
        var phi = new double[FeatureSchema.Count + 1];
        scorer.Explain(row, 1, phi);

        long before = GC.GetAllocatedBytesForCurrentThread();
        scorer.Explain(row, 2, phi);
        long after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(0, after - before);
    }

    [Fact]
    public void Explain_ClassOutOfRange_Throws()
    {
        var scorer = LightGbm(BinaryModel(), BinaryFeatures, Binary);

        Assert.Throws<ArgumentOutOfRangeException>(() => scorer.Explain(new float[FeatureSchema.Count], 2, new double[FeatureSchema.Count + 1]));
    }

    // Thresholds on a coarse grid so that rows often sit exactly on one (the inclusive "<=" matters).
    private static double Grid(Random r, int feature) => r.Next(0, 10) / 10.0;

    private static float[] RandomRow(Random random, int[] canonical)
    {
        var row = new float[FeatureSchema.Count];
        foreach (int i in canonical)
        {
            row[i] = random.Next(12) switch
            {
                0 => float.NaN,
                1 => 0f,
                2 => float.PositiveInfinity,
                _ => random.Next(0, 11) / 10f,
            };
        }

        return row;
    }

    /// <summary>
    /// Exact Shapley values by enumerating every subset S of the model's inputs, with
    /// v(S) = E[f(x) | x_S] = the cover-weighted average over the branches of splits on features outside S.
    /// Returns one value per input, then the bias v(∅).
    /// </summary>
    private static double[] BruteForce(TreeEnsembleScorer scorer, LightGbmModel model, float[] row, int[] canonical, int classIndex, bool binary)
    {
        int m = canonical.Length;
        var x = new double[FeatureSchema.Count];
        NonFiniteMapping.Prepare(row, x, scorer.Manifest.NonFinite == NonFiniteMapping.NanZeroInfMax);
        var trees = model.Trees.Where((_, t) => binary || t % model.NumTreePerIteration == classIndex).ToList();
        double sign = binary && classIndex == 0 ? -1 : 1;
        double V(int mask) => sign * trees.Sum(t => t.NumLeaves == 1 ? t.LeafValue[0] : Expect(t, 0, mask));

        double Expect(LightGbmTree t, int child, int mask)
        {
            if (child < 0)
            {
                return t.LeafValue[~child];
            }

            int f = t.SplitFeature[child];
            if ((mask & (1 << f)) != 0)
            {
                return Expect(t, Follow(t, child, x[canonical[f]]), mask);
            }

            double cover = t.InternalCount[child];
            if (cover == 0)
            {
                return 0;
            }

            return ((Cover(t, t.LeftChild[child]) * Expect(t, t.LeftChild[child], mask)) + (Cover(t, t.RightChild[child]) * Expect(t, t.RightChild[child], mask))) / cover;
        }

        var phi = new double[m + 1];
        for (int i = 0; i < m; i++)
        {
            for (int mask = 0; mask < 1 << m; mask++)
            {
                if ((mask & (1 << i)) != 0)
                {
                    continue;
                }

                int size = System.Numerics.BitOperations.PopCount((uint)mask);
                double weight = Factorial(size) * Factorial(m - size - 1) / Factorial(m);
                phi[i] += weight * (V(mask | (1 << i)) - V(mask));
            }
        }

        phi[m] = V(0);
        return phi;
    }

    private static double Cover(LightGbmTree t, int child) => child >= 0 ? t.InternalCount[child] : t.LeafCount[~child];

    // The decision rule restated from LightGBM's documentation, independently of the scorer's compiled version.
    private static int Follow(LightGbmTree t, int node, double v)
    {
        int missing = (t.DecisionType[node] >> 2) & 3;
        bool defaultLeft = (t.DecisionType[node] & 2) != 0;
        if (double.IsNaN(v) && missing != 2)
        {
            v = 0;
        }

        bool isMissing = (missing == 1 && Math.Abs(v) <= 1e-35f) || (missing == 2 && double.IsNaN(v));
        bool left = isMissing ? defaultLeft : v <= t.Threshold[node];
        return left ? t.LeftChild[node] : t.RightChild[node];
    }

    private static double Factorial(int n) => n <= 1 ? 1 : n * Factorial(n - 1);
}
