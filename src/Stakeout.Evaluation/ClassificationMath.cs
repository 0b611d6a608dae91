namespace Stakeout.Evaluation;

/// <summary>The arithmetic behind the reports, kept apart so each formula can be checked against hand-computed answers.</summary>
public static class ClassificationMath
{
    /// <summary>
    /// Precision, recall, F1 and support of every label of a confusion matrix (rows: truth, columns: prediction).
    /// A ratio whose denominator is 0 is 0, as scikit-learn's <c>zero_division</c> default reports it.
    /// </summary>
    public static ClassMetrics[] PerClass(long[][] confusion)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        int n = confusion.Length;
        var result = new ClassMetrics[n];
        for (int k = 0; k < n; k++)
        {
            if (confusion[k].Length != n)
            {
                throw new ArgumentException($"confusion row {k} has {confusion[k].Length} cells; a {n}-label matrix needs {n}.", nameof(confusion));
            }

            long tp = confusion[k][k];
            long support = 0;
            long predicted = 0;
            for (int j = 0; j < n; j++)
            {
                support += confusion[k][j];
                predicted += confusion[j][k];
            }

            double precision = Ratio(tp, predicted);
            double recall = Ratio(tp, support);
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            result[k] = new ClassMetrics(precision, recall, f1, support);
        }

        return result;
    }

    /// <summary>
    /// Average precision of one class (one-vs-rest), the area under its precision-recall curve as scikit-learn's
    /// <c>average_precision_score</c> defines it: AP = Σ (R_k − R_{k−1}) · P_k over the distinct score thresholds, from
    /// the highest down. Rows with equal scores cross the threshold together, so their order never matters.
    /// Returns null when there is no positive row (recall is undefined).
    /// </summary>
    /// <param name="scores">The class's score per row (its probability).</param>
    /// <param name="positive">Whether each row truly is the class.</param>
    public static double? AveragePrecision(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positive)
    {
        if (scores.Length != positive.Length)
        {
            throw new ArgumentException($"scores has {scores.Length} entries and positive {positive.Length}; they must match.", nameof(positive));
        }

        long positives = 0;
        foreach (bool p in positive)
        {
            positives += p ? 1 : 0;
        }

        if (positives == 0)
        {
            return null;
        }

        // Sort row indices by score, highest first; the tie order is irrelevant because ties are consumed as one group.
        int[] order = new int[scores.Length];
        double[] keys = new double[scores.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
            keys[i] = -scores[i];
        }

        Array.Sort(keys, order);
        double ap = 0;
        double previousRecall = 0;
        long tp = 0;
        long seen = 0;
        int at = 0;
        while (at < order.Length)
        {
            double threshold = keys[at];
            // Equals, not ==: a NaN score must still form a group of its own instead of stalling the loop.
            while (at < order.Length && keys[at].Equals(threshold))
            {
                tp += positive[order[at]] ? 1 : 0;
                seen++;
                at++;
            }

            double recall = (double)tp / positives;
            double precision = (double)tp / seen;
            ap += (recall - previousRecall) * precision;
            previousRecall = recall;
        }

        return ap;
    }

    private static double Ratio(long numerator, long denominator) => denominator == 0 ? 0 : (double)numerator / denominator;
}
