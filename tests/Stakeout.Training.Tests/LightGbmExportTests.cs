using System.Globalization;

namespace Stakeout.Training.Tests;

public sealed class LightGbmExportTests : IDisposable
{
    private static readonly LightGbmSettings Small = new() { Iterations = 15, Leaves = 8, MinDataInLeaf = 3 };

    private readonly Fixtures _fixtures = new();

    public void Dispose() => _fixtures.Dispose();

    private TrainingTable Table(params (string, int)[] classes)
    {
        string file = _fixtures.Write("train.csv", classes, seed: 3);
        return TrainingTable.Load([file], new TrainingDataOptions());
    }

    private static int[] All(TrainingTable table) => Enumerable.Range(0, table.Count).ToArray();

    [Fact]
    public void Export_Multiclass_ReferenceWalkEqualsMlNet()
    {
        var table = Table(("BENIGN", 120), ("DDoS", 80), ("PortScan", 60));
        var rows = All(table);

        var (model, transformer, _) = LightGbmTrainer.Train(table, rows, Small, seed: 1);
        var walker = new LightGbmTextWalker(model.ToLightGbmText());
        var ml = TrainingRun.MlNetProbabilities(transformer, table, rows);

        Assert.Equal("multiclass num_class:3", walker.Header["objective"]);
        Assert.Equal(15 * 3, walker.TreeCount);
        double maxDiff = 0;
        var inputs = new float[table.Features.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < inputs.Length; j++)
            {
                inputs[j] = table.Row(rows[i])[table.Features[j]];
            }

            var p = walker.Probabilities(inputs);
            for (int k = 0; k < 3; k++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(p[k] - ml[(i * 3) + k]));
            }
        }

        Assert.InRange(maxDiff, 0, 1e-5);
    }

    [Fact]
    public void Export_Binary_ReferenceWalkEqualsMlNetAndSigmoidRecorded()
    {
        var table = Table(("BENIGN", 100), ("DDoS", 70));
        var rows = All(table);

        var (model, transformer, _) = LightGbmTrainer.Train(table, rows, Small, seed: 1);
        string text = model.ToLightGbmText();
        var walker = new LightGbmTextWalker(text);
        var ml = TrainingRun.MlNetProbabilities(transformer, table, rows);

        Assert.Equal("binary sigmoid:0.5", walker.Header["objective"]);
        Assert.Equal("1", walker.Header["num_class"]);
        var inputs = new float[table.Features.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < inputs.Length; j++)
            {
                inputs[j] = table.Row(rows[i])[table.Features[j]];
            }

            Assert.InRange(Math.Abs(walker.Probabilities(inputs)[1] - ml[(i * 2) + 1]), 0, 1e-5);
        }
    }

    [Fact]
    public void Export_Covers_CountTheTrainingRowsAtEveryNode()
    {
        var table = Table(("BENIGN", 90), ("DDoS", 90), ("PortScan", 40));
        var rows = All(table);

        var (model, _, _) = LightGbmTrainer.Train(table, rows, Small, seed: 1);
        var walker = new LightGbmTextWalker(model.ToLightGbmText());

        for (int t = 0; t < walker.TreeCount; t++)
        {
            var tree = walker.Tree(t);
            var leafCount = LightGbmTextWalker.Ints(tree["leaf_count"]);
            var internalCount = LightGbmTextWalker.Ints(tree["internal_count"]);
            var left = LightGbmTextWalker.Ints(tree["left_child"]);
            var right = LightGbmTextWalker.Ints(tree["right_child"]);
            Assert.Equal(rows.Length, leafCount.Sum());
            if (internalCount.Length > 0)
            {
                Assert.Equal(rows.Length, internalCount[0]);
                for (int n = 0; n < internalCount.Length; n++)
                {
                    int l = left[n] < 0 ? leafCount[~left[n]] : internalCount[left[n]];
                    int r = right[n] < 0 ? leafCount[~right[n]] : internalCount[right[n]];
                    Assert.Equal(internalCount[n], l + r);
                }
            }
        }
    }

    [Fact]
    public void Export_Header_NamesFeaturesInModelOrderWithoutSpaces()
    {
        var table = Table(("BENIGN", 60), ("DDoS", 60));

        var (model, _, _) = LightGbmTrainer.Train(table, All(table), Small with { Iterations = 2 }, seed: 1);
        var walker = new LightGbmTextWalker(model.ToLightGbmText());

        var names = walker.Header["feature_names"].Split(' ');
        Assert.Equal(table.Features.Count, names.Length);
        Assert.Equal("Flow_Duration", names[0]);
        Assert.Equal((table.Features.Count - 1).ToString(CultureInfo.InvariantCulture), walker.Header["max_feature_idx"]);
        Assert.Equal("v4", walker.Header["version"]);
        Assert.Equal(table.Features.Count, walker.Header["feature_infos"].Split(' ').Length);
    }

    [Fact]
    public void LossByIteration_SeparableData_FiniteAndDecreasing()
    {
        var table = Table(("BENIGN", 80), ("DDoS", 60), ("PortScan", 50));
        var rows = All(table);

        var (model, _, _) = LightGbmTrainer.Train(table, rows, Small, seed: 1);
        var (inputs, labels) = Inputs(table, rows);
        var loss = model.LossByIteration(inputs, labels);

        Assert.All(loss, l => Assert.True(double.IsFinite(l)));
        for (int i = 1; i < loss.Length; i++)
        {
            Assert.True(loss[i] <= loss[i - 1] + 1e-9, $"loss rose at round {i}: {loss[i - 1]} -> {loss[i]}");
        }

        Assert.True(loss[^1] < loss[0] / 2, $"loss fell only from {loss[0]} to {loss[^1]}");
    }

    [Fact]
    public void Balance_Modes_WeightsRareClassesOrResamples()
    {
        var table = Table(("BENIGN", 90), ("DDoS", 10));
        var rows = All(table);

        var (weightedRows, weights) = LightGbmTrainer.Balance(table, rows, ImbalanceHandling.ClassWeights, 1);
        var (sampled, none) = LightGbmTrainer.Balance(table, rows, ImbalanceHandling.BalancedSampling, 1);

        Assert.Same(rows, weightedRows);
        Assert.NotNull(weights);
        Assert.Equal(Math.Sqrt(100.0 / (2 * 10)), weights![1], 5);
        Assert.True(weights[1] > weights[0]);
        Assert.Null(none);
        Assert.Equal([50, 50], table.ClassCounts(sampled));
    }

    [Fact]
    public void Balance_BenignHalf_BenignHalfOfTheWeightAttacksBalancedInTheRest()
    {
        var table = Table(("BENIGN", 60), ("DDoS", 30), ("PortScan", 10));
        var rows = All(table);
        var counts = table.ClassCounts(rows);
        int benign = table.Classes.ToList().IndexOf("BENIGN");

        var (same, weights) = LightGbmTrainer.Balance(table, rows, ImbalanceHandling.BenignHalf, 1);

        Assert.Same(rows, same);
        double Total(int c) => weights![c] * counts[c];
        Assert.Equal(50.0, Total(benign), 3);
        var attacks = Enumerable.Range(0, counts.Length).Where(c => c != benign && counts[c] > 0).ToArray();
        Assert.Equal(2, attacks.Length);
        Assert.All(attacks, c => Assert.Equal(25.0, Total(c), 3));
    }

    [Fact]
    public void Balance_BenignHalfWithoutBenignRows_FallsBackToBalancedWeights()
    {
        var table = Table(("DDoS", 30), ("PortScan", 10));
        var rows = All(table);

        var (_, half) = LightGbmTrainer.Balance(table, rows, ImbalanceHandling.BenignHalf, 1);
        var (_, balanced) = LightGbmTrainer.Balance(table, rows, ImbalanceHandling.BalancedWeights, 1);

        Assert.Equal(balanced, half);
    }

    internal static (float[] Inputs, int[] Labels) Inputs(TrainingTable table, int[] rows)
    {
        int width = table.Features.Count;
        var inputs = new float[rows.Length * width];
        var labels = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < width; j++)
            {
                inputs[(i * width) + j] = table.Row(rows[i])[table.Features[j]];
            }

            labels[i] = table.Label(rows[i]);
        }

        return (inputs, labels);
    }
}
