using System.Text;
using Stakeout.Core;
using Stakeout.Models.Scoring;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

/// <summary>
/// The blocked scorer (float comparisons, rows in lock-step per tree) against the reference row-by-row walk (double
/// comparisons, one row at a time): the probabilities must be bit-for-bit equal, for every remainder of the block size.
/// </summary>
public sealed class BlockedScoringTests
{
    private static readonly int[] Canonical = [0, 3, 7, 14, 15, 40, 77];

    [Theory]
    // Up to 31 leaves: the AVX-512 bit-vector walk where the CPU has it; 60 leaves: mostly the scalar lock-step walk.
    [InlineData(NonFiniteMapping.NanZeroInfMax, 2, 31)]
    [InlineData(NonFiniteMapping.NanZeroInfMax, 3, 31)]
    [InlineData(NonFiniteMapping.Missing, 2, 31)]
    [InlineData(NonFiniteMapping.Missing, 3, 31)]
    [InlineData(NonFiniteMapping.NanZeroInfMax, 3, 60)]
    [InlineData(NonFiniteMapping.Missing, 2, 60)]
    public void Score_EveryBlockRemainder_EqualsRowByRow(string policy, int classes, int maxLeaves)
    {
        var random = new Random(classes * 31 + policy.Length);

        // Thresholds that are not floats (so rounding them to float matters), a few exactly at float values, and huge ones.
        string text = RandomTrees.LightGbmText(random, trees: 25, classes, features: Canonical.Length, maxLeaves,
            threshold: (r, _) => r.Next(8) switch
            {
                0 => (double)(float)(r.NextDouble() * 2 - 1),
                1 => r.Next(2) == 0 ? 1e300 : -1e300,
                2 => r.Next(2) == 0 ? float.MaxValue : -(double)float.MaxValue,
                _ => (r.NextDouble() * 2) - 1,
            },
            withMissingTypes: false);
        string[] names = classes == 2 ? ["BENIGN", "ATTACK"] : ThreeClasses;
        int maxRows = (2 * TreeEnsembleScorer.BlockRows) + 1;
        float[] rows = RandomRows(random, maxRows, text);

        foreach (var walk in Enum.GetValues<VectorWalk>())
        {
            var scorer = Compile(text, names, policy, walk);
            for (int count = 0; count <= maxRows; count++)
            {
                var features = rows.AsSpan(0, count * FeatureSchema.Count);
                var blocked = new float[count * classes];
                var reference = new float[count * classes];

                scorer.Score(features, blocked);
                scorer.ScoreRowByRow(features, reference, count);

                Assert.True(blocked.AsSpan().SequenceEqual(reference), $"{scorer.Walk} walk, {count} rows: blocked and row-by-row scores differ.");
            }
        }
    }

    [Theory]
    // 32 leaves fill the bit-vector walk's 32-bit word exactly; 33 are one too many and take the scalar walk.
    [InlineData(32)]
    [InlineData(33)]
    public void Score_TreesAtTheBitVectorLimit_EqualsRowByRow(int leaves)
    {
        var random = new Random(leaves);
        string text = RandomTrees.LightGbmText(random, trees: 6, classes: 3, features: Canonical.Length, leaves, withMissingTypes: false, exactLeaves: true);
        int rows = (3 * TreeEnsembleScorer.BlockRows) + 5;
        float[] features = RandomRows(random, rows, text);

        foreach (var walk in Enum.GetValues<VectorWalk>())
        {
            var scorer = Compile(text, ThreeClasses, NonFiniteMapping.NanZeroInfMax, walk);
            var blocked = new float[rows * 3];
            var reference = new float[rows * 3];

            scorer.Score(features, blocked);
            scorer.ScoreRowByRow(features, reference, rows);

            Assert.True(blocked.AsSpan().SequenceEqual(reference), $"{scorer.Walk} walk, trees of {leaves} leaves: blocked and row-by-row scores differ.");
        }
    }

    [Fact]
    public void Compile_Avx2Requested_NeverUsesAWiderWalk()
    {
        string text = RandomTrees.LightGbmText(new Random(3), trees: 2, classes: 3, features: Canonical.Length, maxLeaves: 8, withMissingTypes: false);

        Assert.NotEqual(VectorWalk.Avx512, Compile(text, ThreeClasses, NonFiniteMapping.NanZeroInfMax, VectorWalk.Avx2).Walk);
        Assert.Equal(VectorWalk.None, Compile(text, ThreeClasses, NonFiniteMapping.NanZeroInfMax, VectorWalk.None).Walk);
    }

    /// <summary>The scorer with no wider bit-vector walk than <paramref name="walk"/>; the CPU may allow less.</summary>
    private static TreeEnsembleScorer Compile(string text, string[] classes, string policy, VectorWalk walk) =>
        TreeEnsembleScorer.Compile(Manifest("lightgbm", Canonical, classes, policy), Encoding.UTF8.GetBytes(text), "test model", walk);

    [Fact]
    public void FloatThreshold_AnyDouble_DecidesFloatsLikeTheDoubleComparison()
    {
        var random = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            double threshold = random.Next(4) switch
            {
                0 => (double)(float)(random.NextDouble() * 100 - 50),
                1 => random.Next(2) == 0 ? double.MaxValue : -double.MaxValue,
                _ => (random.NextDouble() * 100) - 50,
            };
            float f = TreeEnsembleScorer.FloatThreshold(threshold);
            float exact = (float)threshold;
            foreach (float v in new[] { exact, MathF.BitIncrement(exact), MathF.BitDecrement(exact), float.MaxValue, -float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, 0f })
            {
                Assert.Equal((double)v <= threshold, v <= f);
            }
        }
    }

    /// <summary>Rows mixing uniform values, values at and next to the model's thresholds, NaN, ±∞ and ±float.MaxValue.</summary>
    internal static float[] RandomRows(Random random, int count, string modelText)
    {
        double[] thresholds = [.. modelText.Split('\n')
            .Where(l => l.StartsWith("threshold=", StringComparison.Ordinal))
            .SelectMany(l => l["threshold=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))];
        var rows = new float[count * FeatureSchema.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            float near = thresholds.Length == 0 ? 0f : (float)thresholds[random.Next(thresholds.Length)];
            rows[i] = random.Next(10) switch
            {
                0 => float.NaN,
                1 => random.Next(2) == 0 ? float.PositiveInfinity : float.NegativeInfinity,
                2 => random.Next(2) == 0 ? float.MaxValue : -float.MaxValue,
                3 => near,
                4 => MathF.BitIncrement(near),
                5 => MathF.BitDecrement(near),
                _ => (float)((random.NextDouble() * 2) - 1),
            };
        }

        return rows;
    }
}
