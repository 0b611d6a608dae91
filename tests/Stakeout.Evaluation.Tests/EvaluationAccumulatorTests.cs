using Stakeout.Core;

namespace Stakeout.Evaluation.Tests;

public sealed class EvaluationAccumulatorTests
{
    private static readonly string[] ThreeClasses = [LabelTaxonomy.Benign, "DoS Hulk", "PortScan"];

    /// <summary>Ten rows whose predictions under the detector's rule equal the arg-max, so scikit-learn can check them.</summary>
    internal static readonly (string Truth, float[] P)[] TenRows =
    [
        ("BENIGN", [.9f, .05f, .05f]),
        ("BENIGN", [.8f, .1f, .1f]),
        ("BENIGN", [.3f, .6f, .1f]),
        ("BENIGN", [.6f, .1f, .3f]),
        ("DoS Hulk", [.1f, .8f, .1f]),
        ("DoS Hulk", [.2f, .7f, .1f]),
        ("DoS Hulk", [.6f, .3f, .1f]),
        ("PortScan", [.1f, .2f, .7f]),
        ("PortScan", [.2f, .5f, .3f]),
        ("PortScan", [.05f, .05f, .9f]),
    ];

    private static EvaluationAccumulator Fill(IEnumerable<(string Truth, float[] P)> rows, string[]? classes = null, LabelLevel level = LabelLevel.Class, double threshold = 0.5)
    {
        var acc = new EvaluationAccumulator(classes ?? ThreeClasses, level, 0, threshold);
        foreach (var (truth, p) in rows)
        {
            acc.Add(truth, p);
        }

        return acc;
    }

    [Fact]
    public void Compute_TenRows_MatchesScikitLearn()
    {
        // y = [B,B,B,B,D,D,D,P,P,P]; pred = argmax(P) (identical to the threshold rule here)
        // sklearn.metrics.accuracy_score(y, pred) == 0.7
        // sklearn.metrics.f1_score(y, pred, average='macro') == 0.7071428571428573
        // sklearn.metrics.f1_score(y, pred, average='weighted') == 0.7114285714285715
        // sklearn.metrics.average_precision_score(y == l, P[:, i]) == 0.8875 (B), 0.8666666666666667 (D), 0.9166666666666665 (P)
        // sklearn.metrics.confusion_matrix(y, pred) == [[3,1,0],[1,2,0],[0,1,2]]
        var m = Fill(TenRows).Compute();

        Assert.Empty(m.LabelsNotInModel);
        Assert.Equal(LabelLevel.Class, m.Level);
        Assert.Equal(10, m.Rows);
        Assert.Equal(0.7, m.Accuracy, 12);
        Assert.Equal(0.7071428571428573, m.MacroF1, 12);
        Assert.Equal(0.7114285714285715, m.WeightedF1, 12);
        Assert.Equal(0.8875, m.PrAuc["BENIGN"]!.Value, 6);
        Assert.Equal(0.8666666666666667, m.PrAuc["DoS Hulk"]!.Value, 6);
        Assert.Equal(0.9166666666666665, m.PrAuc["PortScan"]!.Value, 6);
        Assert.Equal(ThreeClasses, m.Confusion.Labels);
        Assert.Equal([3L, 1, 0], m.Confusion.Matrix[0]);
        Assert.Equal([1L, 2, 0], m.Confusion.Matrix[1]);
        Assert.Equal([0L, 1, 2], m.Confusion.Matrix[2]);
    }

    [Fact]
    public void Compute_TenRows_BinaryViewUsesAttackScore()
    {
        var m = Fill(TenRows).Compute();

        // Benign row 3 scores 1 - .3 = .7: one false alarm of four. Attack row 7 scores .4: missed, the other five found.
        Assert.Equal(0.25, m.BenignFpr!.Value, 12);
        Assert.Equal(5.0 / 6, m.AttackRecall!.Value, 12);
        Assert.Equal(1, m.BenignFlagged);
        Assert.Equal(5, m.AttackDetected);
    }

    [Fact]
    public void Compute_AttackScoreAboveThresholdButBenignMostProbable_PredictsTheTopAttack()
    {
        // P(benign) .4 is the largest single class, but the attack score .6 reaches .5: the detector alerts, as DoS Hulk.
        var m = Fill([("PortScan", [.4f, .35f, .25f])]).Compute();

        Assert.Equal(1, m.Confusion.Matrix[m.Confusion.Labels.ToList().IndexOf("PortScan")][m.Confusion.Labels.ToList().IndexOf("DoS Hulk")]);
        Assert.Equal(1.0, m.AttackRecall!.Value);
    }

    [Fact]
    public void Compute_HigherThreshold_MovesRowsToBenign()
    {
        var m = Fill(TenRows, threshold: 0.85).Compute();

        // Attack scores: rows 5..10 are .9, .8, .4, .9, .8, .95: three reach .85.
        Assert.Equal(0.5, m.AttackRecall!.Value, 12);
        Assert.Equal(0.0, m.BenignFpr!.Value, 12);
        Assert.Equal(0.85, m.Threshold);
    }

    [Fact]
    public void Compute_ClassModelOnFamilyLabels_SumsProbabilitiesPerFamily()
    {
        string[] classes = [LabelTaxonomy.Benign, "DoS Hulk", "DoS slowloris", "PortScan"];
        var acc = new EvaluationAccumulator(classes, LabelLevel.Class, 0, 0.5);

        // Neither DoS class beats BENIGN alone (.35 < .3 + ...), but together the DoS family holds .7.
        acc.Add("DoS", [.3f, .35f, .35f, 0f]);
        acc.Add("BENIGN", [.9f, .05f, 0f, .05f]);
        acc.Add("PortScan", [.1f, .3f, 0f, .6f]);
        var m = acc.Compute();

        Assert.Equal(LabelLevel.Family, acc.DataLevel);
        Assert.Equal(LabelLevel.Family, m.Level);
        Assert.Equal(["BENIGN", "DoS", "PortScan"], m.Confusion.Labels);
        Assert.Equal(1.0, m.Accuracy, 12);
        Assert.Equal(1.0, m.PrAuc["DoS"]!.Value, 12);
    }

    [Fact]
    public void Compute_FamilyModelOnClassLabels_MapsTruthUpToFamilies()
    {
        string[] families = [LabelTaxonomy.Benign, "DoS", "WebAttack"];
        var acc = new EvaluationAccumulator(families, LabelLevel.Family, 0, 0.5);

        acc.Add("DoS GoldenEye", [.1f, .8f, .1f]);
        acc.Add("Web Attack \u2013 XSS", [.1f, .2f, .7f]);
        acc.Add("Web Attack - Sql Injection", [.1f, .6f, .3f]);
        var m = acc.Compute();

        Assert.Equal(LabelLevel.Class, acc.DataLevel);
        Assert.Equal(LabelLevel.Family, m.Level);
        Assert.Equal(2, m.PerClass["WebAttack"].Support);
        Assert.Equal(0.5, m.PerClass["WebAttack"].Recall, 12);
        Assert.Equal(0.5, m.PerClass["DoS"].Precision, 12);
        Assert.DoesNotContain("BENIGN", m.PerClass.Keys); // no rows, never predicted: not listed, as in scikit-learn
    }

    [Fact]
    public void Compute_BinaryLabels_ComparesBenignAgainstAttack()
    {
        var acc = Fill([("BENIGN", [.2f, .5f, .3f]), ("ATTACK", [.1f, .1f, .8f]), ("Malicious", [.9f, .05f, .05f])]);

        var m = acc.Compute();

        Assert.Equal(LabelLevel.Binary, m.Level);
        Assert.Equal(["BENIGN", "ATTACK"], m.Confusion.Labels);
        Assert.Equal([0L, 1], m.Confusion.Matrix[0]);
        Assert.Equal([1L, 1], m.Confusion.Matrix[1]);
        Assert.Equal(0.5, m.AttackRecall!.Value, 12);
        Assert.Equal(1.0, m.BenignFpr!.Value, 12);
    }

    [Fact]
    public void Compute_MixedLevels_UsesTheCoarsestAndKeepsEveryRow()
    {
        var acc = Fill([("DoS Hulk", [.1f, .8f, .1f]), ("PortScan", [.1f, .1f, .8f]), ("DoS", [.1f, .8f, .1f])]);

        var m = acc.Compute();

        Assert.Equal(LabelLevel.Family, m.Level);
        Assert.Equal(3, m.Rows);
        Assert.Equal(2, m.PerClass["DoS"].Support);
    }

    [Fact]
    public void Compute_LevelFinerThanTheData_Throws()
    {
        var acc = Fill([("DoS", [.1f, .8f, .1f])]);

        var ex = Assert.Throws<ArgumentException>(() => acc.Compute(LabelLevel.Class));
        Assert.Contains("finest shared level is family", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_CoarserLevelRequested_ReportsThatLevel()
    {
        var m = Fill(TenRows).Compute(LabelLevel.Binary);

        Assert.Equal(LabelLevel.Binary, m.Level);
        Assert.Equal(4, m.PerClass["BENIGN"].Support);
        Assert.Equal(6, m.PerClass["ATTACK"].Support);
        Assert.Equal(5.0 / 6, m.PerClass["ATTACK"].Recall, 12);
    }

    [Fact]
    public void Compute_TruthClassTheModelLacks_IsListedWithZeroRecall()
    {
        var m = Fill([("DDoS", [.1f, .8f, .1f]), ("BENIGN", [.9f, .05f, .05f])]).Compute();

        Assert.Equal(0, m.PerClass["DDoS"].Recall);
        Assert.Equal(1, m.PerClass["DDoS"].Support);
        Assert.DoesNotContain("DoS Hulk", m.PerClass.Keys); // predicted, but no row: listed apart
        Assert.Equal(1, m.PredictedNotInData["DoS Hulk"]);
        Assert.Equal(["BENIGN", "DoS Hulk", "DDoS"], m.Confusion.Labels);
        Assert.Equal(0.5, m.Accuracy, 12);
        Assert.Equal(["DDoS"], m.LabelsNotInModel);
        Assert.Contains("Not classes of this model (never predictable, recall 0 by construction): DDoS", ClassificationReportText.Format(m), StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_PredictedClassAbsentFromData_AveragesOverPresentClassesAndListsItApart()
    {
        // y = [B,B,P,P]; pred = [B,B,P,D] (DoS Hulk has no row). Over the present classes, as
        // sklearn.metrics.f1_score(y, pred, average='macro', labels=['BENIGN','PortScan']) == 0.8333333333333333,
        // precision (1 + 1) / 2, recall (1 + 0.5) / 2; with DoS Hulk at F1 0 (sklearn's default label set) 0.5555555555555556.
        var m = Fill(
        [
            ("BENIGN", [.9f, .05f, .05f]),
            ("BENIGN", [.8f, .1f, .1f]),
            ("PortScan", [.1f, .2f, .7f]),
            ("PortScan", [.1f, .7f, .2f]),
        ]).Compute();

        Assert.Equal(5.0 / 6, m.MacroF1, 12);
        Assert.Equal(1.0, m.MacroPrecision, 12);
        Assert.Equal(0.75, m.MacroRecall, 12);
        Assert.Equal(5.0 / 9, m.MacroF1AllLabels, 12);
        Assert.Equal(((2 * 1.0) + (2 * (2.0 / 3))) / 4, m.WeightedF1, 12);
        Assert.Equal(["BENIGN", "PortScan"], m.ClassesPresent);
        Assert.Equal(["BENIGN", "PortScan"], m.PerClass.Keys);
        Assert.Equal(new Dictionary<string, long> { ["DoS Hulk"] = 1 }, m.PredictedNotInData);
        Assert.Equal(["BENIGN", "DoS Hulk", "PortScan"], m.Confusion.Labels);
        Assert.Equal("classes_present_in_data", m.AveragesOver);
        string text = ClassificationReportText.Format(m);
        Assert.Contains("Averages are over the 2 class(es) present in the data.", text, StringComparison.Ordinal);
        Assert.Contains("Predicted but not in the data", text, StringComparison.Ordinal);
        Assert.Contains("DoS Hulk 1 row(s)", text, StringComparison.Ordinal);
        Assert.Contains("0.5556", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_MergedLabels_ModelClassesAndTruthCountAsOne()
    {
        // A model that tells DDoS from DoS Hulk, on data that calls every flood DoS Hulk: merged, the row whose DDoS and
        // DoS Hulk probabilities add up to 0.9 is a correct DoS Hulk prediction instead of a DDoS error.
        string[] classes = [LabelTaxonomy.Benign, "DDoS", "DoS Hulk"];
        (string, float[])[] rows = [("DoS Hulk", [.1f, .5f, .4f]), ("DoS Hulk", [.1f, .2f, .7f]), ("BENIGN", [.9f, .05f, .05f])];
        var plain = new EvaluationAccumulator(classes, LabelLevel.Class, 0, 0.5);
        var merged = new EvaluationAccumulator(classes, LabelLevel.Class, 0, 0.5, merges: LabelMerges.Parse(["DDoS=DoS Hulk"]));
        foreach (var (truth, p) in rows)
        {
            plain.Add(truth, p);
            merged.Add(truth, p);
        }

        var before = plain.Compute();
        var after = merged.Compute();

        Assert.Equal(2.0 / 3, before.Accuracy, 12);
        Assert.Equal(1, before.PredictedNotInData["DDoS"]);
        Assert.Equal(1.0, after.Accuracy, 12);
        Assert.Equal(1.0, after.MacroF1, 12);
        Assert.Empty(after.PredictedNotInData);
        Assert.Equal(["BENIGN", "DoS Hulk"], after.Confusion.Labels);
        Assert.Equal("DoS Hulk", after.MergedLabels["DDoS"]);
        Assert.Equal(1.0, after.PrAuc["DoS Hulk"]!.Value, 12);
    }

    [Theory]
    [InlineData("DDoS")]
    [InlineData("=DoS")]
    [InlineData("DDoS=")]
    [InlineData("A=B=C")]
    public void LabelMergesParse_Malformed_NamesTheOptionAndText(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => LabelMerges.Parse([text]));

        Assert.Contains("--merge-labels takes FROM=TO", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{text}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LabelMergesParse_ChainAndList_ResolveToTheEnd()
    {
        var merges = LabelMerges.Parse(["DoS Hulk,DoS slowloris=DoS", "DoS=Flood", "DDoS=Flood"]);

        Assert.Equal("Flood", merges.Apply("DoS Hulk"));
        Assert.Equal("Flood", merges.Apply("DoS"));
        Assert.Equal("Flood", merges.Apply("DDoS"));
        Assert.Equal("PortScan", merges.Apply("PortScan"));
    }

    [Fact]
    public void LabelMergesParse_Cycle_Refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => LabelMerges.Parse(["DoS=DDoS", "DDoS=DoS"]));

        Assert.Contains("cycle", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddBatch_SameRowsAsAdd_GivesTheSameMetrics()
    {
        var vocabulary = new[] { LabelTaxonomy.Resolve("BENIGN"), LabelTaxonomy.Resolve("DoS Hulk"), LabelTaxonomy.Resolve("PortScan") };
        int[] ids = [.. TenRows.Select(r => Array.FindIndex(vocabulary, v => v.Name == r.Truth))];
        float[] probabilities = [.. TenRows.SelectMany(r => r.P)];
        var acc = new EvaluationAccumulator(ThreeClasses, LabelLevel.Class, 0, 0.5);

        acc.AddBatch(ids, vocabulary, probabilities);
        var batch = acc.Compute();
        var single = Fill(TenRows).Compute();

        Assert.Equal(single.MacroF1, batch.MacroF1);
        Assert.Equal(single.PrAuc, batch.PrAuc);
        Assert.Equal(single.Confusion.Matrix.SelectMany(r => r), batch.Confusion.Matrix.SelectMany(r => r));
    }

    [Fact]
    public void AddBatch_UnlabelledRow_Throws()
    {
        var acc = new EvaluationAccumulator(ThreeClasses, LabelLevel.Class, 0, 0.5);

        var ex = Assert.Throws<ArgumentException>(() => acc.AddBatch([-1], [LabelTaxonomy.Resolve("BENIGN")], [1f, 0f, 0f]));
        Assert.Contains("unlabelled", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_ManyRowsAcrossScoreChunks_KeepsEveryScore()
    {
        // 70,000 rows span two 65,536-row chunks of the score store.
        var acc = new EvaluationAccumulator(ThreeClasses, LabelLevel.Class, 0, 0.5);
        for (int i = 0; i < 70_000; i++)
        {
            var (truth, p) = TenRows[i % 10];
            acc.Add(truth, p);
        }

        var m = acc.Compute();

        Assert.Equal(70_000, m.Rows);
        Assert.Equal(0.8875, m.PrAuc["BENIGN"]!.Value, 6);
        Assert.Equal(0.7071428571428573, m.MacroF1, 12);
    }

    [Fact]
    public void Compute_WithoutScores_ReportsNullPrAuc()
    {
        var acc = new EvaluationAccumulator(ThreeClasses, LabelLevel.Class, 0, 0.5, keepScores: false);
        acc.Add("BENIGN", [.9f, .05f, .05f]);

        Assert.Null(acc.Compute().PrAuc["BENIGN"]);
    }

    [Fact]
    public void Compute_ModelWithoutBenignClass_PredictsArgMaxAndLeavesBinaryViewUndefined()
    {
        var acc = new EvaluationAccumulator(["DoS Hulk", "PortScan"], LabelLevel.Class, -1, 0.5);
        acc.Add("PortScan", [.3f, .7f]);

        var m = acc.Compute();

        Assert.Equal(1.0, m.Accuracy);
        Assert.Null(m.BenignFpr);
        Assert.Null(m.AttackRecall);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Constructor_ThresholdOutOfRange_Throws(double threshold)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EvaluationAccumulator(ThreeClasses, LabelLevel.Class, 0, threshold));
    }

    [Fact]
    public void Add_TooFewProbabilities_Throws()
    {
        var acc = new EvaluationAccumulator(ThreeClasses, LabelLevel.Class, 0, 0.5);

        Assert.Throws<ArgumentException>(() => acc.Add("BENIGN", [1f, 0f]));
    }

    [Theory]
    [InlineData(LabelLevel.Class, LabelLevel.Class, LabelLevel.Class)]
    [InlineData(LabelLevel.Class, LabelLevel.Family, LabelLevel.Family)]
    [InlineData(LabelLevel.Family, LabelLevel.Class, LabelLevel.Family)]
    [InlineData(LabelLevel.Binary, LabelLevel.Family, LabelLevel.Binary)]
    public void Shared_TwoLevels_IsTheCoarser(LabelLevel model, LabelLevel data, LabelLevel expected)
    {
        Assert.Equal(expected, EvaluationLevels.Shared(model, data));
    }

    [Fact]
    public void Map_FamilyLabelAtClassLevel_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => EvaluationLevels.Map("WebAttack", LabelLevel.Class));
        Assert.Contains("family-level", ex.Message, StringComparison.Ordinal);
    }
}
