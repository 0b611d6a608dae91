using System.Text.Json;
using Stakeout.Core;

namespace Stakeout.Evaluation.Tests;

public sealed class ReportTests
{
    private static EvaluationReport TenRowReport()
    {
        var acc = new EvaluationAccumulator([LabelTaxonomy.Benign, "DoS Hulk", "PortScan"], LabelLevel.Class, 0, 0.5);
        foreach (var (truth, p) in EvaluationAccumulatorTests.TenRows)
        {
            acc.Add(truth, p);
        }

        return new EvaluationReport(acc.Compute()) { ModelLevel = LabelLevel.Class, DataLevel = acc.DataLevel, ModelSha256 = "ab12", ModelKind = "lightgbm" };
    }

    [Fact]
    public void ToJson_TenRows_HasTheContractFieldsWithTheirValues()
    {
        using var doc = JsonDocument.Parse(TenRowReport().ToJson());
        var root = doc.RootElement;

        Assert.Equal("class", root.GetProperty("level").GetString());
        Assert.Equal(10, root.GetProperty("rows").GetInt64());
        Assert.Equal(0.7, root.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(0.7071428571428573, root.GetProperty("macro_f1").GetDouble(), 12);
        Assert.Equal(0.7114285714285715, root.GetProperty("weighted_f1").GetDouble(), 12);
        Assert.Equal(0.25, root.GetProperty("benign_fpr").GetDouble(), 12);
        Assert.Equal(5.0 / 6, root.GetProperty("attack_recall").GetDouble(), 12);
        var dos = root.GetProperty("per_class").GetProperty("DoS Hulk");
        Assert.Equal(0.5, dos.GetProperty("precision").GetDouble(), 12);
        Assert.Equal(3, dos.GetProperty("support").GetInt64());
        Assert.Equal(4.0 / 7, dos.GetProperty("f1").GetDouble(), 12);
        Assert.Equal(2.0 / 3, dos.GetProperty("recall").GetDouble(), 12);
        Assert.Equal("BENIGN", root.GetProperty("confusion").GetProperty("labels")[0].GetString());
        Assert.Equal(1, root.GetProperty("confusion").GetProperty("matrix")[0][1].GetInt64());
        Assert.Equal(0.8875, root.GetProperty("pr_auc").GetProperty("BENIGN").GetDouble(), 6);
        Assert.Equal("ab12", root.GetProperty("model_sha256").GetString());
        Assert.Equal(0.5, root.GetProperty("threshold").GetDouble());
    }

    [Fact]
    public void ToJson_NoBenignRows_WritesNullFpr()
    {
        var acc = new EvaluationAccumulator([LabelTaxonomy.Benign, "DoS Hulk"], LabelLevel.Class, 0, 0.5);
        acc.Add("DoS Hulk", [.1f, .9f]);
        var report = new EvaluationReport(acc.Compute()) { ModelLevel = LabelLevel.Class, DataLevel = LabelLevel.Class };

        using var doc = JsonDocument.Parse(report.ToJson());

        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("benign_fpr").ValueKind);
    }

    [Fact]
    public void ToText_TenRows_ReadsLikeAClassificationReport()
    {
        string text = TenRowReport().ToText();
        var lines = text.Split('\n');

        Assert.Contains(lines, l => l.TrimStart().StartsWith("DoS Hulk", StringComparison.Ordinal) && l.Contains("0.5000", StringComparison.Ordinal) && l.Contains("0.6667", StringComparison.Ordinal) && l.Contains("0.5714", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("accuracy", StringComparison.Ordinal) && l.Contains("0.7000", StringComparison.Ordinal) && l.TrimEnd().EndsWith("10", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("macro avg", StringComparison.Ordinal) && l.Contains("0.7500", StringComparison.Ordinal) && l.Contains("0.6944", StringComparison.Ordinal) && l.Contains("0.7071", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("weighted avg", StringComparison.Ordinal) && l.Contains("0.7114", StringComparison.Ordinal));
        Assert.Contains("BENIGN false-positive rate: 0.2500 (1 of 4", text, StringComparison.Ordinal);
        Assert.Contains("Confusion matrix", text, StringComparison.Ordinal);
        var confusionRow = lines.Last(l => l.TrimStart().StartsWith("PortScan", StringComparison.Ordinal));
        Assert.Equal(["PortScan", "0", "1", "2"], confusionRow.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}

public sealed class ReportGoldenTests
{
    /// <summary>The report of the ten-row fixture, as docs/evaluation.md shows it.</summary>
    private const string Golden = """
        Evaluation at class level on 10 rows (attack-score threshold 0.5)

                     precision    recall  f1-score   support    pr-auc

              BENIGN    0.7500    0.7500    0.7500         4    0.8875
            DoS Hulk    0.5000    0.6667    0.5714         3    0.8667
            PortScan    1.0000    0.6667    0.8000         3    0.9167

            accuracy                        0.7000        10
           macro avg    0.7500    0.6944    0.7071        10
        weighted avg    0.7500    0.7000    0.7114        10

        Averages are over the 3 class(es) present in the data.

        BENIGN false-positive rate: 0.2500 (1 of 4 benign flows at or above the threshold)
        Attack recall:              0.8333 (5 of 6 attack flows at or above the threshold)

        Confusion matrix (rows: true label, columns: predicted label)

                      BENIGN  DoS Hulk  PortScan
              BENIGN       3         1         0
            DoS Hulk       1         2         0
            PortScan       0         1         2

        """;

    [Fact]
    public void Format_TenRows_MatchesTheDocumentedReport()
    {
        var acc = new EvaluationAccumulator([LabelTaxonomy.Benign, "DoS Hulk", "PortScan"], LabelLevel.Class, 0, 0.5);
        foreach (var (truth, p) in EvaluationAccumulatorTests.TenRows)
        {
            acc.Add(truth, p);
        }

        string text = ClassificationReportText.Format(acc.Compute());

        Assert.Equal(Golden.ReplaceLineEndings("\n"), text);
    }
}
