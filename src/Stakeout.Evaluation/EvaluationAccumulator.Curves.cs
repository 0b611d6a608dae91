using Stakeout.Core;

namespace Stakeout.Evaluation;

public sealed partial class EvaluationAccumulator
{
    /// <summary>
    /// Precision-recall and ROC curves per label at <paramref name="level"/> (default <see cref="SharedLevel"/>), from the
    /// probabilities kept for PR-AUC (each label's score is the sum of its model classes, as PR-AUC takes it), and the
    /// threshold sweep of the attack score 1 − P(benign) with the detector's rule (score ≥ threshold). Needs
    /// <c>keepScores</c>; labels are those <see cref="Compute"/> reports with rows.
    /// </summary>
    /// <param name="level">The level; not finer than <see cref="SharedLevel"/>.</param>
    /// <param name="maxPoints">Most points kept per PR/ROC curve (thinned evenly, ends kept).</param>
    /// <param name="thresholdPoints">Thresholds in the sweep, evenly spaced over [0, 1].</param>
    public EvaluationCurves ComputeCurves(LabelLevel? level = null, int maxPoints = 1000, int thresholdPoints = 501)
    {
        if (!_keepScores)
        {
            throw new InvalidOperationException("curves need the probabilities: create the accumulator with keepScores: true (evaluate without --no-pr-auc).");
        }

        var metrics = Compute(level);
        var state = _levels[(int)metrics.Level]!;
        var scores = new double[Rows];
        var positive = new bool[Rows];
        var classes = new List<ClassCurves>();
        foreach (string label in metrics.Confusion.Labels)
        {
            // PerClass holds the classes present in the data; a label only predicted has no curve.
            if (!metrics.PerClass.TryGetValue(label, out var perClass) || perClass.Support == 0)
            {
                continue;
            }

            int index = state.IndexOf(label);
            Gather(state, index, scores, positive);
            if (CurveMath.Curves(label, scores, positive, maxPoints) is { } curves)
            {
                classes.Add(curves);
            }
        }

        return new EvaluationCurves(metrics.Level, classes, _benignIndex < 0 ? null : Sweep(metrics, thresholdPoints));
    }

    private void Gather(LevelState state, int label, double[] scores, bool[] positive)
    {
        long row = 0;
        for (int c = 0; c < _scoreChunks.Count; c++)
        {
            float[] chunk = _scoreChunks[c];
            int[] truths = _truthChunks[c];
            int rows = (int)Math.Min(ChunkRows, Rows - ((long)c * ChunkRows));
            for (int r = 0; r < rows; r++, row++)
            {
                double s = 0;
                var probabilities = chunk.AsSpan(r * _classCount, _classCount);
                for (int k = 0; k < _classCount; k++)
                {
                    if (state.ModelToLabel[k] == label)
                    {
                        s += probabilities[k];
                    }
                }

                scores[row] = s;
                positive[row] = _truths[truths[r]].IndexAt[(int)state.Level] == label;
            }
        }
    }

    private ThresholdCurve Sweep(EvaluationMetrics metrics, int points)
    {
        var benign = new List<double>();
        var attack = new List<double>();
        long row = 0;
        for (int c = 0; c < _scoreChunks.Count; c++)
        {
            float[] chunk = _scoreChunks[c];
            int[] truths = _truthChunks[c];
            int rows = (int)Math.Min(ChunkRows, Rows - ((long)c * ChunkRows));
            for (int r = 0; r < rows; r++, row++)
            {
                // The same expression AddRow decides with, so the sweep at the chosen threshold equals the metrics.
                double attackScore = 1.0 - chunk[(r * _classCount) + _benignIndex];
                (_truths[truths[r]].Definition.IsAttack ? attack : benign).Add(attackScore);
            }
        }

        double[] benignSorted = [.. benign];
        double[] attackSorted = [.. attack];
        Array.Sort(benignSorted);
        Array.Sort(attackSorted);
        var grid = CurveMath.Grid(points);
        return new ThresholdCurve(
            grid,
            CurveMath.ShareAtOrAbove(benignSorted, grid),
            CurveMath.ShareAtOrAbove(attackSorted, grid),
            _threshold,
            metrics.BenignFpr,
            metrics.AttackRecall,
            benignSorted.Length,
            attackSorted.Length);
    }
}
