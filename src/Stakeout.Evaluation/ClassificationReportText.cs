using System.Globalization;
using System.Text;

namespace Stakeout.Evaluation;

/// <summary>
/// Formats metrics as text in the manner of scikit-learn's <c>classification_report</c> (precision, recall, F1 and
/// support per label, accuracy, macro and weighted averages) followed by PR-AUC, the binary view and the confusion matrix.
/// </summary>
public static class ClassificationReportText
{
    /// <summary>The report; numbers with <paramref name="digits"/> decimals, counts in full.</summary>
    public static string Format(EvaluationMetrics metrics, int digits = 4)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (digits is < 1 or > 10)
        {
            throw new ArgumentOutOfRangeException(nameof(digits), digits, "digits must be between 1 and 10.");
        }

        var inv = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("F" + digits.ToString(inv), inv);
        string Opt(double? v) => v is { } x ? F(x) : "n/a";

        var labels = metrics.Confusion.Labels;
        int nameWidth = Math.Max("weighted avg".Length, labels.Count == 0 ? 0 : labels.Max(l => l.Length));
        int col = Math.Max(digits + 3, 9);
        var sb = new StringBuilder();
        sb.Append(inv, $"Evaluation at {EvaluationLevels.Name(metrics.Level)} level on {metrics.Rows:N0} rows (attack-score threshold {metrics.Threshold.ToString("0.####", inv)})\n\n");
        sb.Append(' ', nameWidth);
        foreach (string h in new[] { "precision", "recall", "f1-score", "support", "pr-auc" })
        {
            sb.Append(' ').Append(h.PadLeft(col));
        }

        sb.Append("\n\n");
        foreach (var (label, m) in metrics.PerClass)
        {
            sb.Append(label.PadLeft(nameWidth))
                .Append(' ').Append(F(m.Precision).PadLeft(col))
                .Append(' ').Append(F(m.Recall).PadLeft(col))
                .Append(' ').Append(F(m.F1).PadLeft(col))
                .Append(' ').Append(m.Support.ToString(inv).PadLeft(col))
                .Append(' ').Append(Opt(metrics.PrAuc.GetValueOrDefault(label)).PadLeft(col))
                .Append('\n');
        }

        sb.Append('\n');
        sb.Append("accuracy".PadLeft(nameWidth)).Append(' ', (2 * (col + 1)) + 1).Append(F(metrics.Accuracy).PadLeft(col))
            .Append(' ').Append(metrics.Rows.ToString(inv).PadLeft(col)).Append('\n');
        AppendAverage(sb, "macro avg", nameWidth, col, F(metrics.MacroPrecision), F(metrics.MacroRecall), F(metrics.MacroF1), metrics.Rows);
        AppendAverage(sb, "weighted avg", nameWidth, col, F(metrics.WeightedPrecision), F(metrics.WeightedRecall), F(metrics.WeightedF1), metrics.Rows);
        sb.Append(inv, $"\nAverages are over the {metrics.ClassesPresent.Count} class(es) present in the data.");
        if (metrics.PredictedNotInData.Count > 0)
        {
            sb.Append(inv, $" Predicted but not in the data (errors in accuracy and in the true classes' recall, left out of the averages): {string.Join(", ", metrics.PredictedNotInData.Select(kv => string.Create(inv, $"{kv.Key} {kv.Value:N0} row(s)")))}; macro-F1 with them at F1 0 (scikit-learn's label set): {F(metrics.MacroF1AllLabels)}.");
        }

        sb.Append('\n');
        if (metrics.MergedLabels.Count > 0)
        {
            sb.Append(inv, $"Labels compared as one: {string.Join(", ", metrics.MergedLabels.Select(kv => kv.Key + " as " + kv.Value))}\n");
        }

        sb.Append('\n');
        sb.Append(inv, $"BENIGN false-positive rate: {Opt(metrics.BenignFpr)} ({metrics.BenignFlagged:N0} of {metrics.BenignRows:N0} benign flows at or above the threshold)\n");
        sb.Append(inv, $"Attack recall:              {Opt(metrics.AttackRecall)} ({metrics.AttackDetected:N0} of {metrics.AttackRows:N0} attack flows at or above the threshold)\n");

        if (metrics.LabelsNotInModel.Count > 0)
        {
            sb.Append(inv, $"Not classes of this model (never predictable, recall 0 by construction): {string.Join(", ", metrics.LabelsNotInModel)}\n");
        }

        sb.Append("\nConfusion matrix (rows: true label, columns: predicted label)\n\n");
        var matrix = metrics.Confusion.Matrix;
        int cell = Math.Max(6, matrix.SelectMany(r => r).Select(v => v.ToString(inv).Length).DefaultIfEmpty(1).Max());
        var widths = labels.Select(l => Math.Max(cell, l.Length)).ToArray();
        sb.Append(' ', nameWidth);
        for (int j = 0; j < labels.Count; j++)
        {
            sb.Append("  ").Append(labels[j].PadLeft(widths[j]));
        }

        sb.Append('\n');
        for (int i = 0; i < labels.Count; i++)
        {
            sb.Append(labels[i].PadLeft(nameWidth));
            for (int j = 0; j < labels.Count; j++)
            {
                sb.Append("  ").Append(matrix[i][j].ToString(inv).PadLeft(widths[j]));
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    private static void AppendAverage(StringBuilder sb, string name, int nameWidth, int col, string p, string r, string f1, long rows) =>
        sb.Append(name.PadLeft(nameWidth))
            .Append(' ').Append(p.PadLeft(col))
            .Append(' ').Append(r.PadLeft(col))
            .Append(' ').Append(f1.PadLeft(col))
            .Append(' ').Append(rows.ToString(CultureInfo.InvariantCulture).PadLeft(col))
            .Append('\n');
}
