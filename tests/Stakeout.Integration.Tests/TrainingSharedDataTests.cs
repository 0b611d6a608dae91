using Stakeout.Core;
using Stakeout.Ingest;
using Stakeout.Models;
using Stakeout.Training;

namespace Stakeout.Integration.Tests;

/// <summary>Training on the real shared data: boosting stays sane, and the exported model is ML.NET's model.</summary>
public sealed class TrainingSharedDataTests
{
    private static TrainingTable LoadAll(bool deduplicate) => TrainingTable.Load(
        [SharedData.Path("cicids2017-families"), SharedData.Path("cicids2017")],
        new TrainingDataOptions { Level = LabelLevel.Family, Deduplicate = deduplicate });

    [SkippableFact]
    public void Train_AllSharedDataDefaults_TrainingLossFiniteAndDecreasing()
    {
        var table = LoadAll(deduplicate: true);
        var split = DataSplit.Create(table, SplitMode.Random, 0.3, seed: 1);

        var (model, _, rows) = LightGbmTrainer.Train(table, split.Train, new LightGbmSettings { Iterations = 25 }, seed: 1);
        int width = table.Features.Count;
        var inputs = new float[rows.Count * width];
        var labels = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            for (int j = 0; j < width; j++)
            {
                inputs[(i * width) + j] = table.Row(rows[i])[table.Features[j]];
            }

            labels[i] = table.Label(rows[i]);
        }

        var loss = model.LossByIteration(inputs, labels);

        Assert.Equal(25, loss.Length);
        Assert.All(loss, l => Assert.True(double.IsFinite(l), $"loss {l}"));
        for (int i = 1; i < loss.Length; i++)
        {
            // Unweighted log-loss under class weights need not fall every round, but it must never blow up.
            Assert.True(loss[i] <= loss[i - 1] * 1.01, $"training loss rose at round {i}: {loss[i - 1]} -> {loss[i]}");
        }

        Assert.True(loss[^1] < 0.1 * loss[0], $"training loss fell only from {loss[0]} to {loss[^1]}");
    }

    [SkippableFact]
    public void Export_AllSharedDataRows_EqualsMlNetWithin1e5()
    {
        // Every row of the shared data, duplicates included, scored by ML.NET and by a walk of the exported text.
        var table = LoadAll(deduplicate: false);
        var split = DataSplit.Create(table, SplitMode.Random, 0.3, seed: 1);
        var (model, transformer, _) = LightGbmTrainer.Train(table, split.Train, new LightGbmSettings { Iterations = 10 }, seed: 1);
        var all = Enumerable.Range(0, table.Count).ToArray();

        var ml = TrainingRun.MlNetProbabilities(transformer, table, all);
        var exported = new ExportedModel(model, null, table.Classes.Count);
        int k = table.Classes.Count;
        var p = new double[k];
        double max = 0;
        for (int i = 0; i < all.Length; i++)
        {
            exported.Predict(table.Row(all[i]), p);
            for (int c = 0; c < k; c++)
            {
                max = Math.Max(max, Math.Abs(p[c] - ml[(i * k) + c]));
            }
        }

        Assert.Equal(18491, table.Count);
        Assert.InRange(max, 0, 1e-5);

        // The runtime's fast scorer on the same rows as read from disk (Infinity and NaN included: it maps them itself).
        var manifest = new ModelManifest
        {
            ModelKind = "lightgbm",
            Features = [.. table.Features.Select(f => new ManifestFeature(f, FeatureSchema.Features[f].Name))],
            LabelLevel = "family",
            Classes = table.Classes,
            NonFinite = NonFiniteMapping.Name,
        };
        var scorer = ModelArtifact.Create(manifest, System.Text.Encoding.UTF8.GetBytes(model.ToLightGbmText())).CreateScorer();
        var read = new FlowCsvReader().Open([SharedData.Path("cicids2017-families"), SharedData.Path("cicids2017")]);
        int row = 0;
        double scorerMax = 0;
        long nonFinite = 0;
        foreach (var batch in read.ReadBatches())
        {
            var features = batch.Features.AsSpan(0, batch.Count * FeatureSchema.Count);
            foreach (float v in features)
            {
                nonFinite += float.IsFinite(v) ? 0 : 1;
            }

            var probabilities = new float[batch.Count * k];
            scorer.Score(features, probabilities);
            for (int i = 0; i < batch.Count * k; i++)
            {
                scorerMax = Math.Max(scorerMax, Math.Abs(probabilities[i] - ml[(row * k) + i]));
            }

            row += batch.Count;
        }

        Assert.Equal(table.Count, row);
        Assert.True(nonFinite > 0, "the shared data should hold Infinity/NaN cells");
        Assert.InRange(scorerMax, 0, 1e-5);
    }
}
