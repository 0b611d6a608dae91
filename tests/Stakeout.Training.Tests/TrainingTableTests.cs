using Stakeout.Core;

namespace Stakeout.Training.Tests;

public sealed class TrainingTableTests : IDisposable
{
    private readonly Fixtures _fixtures = new();

    public void Dispose() => _fixtures.Dispose();

    [Fact]
    public void Load_DuplicatesAcrossFiles_RemovedAndCounted()
    {
        // Every row of class 0 is the same; the same file twice doubles every row.
        string a = _fixtures.Write("a.csv", [("BENIGN", 5), ("DDoS", 4)], seed: 1, value: (c, f) => c == 0 ? 1 : f + 0.5f);
        string b = Path.Combine(_fixtures.Root, "b.csv");
        File.Copy(a, b);

        var table = TrainingTable.Load([a, b], new TrainingDataOptions());

        Assert.Equal(18, table.RowsRead);
        Assert.Equal(2, table.Count);
        Assert.Equal(16, table.DuplicatesRemoved);
        Assert.Equal([1, 1], table.ClassCounts());
    }

    [Fact]
    public void Load_WithoutDeduplication_KeepsEveryRow()
    {
        string a = _fixtures.Write("a.csv", [("BENIGN", 5), ("DDoS", 4)], seed: 1, value: (c, f) => c);

        var table = TrainingTable.Load([a], new TrainingDataOptions { Deduplicate = false });

        Assert.Equal(9, table.Count);
        Assert.Equal(0, table.DuplicatesRemoved);
    }

    [Fact]
    public void Load_FamilyFileAndClassFile_DefaultsToFamilyLevel()
    {
        string families = _fixtures.Write("families.csv", [("BENIGN", 3), ("WebAttack", 3)], seed: 1, skip: FeatureSchema.DestinationPort);
        string classes = _fixtures.Write("classes.csv", [("BENIGN", 3), ("DoS Hulk", 3), ("Web Attack \u2013 XSS", 2)], seed: 2);

        var table = TrainingTable.Load([families, classes], new TrainingDataOptions());

        Assert.Equal(LabelLevel.Family, table.Level);
        Assert.Equal(["BENIGN", "DoS", "WebAttack"], table.Classes);
        Assert.Equal([6, 3, 5], table.ClassCounts());
    }

    [Fact]
    public void Load_ClassLevelAskedOfAFamilyFile_FailsNamingTheFile()
    {
        string families = _fixtures.Write("families.csv", [("BENIGN", 3), ("WebAttack", 3)], seed: 1);

        var ex = Assert.Throws<TrainingDataException>(() => TrainingTable.Load([families], new TrainingDataOptions { Level = LabelLevel.Class }));

        Assert.Contains("families.csv", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--labels family", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BinaryLevel_MapsEveryAttackToAttack()
    {
        string file = _fixtures.Write("c.csv", [("BENIGN", 3), ("DoS Hulk", 3), ("PortScan", 2)], seed: 1);

        var table = TrainingTable.Load([file], new TrainingDataOptions { Level = LabelLevel.Binary });

        Assert.Equal(["BENIGN", "ATTACK"], table.Classes);
        Assert.Equal([3, 5], table.ClassCounts());
    }

    [Fact]
    public void Load_Features_PortOffByDefaultMissingAndExcludedLeftOut()
    {
        string full = _fixtures.Write("full.csv", [("BENIGN", 3), ("DDoS", 3)], seed: 1);
        string lacking = _fixtures.Write("lacking.csv", [("BENIGN", 3), ("DDoS", 3)], seed: 2, skip: 40);

        var table = TrainingTable.Load([full, lacking], new TrainingDataOptions { ExcludeFeatures = ["init_win_bytes_forward"] });
        var withPort = TrainingTable.Load([full], new TrainingDataOptions { UsePort = true });

        Assert.DoesNotContain(FeatureSchema.DestinationPort, table.Features);
        Assert.DoesNotContain(40, table.Features);
        Assert.DoesNotContain(FeatureSchema.InitWinBytesForward, table.Features);
        Assert.Equal(FeatureSchema.Count - 3, table.Features.Count);
        Assert.Equal(["Packet Length Mean"], table.MissingFeatures);
        Assert.Contains(FeatureSchema.DestinationPort, withPort.Features);
    }

    [Fact]
    public void Load_UnknownExcludedFeature_FailsNamingIt()
    {
        string file = _fixtures.Write("c.csv", [("BENIGN", 3), ("DDoS", 3)], seed: 1);

        var ex = Assert.Throws<TrainingDataException>(() => TrainingTable.Load([file], new TrainingDataOptions { ExcludeFeatures = ["Flow Colour"] }));

        Assert.Contains("Flow Colour", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NonFiniteValues_MappedNanZeroInfMax()
    {
        string file = _fixtures.Write("c.csv", [("BENIGN", 1), ("DDoS", 1)], seed: 1, value: (c, f) => f switch
        {
            14 => c == 0 ? float.PositiveInfinity : float.NaN,
            15 => float.NegativeInfinity,
            _ => c,
        });

        var table = TrainingTable.Load([file], new TrainingDataOptions());

        Assert.Equal(float.MaxValue, table.Row(0)[14]);
        Assert.Equal(0f, table.Row(1)[14]);
        Assert.Equal(-float.MaxValue, table.Row(0)[15]);
    }

    [Fact]
    public void Load_ConstantColumn_Reported()
    {
        string file = _fixtures.Write("c.csv", [("BENIGN", 10), ("DDoS", 10)], seed: 1);

        var table = TrainingTable.Load([file], new TrainingDataOptions());

        Assert.Contains("Fwd IAT Total", table.ConstantFeatures);
        Assert.DoesNotContain("Flow Duration", table.ConstantFeatures);
    }

    [Fact]
    public void Load_OneClassOnly_Fails()
    {
        string file = _fixtures.Write("c.csv", [("BENIGN", 10)], seed: 1);

        Assert.Throws<TrainingDataException>(() => TrainingTable.Load([file], new TrainingDataOptions()));
    }

    [Fact]
    public void WriteCsv_Rows_CanonicalHeaderValuesAndLabel()
    {
        string file = _fixtures.Write("c.csv", [("BENIGN", 2), ("DDoS", 2)], seed: 1);
        var table = TrainingTable.Load([file], new TrainingDataOptions());
        string output = Path.Combine(_fixtures.Root, "out.csv");

        table.WriteCsv(output, [3, 0]);

        var lines = File.ReadAllLines(output);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("Flow Duration,Total Fwd Packets,", lines[0], StringComparison.Ordinal);
        Assert.EndsWith(",Label", lines[0], StringComparison.Ordinal);
        Assert.EndsWith(",DDoS", lines[1], StringComparison.Ordinal);
        Assert.EndsWith(",BENIGN", lines[2], StringComparison.Ordinal);
        Assert.Equal(table.Features.Count + 1, lines[1].Split(',').Length);
    }
}
