using Stakeout.Core;
using static Stakeout.Models.Tests.TestModels;

namespace Stakeout.Models.Tests;

/// <summary>Scoring one batch on several threads must give exactly the single-call result, whatever the chunking.</summary>
public sealed class ParallelScoringTests
{
    private static readonly int[] Canonical = [0, 3, 7, 14, 15, 40, 77];

    [Theory]
    [InlineData(0, 3)]
    [InlineData(0, (3 * ParallelScoring.MinRowsPerThread) + 7)]
    [InlineData(2, (2 * ParallelScoring.MinRowsPerThread) + 33)]
    [InlineData(3, (3 * ParallelScoring.MinRowsPerThread) + 31)]
    [InlineData(7, (3 * ParallelScoring.MinRowsPerThread) - 1)]
    public void ScoreParallel_AnyRowCount_EqualsOneScoreCall(int maxThreads, int rows)
    {
        var random = new Random(rows);
        string text = RandomTrees.LightGbmText(random, trees: 12, classes: 3, features: Canonical.Length, maxLeaves: 31, withMissingTypes: false);
        var scorer = LightGbm(text, Canonical, ThreeClasses);
        float[] features = BlockedScoringTests.RandomRows(random, rows, text);
        var expected = new float[rows * 3];
        var parallel = new float[rows * 3];

        scorer.Score(features, expected);
        scorer.ScoreParallel(features, parallel, maxThreads);

        Assert.True(parallel.AsSpan().SequenceEqual(expected), $"{rows} rows on up to {maxThreads} threads differ from one Score call.");
    }

    [Fact]
    public void ScoreParallel_PartialRowOrShortOutput_Throws()
    {
        var scorer = LightGbm(MulticlassModel(), MulticlassFeatures, ThreeClasses);
        float[] rows = new float[ParallelScoring.MinRowsPerThread * 2 * FeatureSchema.Count];

        Assert.Throws<ArgumentException>(() => scorer.ScoreParallel(rows.AsMemory(1), new float[rows.Length]));
        Assert.Throws<ArgumentException>(() => scorer.ScoreParallel(rows, new float[(ParallelScoring.MinRowsPerThread * 2 * 3) - 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => scorer.ScoreParallel(rows, new float[rows.Length], maxThreads: -1));
    }
}
