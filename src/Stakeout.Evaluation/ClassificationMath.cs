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
        if (!ThresholdWalk.TryStart(scores, positive, out var walk))
        {
            return null;
        }

        double ap = 0;
        double previousRecall = 0;
        while (walk.MoveNext())
        {
            double recall = (double)walk.TruePositives / walk.Positives;
            double precision = (double)walk.TruePositives / (walk.TruePositives + walk.FalsePositives);
            ap += (recall - previousRecall) * precision;
            previousRecall = recall;
        }

        return ap;
    }

    private static double Ratio(long numerator, long denominator) => denominator == 0 ? 0 : (double)numerator / denominator;
}

/// <summary>
/// One class's rows walked from the highest score down, one distinct score at a time, with the true and false positives
/// at or above it: the operating points behind average precision and the ROC and precision-recall curves.
/// </summary>
/// <remarks>
/// The positives' and the negatives' scores are sorted apart (a plain sort of one array is about twice as fast as
/// sorting an index array by key), then walked together, each distinct score taken as one group from both. Keys are
/// negated scores in ascending order; Array.Sort puts NaN first, so a NaN score forms the first group, as it did when all
/// rows were sorted together.
/// </remarks>
internal struct ThresholdWalk
{
    private readonly double[] _hits;
    private readonly double[] _misses;
    private int _h;
    private int _m;

    private ThresholdWalk(double[] hits, double[] misses)
    {
        _hits = hits;
        _misses = misses;
    }

    /// <summary>Rows of the class.</summary>
    public readonly long Positives => _hits.Length;

    /// <summary>Rows of other classes.</summary>
    public readonly long Negatives => _misses.Length;

    /// <summary>The current threshold (a score).</summary>
    public double Threshold { get; private set; }

    /// <summary>Rows of the class at or above <see cref="Threshold"/>.</summary>
    public long TruePositives { get; private set; }

    /// <summary>Rows of other classes at or above <see cref="Threshold"/>.</summary>
    public long FalsePositives { get; private set; }

    /// <summary>Sorts the rows for the walk; false when no row is of the class (recall is undefined).</summary>
    public static bool TryStart(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positive, out ThresholdWalk walk)
    {
        if (scores.Length != positive.Length)
        {
            throw new ArgumentException($"scores has {scores.Length} entries and positive {positive.Length}; they must match.", nameof(positive));
        }

        int positives = 0;
        foreach (bool p in positive)
        {
            positives += p ? 1 : 0;
        }

        walk = default;
        if (positives == 0)
        {
            return false;
        }

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
        walk = new ThresholdWalk(hits, misses);
        return true;
    }

    /// <summary>Steps down to the next distinct score; false after the lowest.</summary>
    public bool MoveNext()
    {
        if (_h == _hits.Length && _m == _misses.Length)
        {
            return false;
        }

        double key = _h == _hits.Length ? _misses[_m]
            : _m == _misses.Length ? _hits[_h]
            : _hits[_h].CompareTo(_misses[_m]) <= 0 ? _hits[_h] : _misses[_m];

        // Equals, not ==: a NaN score must still form a group of its own instead of stalling the walk.
        while (_h < _hits.Length && _hits[_h].Equals(key))
        {
            TruePositives++;
            _h++;
        }

        while (_m < _misses.Length && _misses[_m].Equals(key))
        {
            FalsePositives++;
            _m++;
        }

        Threshold = -key;
        return true;
    }
}
