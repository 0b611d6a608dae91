using Stakeout.Core;
using Stakeout.Models;

namespace Stakeout.Reports;

/// <summary>
/// Global importance from the artifact's exact TreeSHAP: for each model class, the mean |contribution| of each feature to
/// that class's raw score over a sample of rows. Unlike split gain it describes how the flows given were scored.
/// </summary>
public sealed class ShapImportance
{
    private ShapImportance(IReadOnlyList<string> classes, double[][] meanAbs, int rows)
    {
        Classes = classes;
        MeanAbs = meanAbs;
        Rows = rows;
    }

    /// <summary>The model's classes.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>[class][feature] mean |SHAP|.</summary>
    public IReadOnlyList<double[]> MeanAbs { get; }

    /// <summary>Rows explained.</summary>
    public int Rows { get; }

    /// <summary>Explains each of <paramref name="rows"/> (78 canonical floats each) for every class with <paramref name="scorer"/>.</summary>
    public static ShapImportance Compute(IFlowScorer scorer, IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(rows);
        int k = scorer.Classes.Count;
        int explained = k;
        var sums = new double[explained][];
        for (int c = 0; c < explained; c++)
        {
            sums[c] = new double[FeatureSchema.Count];
        }

        var gate = new Lock();
        Parallel.For(0, rows.Count, () => (new double[FeatureSchema.Count + 1], new double[explained, FeatureSchema.Count]), (r, _, state) =>
        {
            var (buffer, local) = state;
            for (int c = 0; c < explained; c++)
            {
                scorer.Explain(rows[r], c, buffer);
                for (int f = 0; f < FeatureSchema.Count; f++)
                {
                    local[c, f] += Math.Abs(buffer[f]);
                }
            }

            return state;
        }, state =>
        {
            lock (gate)
            {
                for (int c = 0; c < explained; c++)
                {
                    for (int f = 0; f < FeatureSchema.Count; f++)
                    {
                        sums[c][f] += state.Item2[c, f];
                    }
                }
            }
        });
        foreach (var s in sums)
        {
            for (int f = 0; f < s.Length; f++)
            {
                s[f] /= Math.Max(1, rows.Count);
            }
        }

        return new ShapImportance(scorer.Classes, sums, rows.Count);
    }

    /// <summary>The <paramref name="n"/> features with the largest summed mean |SHAP|, largest first (features never used left out).</summary>
    public IReadOnlyList<int> Top(int n) =>
        [.. Enumerable.Range(0, FeatureSchema.Count)
            .Select(f => (f, total: MeanAbs.Sum(c => c[f])))
            .Where(x => x.total > 0)
            .OrderByDescending(x => x.total)
            .Take(n)
            .Select(x => x.f)];
}
