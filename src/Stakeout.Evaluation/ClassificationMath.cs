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
    /// Returns null when there is no positive row (recall is undefined). Unlike scikit-learn, which refuses NaN scores,
    /// a NaN score is ranked above every number (one group of its own), so a model that emits NaN is measured, not
    /// rejected; the runtime scorer never emits NaN.
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

        // The positives' and the negatives' scores are sorted apart (a plain sort of one array is about twice as fast as
        // sorting an index array by key), then walked together from the highest score down, each distinct score taken as
        // one group from both. Keys are negated scores in ascending order; Array.Sort puts NaN first, so a NaN score forms
        // the first group, as it did when all rows were sorted together.
        double[] hits = new double[positives];
        double[] misses = new double[scores.Length - positives];
        int h = 0, m = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (positive[i])
            {
                hits[h++] = -scores[i];
            }
            else
            {
                misses[m++] = -scores[i];
            }
        }

        Array.Sort(hits);
        Array.Sort(misses);
        double ap = 0;
        double previousRecall = 0;
        long tp = 0;
        long seen = 0;
        h = 0;
        m = 0;
        while (h < hits.Length || m < misses.Length)
        {
            double threshold = h == hits.Length ? misses[m]
                : m == misses.Length ? hits[h]
                : hits[h].CompareTo(misses[m]) <= 0 ? hits[h] : misses[m];
            // Equals, not ==: a NaN score must still form a group of its own instead of stalling the loop.
            while (h < hits.Length && hits[h].Equals(threshold))
            {
                tp++;
                seen++;
                h++;
            }

            while (m < misses.Length && misses[m].Equals(threshold))
            {
                seen++;
                m++;
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
