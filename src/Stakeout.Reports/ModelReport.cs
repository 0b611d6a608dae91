using System.Globalization;
using ScottPlot;
using Stakeout.Core;
using Stakeout.Evaluation;
using Stakeout.Models;

namespace Stakeout.Reports;

/// <summary>What a model report shows: the measured metrics and curves (Stakeout.Evaluation's), and the model's manifest.</summary>
/// <param name="Title">"Training report" or "Evaluation report".</param>
/// <param name="DataDescription">What was scored (the held-out test split, or the files evaluated).</param>
/// <param name="Metrics">The metrics, as evaluate/train computed them.</param>
/// <param name="Curves">PR, ROC and threshold curves of the same scores; null when they were not kept.</param>
/// <param name="Manifest">The model's manifest (model card).</param>
/// <param name="ModelSha256">The artifact's digest.</param>
public sealed record ModelReportInput(string Title, string DataDescription, EvaluationMetrics Metrics, EvaluationCurves? Curves, ModelManifest Manifest, string? ModelSha256)
{
    /// <summary>Mean |TreeSHAP| per feature and class on a sample of rows (<see cref="ShapImportance"/>); null to show the manifest's gain only.</summary>
    public ShapImportance? Shap { get; init; }
}

/// <summary>
/// The model report of `train` and `evaluate`: confusion matrices (counts and row-normalised), per-class precision,
/// recall and F1, precision-recall and ROC curves per class, the threshold curve, global feature importance, and the model
/// card (data fingerprint, hyperparameters, lineage). Numbers come from Stakeout.Evaluation; nothing is recomputed here.
/// </summary>
public static class ModelReport
{
    /// <summary>File name prefix of the report and its plots.</summary>
    public const string Prefix = "model-report";

    /// <summary>Writes the report into <paramref name="directory"/>; returns every file written, the HTML last.</summary>
    public static IReadOnlyList<string> Write(ModelReportInput input, string directory, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var m = input.Metrics;
        var html = new HtmlReport($"Stakeout {input.Title.ToLowerInvariant()}", directory, Prefix);
        var labels = m.Confusion.Labels;
        var colors = PlotKit.Colors(labels);
        var hex = ClassPalette.Assign(labels);

        html.Heading("Summary");
        html.Paragraph(input.DataDescription);
        html.KeyValues(
        [
            ("compared at", $"{EvaluationLevels.Name(m.Level)} level"),
            ("rows scored", m.Rows.ToString("N0", CultureInfo.InvariantCulture)),
            ("accuracy", F(m.Accuracy)),
            ("macro-F1", F(m.MacroF1)),
            ("weighted-F1", F(m.WeightedF1)),
            ("alert threshold (attack score 1 - P(BENIGN))", m.Threshold.ToString("0.####", CultureInfo.InvariantCulture)),
            ("BENIGN false-positive rate", $"{P(m.BenignFpr)} ({m.BenignFlagged:N0} of {m.BenignRows:N0} BENIGN rows alert)"),
            ("attack recall", $"{P(m.AttackRecall)} ({m.AttackDetected:N0} of {m.AttackRows:N0} attack rows alert)"),
        ]);
        if (m.LabelsNotInModel.Count > 0)
        {
            html.Paragraph($"Labels in the data that the model has no class for (recall 0 by construction): {string.Join(", ", m.LabelsNotInModel)}.");
        }

        if (labels.Count == 0)
        {
            // A split without test rows (or data without labelled rows) has nothing to draw; the model card still helps.
            html.Paragraph("No row was scored: no metric or curve to draw.");
            Importance(html, input);
            ModelCard(html, input);
            html.Save($"Model {input.ModelSha256 ?? "(unsaved)"}; no rows scored.");
            return html.Files;
        }

        html.Heading("Per class");
        html.Table(
            ["label", "precision", "recall", "F1", "PR-AUC", "ROC-AUC", "support"],
            labels.Where(m.PerClass.ContainsKey).Select(l => (IReadOnlyList<Cell>)
            [
                new Cell(l, Swatch: hex[l]),
                Cell.Number(m.PerClass[l].Precision), Cell.Number(m.PerClass[l].Recall), Cell.Number(m.PerClass[l].F1),
                m.PrAuc.TryGetValue(l, out var ap) && ap is { } a ? Cell.Number(a) : new Cell("n/a", true),
                input.Curves?.Classes.FirstOrDefault(c => c.Label == l)?.RocAuc is { } roc ? Cell.Number(roc) : new Cell("n/a", true),
                Cell.Number(m.PerClass[l].Support),
            ]));
        html.Figure("per-class", PerClassBars(m, colors), "Precision, recall and F1 per class (the detector's decision rule at the threshold). Bars take the class colour; shade tells the metric.", 1100, 520);

        html.Heading("Confusion matrix");
        html.Figure("confusion-counts", Confusion(m, normalised: false), "Rows: true label; columns: predicted label; cells: rows counted (colour on a log scale).", ConfusionSize(labels.Count) + 160, ConfusionSize(labels.Count));
        html.Figure("confusion-normalised", Confusion(m, normalised: true), "The same matrix with each row divided by its total: the diagonal is each class's recall.", ConfusionSize(labels.Count) + 160, ConfusionSize(labels.Count));

        if (input.Curves is { } curves)
        {
            html.Heading("Precision-recall and ROC curves");
            html.Paragraph("One-vs-rest, from each label's probability (the model's classes summed at this level, as PR-AUC takes it).", muted: true);
            html.Figure("pr-curves", PrCurves(curves, colors), "Precision against recall per class; the legend gives the average precision (PR-AUC).");
            html.Figure("roc-curves", RocCurves(curves, colors), "True-positive rate against false-positive rate per class, the false-positive rate on a log scale (alert volume lives at the left); the legend gives ROC-AUC.");
            if (curves.Threshold is { } sweep)
            {
                html.Heading("Threshold");
                html.Figure("threshold", ThresholdPlot(sweep), $"Share of BENIGN rows that alert (false-positive rate) and of attack rows that alert (recall) at each threshold on the attack score; the black line is the threshold in force ({sweep.Chosen.ToString("0.####", CultureInfo.InvariantCulture)}, {Threshold(input.Manifest)}).");
            }
        }
        else
        {
            html.Paragraph("Curves were not computed (the probabilities were not kept: --no-pr-auc).", muted: true);
        }

        Importance(html, input);
        ModelCard(html, input);
        string stamp = (time ?? TimeProvider.System).GetUtcNow().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        html.Save($"Model {input.ModelSha256 ?? "(unsaved)"}; {m.Rows:N0} rows at {EvaluationLevels.Name(m.Level)} level; written {stamp}.");
        return html.Files;
    }

    private static string Threshold(ModelManifest manifest) => $"threshold source: {manifest.ThresholdSource}";

    private static int ConfusionSize(int n) => Math.Clamp(260 + (n * 62), 520, 1100);

    private static Plot PerClassBars(EvaluationMetrics m, Dictionary<string, Color> colors)
    {
        // Per-class figures exist for the classes present in the data (predicted-only labels are listed apart).
        var labels = m.Confusion.Labels.Where(m.PerClass.ContainsKey).ToList();
        var plot = PlotKit.Create("Precision, recall and F1 per class", "", "score");
        var bars = new List<Bar>();
        (string Name, double Alpha, Func<ClassMetrics, double> Value)[] metrics = [("precision", 0.38, c => c.Precision), ("recall", 0.68, c => c.Recall), ("F1", 1.0, c => c.F1)];
        for (int i = 0; i < labels.Count; i++)
        {
            for (int k = 0; k < metrics.Length; k++)
            {
                double v = metrics[k].Value(m.PerClass[labels[i]]);
                bars.Add(new Bar
                {
                    Position = i + ((k - 1) * 0.27),
                    Value = v,
                    Size = 0.25,
                    FillColor = colors[labels[i]].WithAlpha(metrics[k].Alpha),
                    LineColor = colors[labels[i]],
                    LineWidth = 1,
                });
            }
        }

        plot.Add.Bars(bars);
        foreach (var (name, alpha, _) in metrics)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = name, FillColor = PlotKit.Neutral.WithAlpha(alpha), LineColor = PlotKit.Neutral, LineWidth = 1 });
        }

        PlotKit.CategoryTicksBottom(plot, labels);
        plot.Axes.SetLimitsY(0, 1.08);
        plot.Axes.SetLimitsX(-0.6, labels.Count - 0.4);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    private static Plot Confusion(EvaluationMetrics m, bool normalised)
    {
        var labels = m.Confusion.Labels;
        int n = labels.Count;
        var values = new double[n, n];
        var text = new string[n, n];
        for (int t = 0; t < n; t++)
        {
            long total = m.Confusion.Matrix[t].Sum();
            for (int p = 0; p < n; p++)
            {
                long c = m.Confusion.Matrix[t][p];
                double share = total == 0 ? 0 : (double)c / total;
                values[t, p] = normalised ? share : Math.Log10(c + 1);
                text[t, p] = normalised
                    ? (total == 0 ? "" : share.ToString(share is > 0 and < 0.005 ? "0.000" : "0.00", CultureInfo.InvariantCulture))
                    : c.ToString("N0", CultureInfo.InvariantCulture);
            }
        }

        var plot = PlotKit.Create(normalised ? "Confusion matrix, row-normalised" : "Confusion matrix, counts", "predicted label", "true label");
        double max = normalised ? 1 : Math.Max(1, Enumerable.Range(0, n).SelectMany(t => Enumerable.Range(0, n).Select(p => values[t, p])).Max());
        long maxCount = m.Confusion.Matrix.SelectMany(row => row).DefaultIfEmpty(0).Max();
        MatrixPlot.Draw(plot, values, labels, labels, new ScottPlot.Colormaps.Reversed(new ScottPlot.Colormaps.Blues()), 0, max, text,
            normalised ? "share of the true label's rows" : "rows (log scale)", normalised ? null : MatrixPlot.CountTicks(maxCount));
        return plot;
    }

    private static Plot PrCurves(EvaluationCurves curves, Dictionary<string, Color> colors)
    {
        var plot = PlotKit.Create("Precision-recall curves", "recall", "precision");
        foreach (var c in curves.Classes)
        {
            var line = plot.Add.ScatterLine(c.Recall.ToArray(), c.Precision.ToArray());
            line.Color = colors.GetValueOrDefault(c.Label, PlotKit.Neutral);
            line.LineWidth = 2.5f;
            line.LegendText = $"{PlotKit.Shorten(c.Label)} (AP {F(c.AveragePrecision, "0.000")})";
        }

        plot.Axes.SetLimits(-0.02, 1.02, -0.02, 1.04);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    private static Plot RocCurves(EvaluationCurves curves, Dictionary<string, Color> colors)
    {
        const double Floor = -5; // 1e-5: a false-positive rate of 0 is drawn there
        var plot = PlotKit.Create("ROC curves", "false-positive rate (log scale)", "true-positive rate (recall)");
        foreach (var c in curves.Classes.Where(c => c.Negatives > 0))
        {
            var xs = c.FalsePositiveRate.Select(f => f <= 0 ? Floor : Math.Max(Floor, Math.Log10(f))).Prepend(Floor).ToArray();
            var ys = c.Recall.Prepend(0.0).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.Color = colors.GetValueOrDefault(c.Label, PlotKit.Neutral);
            line.LineWidth = 2.5f;
            line.LegendText = $"{PlotKit.Shorten(c.Label)} (AUC {F(c.RocAuc, "0.000")})";
        }

        plot.Axes.Bottom.TickGenerator = PlotKit.Log10Ticks((int)Floor, 0);
        plot.Axes.SetLimits(Floor - 0.05, 0.05, -0.02, 1.04);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    private static Plot ThresholdPlot(ThresholdCurve sweep)
    {
        var plot = PlotKit.Create("Alert threshold: false alarms against detections", "threshold on the attack score 1 - P(BENIGN)", "share of rows that alert");
        var xs = sweep.Thresholds.ToArray();
        if (sweep.BenignFpr.Count > 0)
        {
            var fpr = plot.Add.ScatterLine(xs, sweep.BenignFpr.ToArray());
            fpr.Color = PlotKit.Of(ClassPalette.ColorOf(LabelTaxonomy.Benign));
            fpr.LineWidth = 2.5f;
            fpr.LegendText = $"BENIGN false-positive rate ({sweep.BenignRows:N0} rows)";
        }

        if (sweep.AttackRecall.Count > 0)
        {
            var recall = plot.Add.ScatterLine(xs, sweep.AttackRecall.ToArray());
            recall.Color = PlotKit.Of(ClassPalette.ColorOf(LabelTaxonomy.Attack));
            recall.LineWidth = 2.5f;
            recall.LegendText = $"attack recall ({sweep.AttackRows:N0} rows)";
        }

        var chosen = plot.Add.VerticalLine(sweep.Chosen);
        // Solid: Skia's SVG canvas cannot draw dash effects (and says so on stdout).
        chosen.LineWidth = 1.5f;
        chosen.Color = Colors.Black;
        chosen.LegendText = $"threshold {sweep.Chosen.ToString("0.###", CultureInfo.InvariantCulture)}: FPR {P(sweep.ChosenBenignFpr)}, recall {P(sweep.ChosenAttackRecall)}";
        if (sweep.ChosenBenignFpr is { } f)
        {
            var mark = plot.Add.Marker(sweep.Chosen, f);
            mark.Color = PlotKit.Of(ClassPalette.ColorOf(LabelTaxonomy.Benign));
            mark.Size = 11;
        }

        if (sweep.ChosenAttackRecall is { } r)
        {
            var mark = plot.Add.Marker(sweep.Chosen, r);
            mark.Color = PlotKit.Of(ClassPalette.ColorOf(LabelTaxonomy.Attack));
            mark.Size = 11;
        }

        plot.Axes.SetLimits(-0.01, 1.01, -0.02, 1.04);
        plot.ShowLegend(Alignment.MiddleCenter);
        return plot;
    }

    private static void Importance(HtmlReport html, ModelReportInput input)
    {
        html.Heading("Global feature importance");
        var gain = input.Manifest.FeatureImportance.OrderByDescending(kv => kv.Value).Take(20).ToList();
        if (input.Shap is { } shap && shap.Rows > 0)
        {
            var top = shap.Top(20);
            var plot = PlotKit.Create("Mean |SHAP| per feature, by class", "mean |TreeSHAP contribution| to the class's raw score", "");
            var classColors = PlotKit.Colors(shap.Classes);
            var bars = new List<Bar>();
            for (int i = 0; i < top.Count; i++)
            {
                double start = 0;
                for (int k = 0; k < shap.Classes.Count; k++)
                {
                    double v = shap.MeanAbs[k][top[i]];
                    bars.Add(new Bar { Position = top.Count - 1 - i, ValueBase = start, Value = start + v, FillColor = classColors[shap.Classes[k]], LineWidth = 0, Size = 0.75 });
                    start += v;
                }
            }

            var series = plot.Add.Bars(bars);
            series.Horizontal = true;
            foreach (string c in shap.Classes)
            {
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = c, FillColor = classColors[c] });
            }

            PlotKit.CategoryTicksLeft(plot, [.. top.Select(f => FeatureSchema.Features[f].Name)]);
            plot.Axes.Margins(left: 0);
            plot.ShowLegend(Edge.Right);
            html.Figure("importance-shap", plot, $"Exact TreeSHAP (the artifact's own scorer) on {shap.Rows:N0} sampled rows: how far each feature moves each class's raw score on average; bar segments stack the classes.", 1100, 200 + (28 * top.Count));
        }

        if (gain.Count > 0)
        {
            var plot = PlotKit.Create("Split gain per feature (top 20)", "share of the model's total split gain", "");
            DataReport.HorizontalBars(plot, [.. gain.Select(g => g.Key)], [.. gain.Select(g => g.Value)], [.. gain.Select(_ => PlotKit.Neutral)], v => v.ToString("0.000", CultureInfo.InvariantCulture));
            html.Figure("importance-gain", plot, "The training's split gain per feature, as the manifest records it (gain measures what the trees used, not how a given flow was scored).", 1000, 200 + (28 * gain.Count));
        }
        else if (input.Shap is null)
        {
            html.Paragraph("The manifest records no feature importance for this model kind.");
        }
    }

    private static void ModelCard(HtmlReport html, ModelReportInput input)
    {
        var man = input.Manifest;
        var c = CultureInfo.InvariantCulture;
        html.Heading("Model card");
        html.KeyValues(
        [
            ("artifact sha256", input.ModelSha256 ?? "(not saved yet)"),
            ("model kind", man.ModelKind),
            ("created (UTC)", man.CreatedUtc.ToString("yyyy-MM-dd HH:mm:ss", c)),
            ("stakeout version", man.StakeoutVersion),
            ("label level", man.LabelLevel),
            ("classes", string.Join(", ", man.Classes)),
            ("threshold", $"{man.Threshold.ToString("0.####", c)} ({man.ThresholdSource})"),
            ("features", $"{man.Features.Count} of 78 ({man.NonFinite} for non-finite values)"),
        ]);
        html.Subheading("Training data (fingerprint)");
        var t = man.Training;
        html.KeyValues(
        [
            ("rows read", t.RowsRead.ToString("N0", c)),
            ("exact duplicates removed", t.DuplicatesRemoved.ToString("N0", c)),
            ("split", $"{t.Split}, {t.TestFraction.ToString("0.##", c)} held out, seed {t.Seed}"),
            ("training rows / test rows", $"{t.TrainRows.ToString("N0", c)} / {t.TestRows.ToString("N0", c)}"),
        ]);
        html.Table(["file", "rows", "sha256"], t.Files.Select(f => (IReadOnlyList<Cell>)[new Cell(f.Path), Cell.Number(f.Rows), new Cell(f.Sha256)]));
        if (t.ClassCounts.Count > 0)
        {
            var hex = ClassPalette.Assign(t.ClassCounts.Keys);
            html.Table(["class", "training rows"], t.ClassCounts.Select(kv => (IReadOnlyList<Cell>)[new Cell(kv.Key, Swatch: hex[kv.Key]), Cell.Number(kv.Value)]));
        }

        html.Subheading("Hyperparameters");
        html.Table(["name", "value"], man.Hyperparameters.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (IReadOnlyList<Cell>)[new Cell(kv.Key), new Cell(kv.Value)]));
        html.Subheading("Test-split metrics recorded in the manifest");
        html.Table(["metric", "value"], man.Metrics.Select(kv => (IReadOnlyList<Cell>)[new Cell(kv.Key), Cell.Number(kv.Value, "0.######")]));
        html.Subheading("Lineage");
        if (man.Lineage.Count == 0)
        {
            html.Paragraph("Trained from scratch (no parent model).");
        }
        else
        {
            html.Table(["parent sha256", "created (UTC)", "note"], man.Lineage.Select(l => (IReadOnlyList<Cell>)[new Cell(l.Sha256), new Cell(l.CreatedUtc.ToString("yyyy-MM-dd HH:mm:ss", c)), new Cell(l.Note)]));
        }
    }

    private static string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string F(double? v, string format) => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static string P(double? v) => v is { } x ? (x * 100).ToString(x < 0.01 ? "0.000" : "0.00", CultureInfo.InvariantCulture) + " %" : "n/a";
}
