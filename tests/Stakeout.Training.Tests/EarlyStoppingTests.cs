namespace Stakeout.Training.Tests;

public sealed class EarlyStoppingTests : IDisposable
{
    private readonly Fixtures _fixtures = new();

    public void Dispose() => _fixtures.Dispose();

    [Theory]
    [InlineData(new[] { 5.0, 4.0, 3.0, 2.0 }, 2, 4)] // still falling at the end: the last round
    [InlineData(new[] { 5.0, 3.0, 4.0, 4.0, 1.0 }, 2, 2)] // two rounds without a new lowest: stop, 1.0 is never seen
    [InlineData(new[] { 5.0, 3.0, 4.0, 4.0, 1.0 }, 3, 5)] // patience 3 reaches it
    [InlineData(new[] { 2.0, 2.0, 2.0 }, 1, 1)] // ties are no improvement: the earliest round
    public void BestRound_LossCurve_LightGbmRule(double[] losses, int patience, int expected) =>
        Assert.Equal(expected, TrainingRun.BestRound(losses, patience));

    [Fact]
    public void CarveValidation_TrainingRows_StratifiedDisjointSubsetWithEveryClass()
    {
        string file = _fixtures.Write("c.csv", [("BENIGN", 200), ("DDoS", 60), ("Bot", 3), ("PortScan", 1)], seed: 1);
        var table = TrainingTable.Load([file], new TrainingDataOptions());
        var split = DataSplit.Create(table, SplitMode.Random, 0.3, seed: 7);

        var (fit, validation) = DataSplit.CarveValidation(table, split.Train, 0.1, seed: 7);

        Assert.Equal(split.Train.Order(), fit.Concat(validation).Order());
        Assert.Empty(validation.Intersect(split.Test));
        Assert.Empty(fit.Intersect(validation));
        var counts = table.ClassCounts(validation);
        int benign = table.Classes.ToList().IndexOf("BENIGN");
        int bot = table.Classes.ToList().IndexOf("Bot");
        int scan = table.Classes.ToList().IndexOf("PortScan");
        Assert.Equal(14, counts[benign]); // round(140 × 0.1)
        Assert.Equal(1, counts[bot]); // 2 training rows: at least one validates
        Assert.Equal(0, counts[scan]); // a single row stays in fitting
        Assert.Equal(validation, DataSplit.CarveValidation(table, split.Train, 0.1, seed: 7).Validation);
    }

    [Fact]
    public void Execute_EarlyStopping_FinalModelHasTheChosenRoundsAndRecordsTheRule()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 120), ("DDoS", 80), ("PortScan", 60)], seed: 2);
        var log = new ListLog();

        var result = new TrainingRun(log, TimeProvider.System).Execute(new TrainOptions
        {
            Paths = [a],
            LightGbm = new LightGbmSettings { Iterations = 40, Leaves = 4, MinDataInLeaf = 3, EarlyStoppingRounds = 5 },
        });
        var hyper = result.Artifact.Manifest.Hyperparameters;
        int chosen = int.Parse(hyper["num_iterations"], System.Globalization.CultureInfo.InvariantCulture);

        Assert.InRange(chosen, 1, 40);
        Assert.Equal("40", hyper["early_stopping_max_rounds"]);
        Assert.Equal("5", hyper["early_stopping_rounds"]);
        Assert.Equal(chosen * 3, result.Model!.Gbdt!.Trees.Count);
        Assert.Contains(log.Lines, l => l.StartsWith("early stopping on", StringComparison.Ordinal) && l.Contains($"lowest at round {chosen} ", StringComparison.Ordinal));
    }
}
