using Stakeout.Core;

namespace Stakeout.Evaluation;

/// <summary>
/// One label's one-vs-rest curves, from its probability (the model's classes summed at the level, as PR-AUC takes it):
/// the precision-recall and ROC operating points at each distinct score, highest first, thinned to a plotting budget.
/// </summary>
/// <param name="Label">The label.</param>
/// <param name="Positives">Rows truly of the label.</param>
/// <param name="Negatives">Every other row.</param>
/// <param name="Thresholds">Score of each operating point (a row is predicted positive when its score is at least this).</param>
/// <param name="Recall">Recall (= true-positive rate) at each point.</param>
/// <param name="Precision">Precision at each point.</param>
/// <param name="FalsePositiveRate">False-positive rate at each point.</param>
/// <param name="RocAuc">Area under the ROC curve (trapezoids over every distinct score, before thinning); null without positives or negatives.</param>
/// <param name="AveragePrecision">Average precision, exactly as <see cref="EvaluationMetrics.PrAuc"/> reports it.</param>
public sealed record ClassCurves(
    string Label,
    long Positives,
    long Negatives,
    IReadOnlyList<double> Thresholds,
    IReadOnlyList<double> Recall,
    IReadOnlyList<double> Precision,
    IReadOnlyList<double> FalsePositiveRate,
    double? RocAuc,
    double? AveragePrecision);

/// <summary>
/// The alert threshold swept over [0, 1]: the share of BENIGN rows and of attack rows whose attack score 1 − P(benign)
/// reaches it (the detector's rule, as <see cref="EvaluationAccumulator"/> applies it).
/// </summary>
/// <param name="Thresholds">Evenly spaced thresholds from 0 to 1.</param>
/// <param name="BenignFpr">BENIGN false-positive rate at each threshold (empty without BENIGN rows).</param>
/// <param name="AttackRecall">Attack recall at each threshold (empty without attack rows).</param>
/// <param name="Chosen">The threshold in force.</param>
/// <param name="ChosenBenignFpr">BENIGN false-positive rate at <paramref name="Chosen"/>, as the metrics report it.</param>
/// <param name="ChosenAttackRecall">Attack recall at <paramref name="Chosen"/>, as the metrics report it.</param>
/// <param name="BenignRows">BENIGN rows.</param>
/// <param name="AttackRows">Attack rows.</param>
public sealed record ThresholdCurve(
    IReadOnlyList<double> Thresholds,
    IReadOnlyList<double> BenignFpr,
    IReadOnlyList<double> AttackRecall,
    double Chosen,
    double? ChosenBenignFpr,
    double? ChosenAttackRecall,
    long BenignRows,
    long AttackRows);

/// <summary>Curves of one evaluation at one level: per label, and the threshold sweep (null when the model has no benign class).</summary>
/// <param name="Level">The level compared at.</param>
/// <param name="Classes">Per label with rows, in the metrics' order.</param>
/// <param name="Threshold">The threshold sweep.</param>
public sealed record EvaluationCurves(LabelLevel Level, IReadOnlyList<ClassCurves> Classes, ThresholdCurve? Threshold);

/// <summary>The arithmetic of the curves, kept apart so each can be checked against hand-computed answers.</summary>
public static class CurveMath
{
    /// <summary>
    /// Operating points of one class from its scores: at each distinct score, highest first, the rows at or above it are
    /// predicted positive (ties cross together, NaN ranked first as in <see cref="ClassificationMath.AveragePrecision"/>).
    /// Returns null when there is no positive row.
    /// </summary>
    public static ClassCurves? Curves(string label, ReadOnlySpan<double> scores, ReadOnlySpan<bool> positive, int maxPoints = 1000)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (scores.Length != positive.Length)
        {
            throw new ArgumentException($"scores has {scores.Length} entries and positive {positive.Length}; they must match.", nameof(positive));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 2);
        if (!ThresholdWalk.TryStart(scores, positive, out var walk))
        {
            return null;
        }

        long positives = walk.Positives;
        long negatives = walk.Negatives;
        var thresholds = new List<double>();
        var recall = new List<double>();
        var precision = new List<double>();
        var fpr = new List<double>();
        double auc = 0, previousTpr = 0, previousFpr = 0, ap = 0;
        while (walk.MoveNext())
        {
            long tp = walk.TruePositives, fp = walk.FalsePositives;
            double tpr = (double)tp / positives;
            double f = negatives == 0 ? 0 : (double)fp / negatives;
            double p = (double)tp / (tp + fp);
            auc += (f - previousFpr) * (tpr + previousTpr) / 2;
            ap += (tpr - previousTpr) * p;         // as ClassificationMath.AveragePrecision sums it, from the same walk
            previousTpr = tpr;
            previousFpr = f;
            thresholds.Add(walk.Threshold);
            recall.Add(tpr);
            precision.Add(p);
            fpr.Add(f);
        }

        var keep = Thin(thresholds.Count, maxPoints);
        return new ClassCurves(
            label,
            positives,
            negatives,
            [.. keep.Select(i => thresholds[i])],
            [.. keep.Select(i => recall[i])],
            [.. keep.Select(i => precision[i])],
            [.. keep.Select(i => fpr[i])],
            negatives == 0 ? null : auc,
            ap);
    }

    /// <summary>
    /// Share of <paramref name="sortedScores"/> (ascending) at or above each of <paramref name="thresholds"/>: the rule
    /// "alert when the score reaches the threshold".
    /// </summary>
    public static double[] ShareAtOrAbove(double[] sortedScores, IReadOnlyList<double> thresholds)
    {
        ArgumentNullException.ThrowIfNull(sortedScores);
        ArgumentNullException.ThrowIfNull(thresholds);
        var result = new double[thresholds.Count];
        if (sortedScores.Length == 0)
        {
            return [];
        }

        for (int i = 0; i < thresholds.Count; i++)
        {
            result[i] = (double)(sortedScores.Length - LowerBound(sortedScores, thresholds[i])) / sortedScores.Length;
        }

        return result;
    }

    /// <summary>Evenly spaced thresholds from 0 to 1 inclusive.</summary>
    public static double[] Grid(int points)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 2);
        return [.. Enumerable.Range(0, points).Select(i => (double)i / (points - 1))];
    }

    /// <summary>First index whose value is not below <paramref name="value"/> (NaN sorts first and is never at or above a threshold).</summary>
    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (double.IsNaN(sorted[mid]) || sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Indices to keep: at most <paramref name="max"/>, evenly spread, always the first and the last.</summary>
    private static int[] Thin(int count, int max)
    {
        if (count <= max)
        {
            return [.. Enumerable.Range(0, count)];
        }

        var keep = new SortedSet<int>();
        for (int i = 0; i < max; i++)
        {
            keep.Add((int)Math.Round((double)i * (count - 1) / (max - 1)));
        }

        return [.. keep];
    }
}
