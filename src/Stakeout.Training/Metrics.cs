using System.Globalization;
using System.Text;

namespace Stakeout.Training;

/// <summary>Precision, recall, F1 and support of one class.</summary>
/// <param name="Name">Class name.</param>
/// <param name="Precision">TP / (TP + FP), 0 when nothing was predicted.</param>
/// <param name="Recall">TP / (TP + FN).</param>
/// <param name="F1">Harmonic mean of precision and recall.</param>
/// <param name="Support">Rows of this class.</param>
public sealed record ClassScore(string Name, double Precision, double Recall, double F1, long Support);

/// <summary>
/// Classification metrics of one labelled set, with Stakeout's decision rule: a row is an attack when its attack score
/// (1 - P(benign)) reaches the threshold, and then its class is the most probable non-benign class.
/// (Training keeps this small evaluator to itself until Stakeout.Evaluation provides the shared one.)
/// </summary>
public sealed record ClassificationMetrics(
    IReadOnlyList<string> Classes,
    long Rows,
    double Accuracy,
    double MacroF1,
    double WeightedF1,
    double BenignFalsePositiveRate,
    double AttackRecall,
    IReadOnlyList<ClassScore> PerClass,
    long[][] Confusion)
{
    /// <summary>Scores <paramref name="truth"/> against <paramref name="probabilities"/> (row-major, one per class).</summary>
    public static ClassificationMetrics Compute(IReadOnlyList<string> classes, ReadOnlySpan<int> truth, ReadOnlySpan<double> probabilities, int benignIndex, double threshold)
    {
        int k = classes.Count;
        var confusion = Enumerable.Range(0, k).Select(_ => new long[k]).ToArray();
        long benign = 0, benignFlagged = 0, attacks = 0, attacksFlagged = 0;
        for (int r = 0; r < truth.Length; r++)
        {
            int predicted = Decide(probabilities.Slice(r * k, k), benignIndex, threshold);
            confusion[truth[r]][predicted]++;
            if (truth[r] == benignIndex)
            {
                benign++;
                benignFlagged += predicted != benignIndex ? 1 : 0;
            }
            else
            {
                attacks++;
                attacksFlagged += predicted != benignIndex ? 1 : 0;
            }
        }

        var perClass = new List<ClassScore>();
        long correct = 0;
        for (int c = 0; c < k; c++)
        {
            long tp = confusion[c][c];
            long support = confusion[c].Sum();
            long predictedCount = confusion.Sum(row => row[c]);
            double precision = predictedCount == 0 ? 0 : (double)tp / predictedCount;
            double recall = support == 0 ? 0 : (double)tp / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.Add(new ClassScore(classes[c], precision, recall, f1, support));
            correct += tp;
        }

        var present = perClass.Where(p => p.Support > 0).ToList();
        long rows = truth.Length;
        return new ClassificationMetrics(
            classes,
            rows,
            rows == 0 ? 0 : (double)correct / rows,
            present.Count == 0 ? 0 : present.Average(p => p.F1),
            rows == 0 ? 0 : present.Sum(p => p.F1 * p.Support) / rows,
            benign == 0 ? double.NaN : (double)benignFlagged / benign,
            attacks == 0 ? double.NaN : (double)attacksFlagged / attacks,
            perClass,
            confusion);
    }

    /// <summary>The class Stakeout reports for one row's probabilities.</summary>
    public static int Decide(ReadOnlySpan<double> probabilities, int benignIndex, double threshold)
    {
        if (benignIndex >= 0 && 1 - probabilities[benignIndex] < threshold)
        {
            return benignIndex;
        }

        int best = -1;
        for (int c = 0; c < probabilities.Length; c++)
        {
            if (c != benignIndex && (best < 0 || probabilities[c] > probabilities[best]))
            {
                best = c;
            }
        }

        return best;
    }

    /// <summary>The headline figures for a manifest.</summary>
    public Dictionary<string, double> ToDictionary()
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["rows"] = Rows,
            ["accuracy"] = Round(Accuracy),
            ["macro_f1"] = Round(MacroF1),
            ["weighted_f1"] = Round(WeightedF1),
        };
        if (!double.IsNaN(BenignFalsePositiveRate))
        {
            d["benign_fpr"] = Round(BenignFalsePositiveRate);
        }

        if (!double.IsNaN(AttackRecall))
        {
            d["attack_recall"] = Round(AttackRecall);
        }

        return d;
    }

    /// <summary>A plain-text report: per-class table, averages, binary view and the confusion matrix.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        if (Rows == 0)
        {
            return "no rows to score.\n";
        }

        int width = Math.Max(12, Classes.Max(n => n.Length) + 2);
        sb.Append("".PadRight(width)).Append(c, $"{"precision",10}{"recall",10}{"f1-score",10}{"support",10}\n\n");
        foreach (var p in PerClass)
        {
            sb.Append(p.Name.PadRight(width)).Append(c, $"{p.Precision,10:F4}{p.Recall,10:F4}{p.F1,10:F4}{p.Support,10}\n");
        }

        sb.Append('\n');
        sb.Append("accuracy".PadRight(width)).Append(c, $"{"",10}{"",10}{Accuracy,10:F4}{Rows,10}\n");
        sb.Append("macro avg".PadRight(width)).Append(c, $"{PerClass.Where(p => p.Support > 0).Average(p => p.Precision),10:F4}{PerClass.Where(p => p.Support > 0).Average(p => p.Recall),10:F4}{MacroF1,10:F4}{Rows,10}\n");
        sb.Append("weighted avg".PadRight(width)).Append(c, $"{"",10}{"",10}{WeightedF1,10:F4}{Rows,10}\n\n");
        sb.Append(c, $"BENIGN false-positive rate: {Format(BenignFalsePositiveRate)}\nattack recall: {Format(AttackRecall)}\n\n");
        sb.Append("confusion matrix (rows = true class, columns = predicted):\n");
        int cell = Math.Max(8, Confusion.Max(r => r.Max()).ToString(c).Length + 2);
        sb.Append("".PadRight(width));
        for (int j = 0; j < Classes.Count; j++)
        {
            sb.Append(c, $"{Abbreviate(Classes[j], cell - 1).PadLeft(cell)}");
        }

        sb.Append('\n');
        for (int i = 0; i < Classes.Count; i++)
        {
            sb.Append(Classes[i].PadRight(width));
            foreach (long v in Confusion[i])
            {
                sb.Append(v.ToString(c).PadLeft(cell));
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    private static string Abbreviate(string name, int max) => name.Length <= max ? name : name[..max];

    private static string Format(double v) => double.IsNaN(v) ? "n/a (no such rows)" : v.ToString("P3", CultureInfo.InvariantCulture);

    private static double Round(double v) => Math.Round(v, 6);
}
