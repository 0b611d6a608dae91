namespace Stakeout.Training.Tests;

public sealed class LightGbmSettingsTests : IDisposable
{
    private readonly Fixtures _fixtures = new();

    public void Dispose() => _fixtures.Dispose();

    [Theory]
    [InlineData(0, 10, 1)]
    [InlineData(0, LightGbmSettings.SingleThreadBelowRows - 1, 1)]
    [InlineData(3, 10, 3)]
    [InlineData(1, 5_000_000, 1)]
    public void ThreadsFor_ExplicitOrSmallTable_ChoosesAsDocumented(int threads, int rows, int expected)
    {
        Assert.Equal(expected, new LightGbmSettings { Threads = threads }.ThreadsFor(rows));
    }

    [Fact]
    public void ThreadsFor_LargeTableAndAuto_OnePerProcessor()
    {
        Assert.Equal(Environment.ProcessorCount, new LightGbmSettings().ThreadsFor(LightGbmSettings.SingleThreadBelowRows));
    }

    [Theory]
    [InlineData(0.0, 1.0, "FeatureFraction")]
    [InlineData(1.5, 1.0, "FeatureFraction")]
    [InlineData(1.0, 0.0, "BaggingFraction")]
    [InlineData(1.0, -0.2, "BaggingFraction")]
    [InlineData(1.0, double.NaN, "BaggingFraction")]
    public void Validate_FractionOutOfRange_NamesTheSetting(double feature, double bagging, string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new LightGbmSettings { FeatureFraction = feature, BaggingFraction = bagging }.Validate());

        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void Execute_SubsamplingSettings_RecordedAndStillEqualToMlNet()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 80), ("DDoS", 60), ("PortScan", 40)], seed: 3);
        LightGbmSettings Settings(double fraction) => new() { Iterations = 15, Leaves = 8, MinDataInLeaf = 3, FeatureFraction = fraction, BaggingFraction = fraction };

        var full = new TrainingRun(new ListLog(), TimeProvider.System).Execute(new TrainOptions { Paths = [a], LightGbm = Settings(1.0), Seed = 2 });
        var sub = new TrainingRun(new ListLog(), TimeProvider.System).Execute(new TrainOptions { Paths = [a], LightGbm = Settings(0.5), Seed = 2 });

        Assert.Equal("0.5", sub.Artifact.Manifest.Hyperparameters["feature_fraction"]);
        Assert.Equal("0.5", sub.Artifact.Manifest.Hyperparameters["bagging_fraction"]);
        Assert.Equal("1", full.Artifact.Manifest.Hyperparameters["bagging_fraction"]);
        // Subsampling reaches LightGBM: the trees differ, and the export still equals ML.NET's own predictions.
        Assert.False(full.Artifact.Payload.Span.SequenceEqual(sub.Artifact.Payload.Span));
        Assert.InRange(sub.ExportMaxAbsDiff, 0, 1e-5);
    }

    [Fact]
    public void Execute_SmallTable_LogsOneThread()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 40), ("DDoS", 30)], seed: 4);
        var log = new ListLog();

        new TrainingRun(log, TimeProvider.System).Execute(new TrainOptions { Paths = [a], LightGbm = new LightGbmSettings { Iterations = 5, Leaves = 4, MinDataInLeaf = 3 } });

        Assert.Contains(log.Lines, l => l.StartsWith("fitting LightGBM", StringComparison.Ordinal) && l.EndsWith("threads 1", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(ImbalanceHandling.BenignHalf)]
    [InlineData(ImbalanceHandling.BalancedWeights)]
    [InlineData(ImbalanceHandling.ClassWeights)]
    [InlineData(ImbalanceHandling.BalancedSampling)]
    [InlineData(ImbalanceHandling.None)]
    public void ParseImbalance_ManifestName_RoundTrips(ImbalanceHandling mode)
    {
        string name = new LightGbmSettings { Imbalance = mode }.ToDictionary()["imbalance"];

        Assert.Equal(mode, LightGbmSettings.ParseImbalance(name));
    }

    [Fact]
    public void ParseImbalance_UnknownName_ListsTheKnownOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => LightGbmSettings.ParseImbalance("smote"));

        Assert.Contains("'smote'", error.Message, StringComparison.Ordinal);
        Assert.Contains("benign-half", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5, 10)]
    [InlineData(10, 10)]
    [InlineData(0, 3)]
    public void EvenSample_NoMoreThanMax_ReturnsAllInOrder(int count, int max)
    {
        var rows = Enumerable.Range(100, count).ToArray();

        Assert.Equal(rows, TrainingRun.EvenSample(rows, max));
    }

    [Fact]
    public void EvenSample_MoreThanMax_EvenlySpacedDistinctAndOrdered()
    {
        var rows = Enumerable.Range(0, 1000).Select(i => i * 3).ToArray();

        var sample = TrainingRun.EvenSample(rows, 7);

        Assert.Equal(7, sample.Count);
        Assert.Equal(0, sample[0]);
        Assert.Equal(sample.OrderBy(x => x), sample);
        Assert.Equal(7, sample.Distinct().Count());
        Assert.All(sample, s => Assert.Contains(s, rows));
        // Spread over the whole list, not its head: the last pick lies in the last seventh.
        Assert.True(sample[^1] >= rows[6 * rows.Length / 7]);
    }
}

public sealed class FitHeartbeatTests : IDisposable
{
    private readonly Fixtures _fixtures = new();

    public void Dispose() => _fixtures.Dispose();

    /// <summary>Fires every timer once, at once, and records the period asked for and whether the timer was disposed.</summary>
    private sealed class FiringTime : TimeProvider
    {
        public List<(TimeSpan Period, RecordingTimer Timer)> Timers { get; } = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new RecordingTimer();
            Timers.Add((period, timer));
            callback(state);
            return timer;
        }
    }

    private sealed class RecordingTimer : ITimer
    {
        public bool Disposed { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose() => Disposed = true;

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public void Execute_LightGbm_FitSaysItIsStillAtWorkAndStopsSaying()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 40), ("DDoS", 30), ("PortScan", 20)], seed: 6);
        var log = new ListLog();
        var time = new FiringTime();

        new TrainingRun(log, time).Execute(new TrainOptions { Paths = [a], LightGbm = new LightGbmSettings { Iterations = 7, Leaves = 4, MinDataInLeaf = 3 } });

        var heartbeat = Assert.Single(time.Timers);
        Assert.Equal(TrainingRun.HeartbeatInterval, heartbeat.Period);
        Assert.True(heartbeat.Timer.Disposed);
        Assert.Contains(log.Lines, l => l.StartsWith("still fitting (7 rounds × 3 classes on ", StringComparison.Ordinal) && l.EndsWith(" s elapsed", StringComparison.Ordinal));
    }
}
