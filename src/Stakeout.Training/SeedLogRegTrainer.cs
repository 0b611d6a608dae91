using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Stakeout.Core;

namespace Stakeout.Training;

/// <summary>The contract's "logistic-regression" payload.</summary>
internal sealed record LogisticPayload(
    [property: JsonPropertyName("features")] int[] Features,
    [property: JsonPropertyName("min")] float[] Min,
    [property: JsonPropertyName("max")] float[] Max,
    [property: JsonPropertyName("weights")] double[] Weights,
    [property: JsonPropertyName("bias")] double Bias)
{
    /// <summary>P(ATTACK) of a row of 78 canonical floats (already non-finite-mapped).</summary>
    public double Probability(ReadOnlySpan<float> row)
    {
        double z = Bias;
        for (int j = 0; j < Features.Length; j++)
        {
            float range = Max[j] - Min[j];
            float x = range > 0 ? Math.Clamp((row[Features[j]] - Min[j]) / range, 0f, 1f) : 0f;
            z += Weights[j] * x;
        }

        return 1 / (1 + Math.Exp(-z));
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this);
}

/// <summary>
/// The prototype's model, kept for comparison: Flow Duration, Total Fwd Packets and Total Backward Packets, min-max scaled,
/// class-balanced L-BFGS logistic regression on benign/attack.
/// </summary>
internal static class SeedLogRegTrainer
{
    public static readonly int[] Features = [FeatureSchema.FlowDuration, FeatureSchema.TotalFwdPackets, FeatureSchema.TotalBackwardPackets];

    public static LogisticPayload Train(TrainingTable table, IReadOnlyList<int> rows, int seed)
    {
        if (table.Classes.Count != 2 || table.Classes[0] != LabelTaxonomy.Benign)
        {
            throw new TrainingDataException("seed-logreg is a benign/attack model: train it with --labels binary.");
        }

        var min = Enumerable.Repeat(float.MaxValue, Features.Length).ToArray();
        var max = Enumerable.Repeat(-float.MaxValue, Features.Length).ToArray();
        foreach (int r in rows)
        {
            var row = table.Row(r);
            for (int j = 0; j < Features.Length; j++)
            {
                min[j] = Math.Min(min[j], row[Features[j]]);
                max[j] = Math.Max(max[j], row[Features[j]]);
            }
        }

        // Class-balanced: each class weighs N / (2 n_class), as scikit-learn's class_weight="balanced".
        var counts = table.ClassCounts(rows);
        var weights = counts.Select(n => n == 0 ? 1f : (float)((double)rows.Count / (2 * n))).ToArray();
        var ml = new MLContext(seed);
        var view = new TableDataView(table, rows, Features, weights, booleanLabel: true, scale: (min, max));
        var trainer = ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
        {
            LabelColumnName = TableDataView.LabelColumn,
            FeatureColumnName = TableDataView.FeaturesColumn,
            ExampleWeightColumnName = TableDataView.WeightColumn,
            L2Regularization = 1f,
            L1Regularization = 0f,
        });
        var model = trainer.Fit(view).Model;
        // p = 1 / (1 + exp(slope × (w·x + b) + offset)) folds into sigmoid(w'·x + b').
        double slope = model.Calibrator.Slope, offset = model.Calibrator.Offset;
        var w = model.SubModel.Weights.Select(v => -slope * v).ToArray();
        double bias = -slope * model.SubModel.Bias - offset;
        return new LogisticPayload([.. Features], min, max, w, bias);
    }
}
