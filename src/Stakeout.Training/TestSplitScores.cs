using Stakeout.Core;
using Stakeout.Evaluation;

namespace Stakeout.Training;

/// <summary>The held-out test split scored again for pictures: the same model, rows and rule as <see cref="TrainResult.Test"/>.</summary>
public static class TestSplitScores
{
    /// <summary>
    /// An accumulator holding the test split's probabilities, built exactly as <see cref="TrainResult.Test"/> was (the
    /// exported model, the manifest threshold), so its <see cref="EvaluationAccumulator.Compute"/> equals that result and
    /// its <see cref="EvaluationAccumulator.ComputeCurves"/> draws the same model. Empty when the split has no test rows.
    /// </summary>
    public static EvaluationAccumulator Accumulate(TrainResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var table = result.Table;
        var rows = result.Split.Test;
        var model = result.Model;
        int benign = -1;
        for (int i = 0; i < table.Classes.Count; i++)
        {
            if (string.Equals(table.Classes[i], LabelTaxonomy.Benign, StringComparison.Ordinal))
            {
                benign = i;
            }
        }

        return TrainingRun.Accumulate(model, table, rows, benign, result.Artifact.Manifest.Threshold, keepScores: true);
    }

    /// <summary>Up to <paramref name="max"/> test-split rows (78 canonical floats each), evenly spread, for explanations.</summary>
    public static IReadOnlyList<float[]> SampleRows(TrainResult result, int max)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var rows = result.Split.Test.Count > 0 ? result.Split.Test : result.Split.Train;
        int n = Math.Min(max, rows.Count);
        var sample = new List<float[]>(n);
        for (int i = 0; i < n; i++)
        {
            sample.Add(result.Table.Row(rows[(int)((long)i * rows.Count / n)]).ToArray());
        }

        return sample;
    }
}
