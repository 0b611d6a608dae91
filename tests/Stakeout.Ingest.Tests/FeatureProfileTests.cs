using Stakeout.Core;

namespace Stakeout.Ingest.Tests;

public sealed class FeatureProfileTests
{
    /// <summary>Batches with the quirks a profile must count: Infinity, -Infinity, NaN and finite values of every size.</summary>
    private static List<FlowBatch> Batches(int count, int rows, int seed)
    {
        var random = new Random(seed);
        var batches = new List<FlowBatch>();
        for (int b = 0; b < count; b++)
        {
            var batch = new FlowBatch(rows, withIdentity: false) { Count = rows };
            for (int i = 0; i < rows * FeatureSchema.Count; i++)
            {
                batch.Features[i] = random.Next(20) switch
                {
                    0 => float.PositiveInfinity,
                    1 => float.NegativeInfinity,
                    2 => float.NaN,
                    _ => (float)((random.NextDouble() - 0.3) * Math.Pow(10, random.Next(8))),
                };
            }

            batches.Add(batch);
        }

        return batches;
    }

    [Fact]
    public void Collect_ManyBatchesInParallel_SameStatisticsToTheBitAsAddingInOrder()
    {
        var batches = Batches(count: 9, rows: 37, seed: 5);
        var sequential = new FeatureProfile();
        foreach (var batch in batches)
        {
            sequential.Add(batch);
        }

        var collected = FeatureProfile.Collect(batches, parallelism: 3);

        Assert.Equal(sequential.Rows, collected.Rows);
        Assert.Equal(9 * 37, collected.Rows);
        var expected = sequential.Results();
        var actual = collected.Results();
        for (int f = 0; f < FeatureSchema.Count; f++)
        {
            Assert.Equal(expected[f].Finite, actual[f].Finite);
            Assert.Equal(expected[f].Missing, actual[f].Missing);
            Assert.Equal(expected[f].PositiveInfinity, actual[f].PositiveInfinity);
            Assert.Equal(expected[f].NegativeInfinity, actual[f].NegativeInfinity);
            Assert.Equal(expected[f].Min, actual[f].Min);
            Assert.Equal(expected[f].Max, actual[f].Max);
            // Sums are added per batch, then merged: the same numbers in another grouping, equal to rounding.
            AssertClose(expected[f].Mean!.Value, actual[f].Mean!.Value);
            AssertClose(expected[f].Std!.Value, actual[f].Std!.Value);
        }
    }

    private static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"{expected} != {actual}");

    [Fact]
    public void Collect_SameBatchesTwice_IdenticalResults()
    {
        var batches = Batches(count: 7, rows: 50, seed: 11);

        var first = FeatureProfile.Collect(batches, parallelism: 2).Results();
        var second = FeatureProfile.Collect(batches, parallelism: 4).Results();

        Assert.Equal(first, second);
    }

    [Fact]
    public void Merge_EmptyProfile_ChangesNothing()
    {
        var batch = Batches(count: 1, rows: 10, seed: 3)[0];
        var profile = new FeatureProfile();
        profile.Add(batch);
        var before = profile.Results();

        profile.Merge(new FeatureProfile());

        Assert.Equal(before, profile.Results());
        Assert.Equal(10, profile.Rows);
    }
}
