using Stakeout.Ingest;

namespace Stakeout.Training.Tests;

public sealed class ReadProgressStepsTests
{
    [Theory]
    [InlineData(0L, 1000L, 0)]
    [InlineData(1L, 1000L, 0)]
    [InlineData(250L, 1000L, 25)]
    [InlineData(999L, 1000L, 99)]
    [InlineData(1000L, 1000L, 100)]
    [InlineData(0L, 0L, 100)]
    public void Percent_BytesOfTotal_WholePercent(long done, long total, int expected) =>
        Assert.Equal(expected, ReadProgressSteps.Percent(done, total));

    [Fact]
    public void Percent_FileGrewPastItsOpenSize_IsHundredNotBytes()
    {
        // A capture still being written: 200 MB read of a file that had 100 bytes (its header) when it was opened.
        Assert.Equal(100, ReadProgressSteps.Percent(200_172_050, 100));
    }

    [Fact]
    public void Percent_HugeFiles_NoOverflow()
    {
        Assert.Equal(50, ReadProgressSteps.Percent(long.MaxValue / 2, long.MaxValue));
        Assert.Equal(33, ReadProgressSteps.Percent(3_000_000_000_000_000_000, 9_000_000_000_000_000_000));
    }

    [Fact]
    public void Next_ChunksOfOneFile_OneLinePerTenPercentStepNeverAboveHundred()
    {
        var steps = new ReadProgressSteps();
        var lines = new List<string>();
        foreach (long done in new long[] { 10, 40, 120, 150, 990, 1000, 5000 })
        {
            if (steps.Next(new ReadProgress(done, 1000, done / 10, "/data/flows.csv")) is { } line)
            {
                lines.Add(line);
            }
        }

        Assert.Equal(
            ["  reading   0 % · flows.csv · 1 rows", "  reading  10 % · flows.csv · 12 rows", "  reading  90 % · flows.csv · 99 rows", "  reading 100 % · flows.csv · 100 rows"],
            lines);
    }
}
