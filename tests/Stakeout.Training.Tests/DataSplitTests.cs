namespace Stakeout.Training.Tests;

public sealed class DataSplitTests : IDisposable
{
    private readonly Fixtures _fixtures = new();

    public void Dispose() => _fixtures.Dispose();

    [Fact]
    public void Create_Random_StratifiedDisjointAndSeeded()
    {
        string file = _fixtures.Write("c.csv", [("BENIGN", 100), ("DDoS", 40), ("PortScan", 10), ("Bot", 1)], seed: 1);
        var table = TrainingTable.Load([file], new TrainingDataOptions());

        var split = DataSplit.Create(table, SplitMode.Random, 0.3, seed: 7);
        var again = DataSplit.Create(table, SplitMode.Random, 0.3, seed: 7);
        var other = DataSplit.Create(table, SplitMode.Random, 0.3, seed: 8);

        Assert.Equal([30, 12, 3, 0], table.ClassCounts(split.Test));
        Assert.Equal([70, 28, 7, 1], table.ClassCounts(split.Train));
        Assert.Empty(split.Train.Intersect(split.Test));
        Assert.Equal(split.Test, again.Test);
        Assert.NotEqual(split.Test, other.Test);
    }

    [Fact]
    public void Create_ByFile_KeepsEachFileOnOneSide()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 30), ("DDoS", 30)], seed: 1);
        string b = _fixtures.Write("b.csv", [("BENIGN", 20), ("DDoS", 20)], seed: 2);
        string c = _fixtures.Write("c.csv", [("BENIGN", 10), ("DDoS", 10)], seed: 3);
        var table = TrainingTable.Load([a, b, c], new TrainingDataOptions());

        var split = DataSplit.Create(table, SplitMode.ByFile, 0.3, seed: 1);

        var testFiles = split.Test.Select(table.Source).ToHashSet();
        var trainFiles = split.Train.Select(table.Source).ToHashSet();
        Assert.Empty(testFiles.Intersect(trainFiles));
        Assert.NotEmpty(testFiles);
        Assert.NotEmpty(trainFiles);
        Assert.Equal(table.Count, split.Test.Count + split.Train.Count);
    }

    [Fact]
    public void Create_ByFileWithOneFile_FailsWithAdvice()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 30), ("DDoS", 30)], seed: 1);
        var table = TrainingTable.Load([a], new TrainingDataOptions());

        var ex = Assert.Throws<TrainingDataException>(() => DataSplit.Create(table, SplitMode.ByFile, 0.3, seed: 1));

        Assert.Contains("--split random", ex.Message, StringComparison.Ordinal);
    }
}
