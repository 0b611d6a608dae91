using System.Globalization;
using System.Text.Json;
using ScottPlot;
using Stakeout.Core;
using Stakeout.Detection;

namespace Stakeout.Reports;

/// <summary>
/// The detection report of `detect`: alerts over time by class, alerting flows per class, top sources and targets, the
/// attack-score distribution of every scored flow against the threshold, and example alerts with their explanations.
/// Alerts are read back from alerts.json (the EVE contract) in one streaming pass with bounded state.
/// </summary>
public static class DetectionReport
{
    /// <summary>File name prefix of the report and its plots.</summary>
    public const string Prefix = "detection-report";

    private const int ExamplesPerClass = 3;
    private const int MaxExamples = 24;

    /// <summary>Writes the report into <paramref name="directory"/> from a run's summary and its alerts.json; returns every file written, the HTML last.</summary>
    public static IReadOnlyList<string> Write(DetectionSummary summary, string alertsPath, string directory, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentException.ThrowIfNullOrWhiteSpace(alertsPath);
        var alerts = AlertDigest.Read(alertsPath);
        var html = new HtmlReport("Stakeout detection report", directory, Prefix);
        var classes = summary.AlertsByClass.Select(c => c.Name).Concat(alerts.Classes).Distinct(StringComparer.Ordinal).ToList();
        var colors = PlotKit.Colors(classes);
        var hex = ClassPalette.Assign(classes);
        var c = CultureInfo.InvariantCulture;

        html.Heading("Summary");
        html.KeyValues(
        [
            ("model", $"{summary.Model} (sha256 {summary.ModelSha256 ?? "n/a"})"),
            ("flows in = scored + rejected + dropped", $"{summary.FlowsIn.ToString("N0", c)} = {summary.FlowsScored.ToString("N0", c)} + {summary.FlowsRejected.ToString("N0", c)} + {summary.FlowsDropped.ToString("N0", c)} ({(summary.Balanced ? "balanced" : "NOT balanced")})"),
            ("alerting flows", $"{summary.AlertFlows.ToString("N0", c)} ({(summary.FlowsScored == 0 ? 0 : (double)summary.AlertFlows / summary.FlowsScored * 100).ToString("0.00", c)} % of flows scored)"),
            ("alerts emitted (after aggregation)", summary.AlertsEmitted.ToString("N0", c)),
            ("suppressed by allow-lists", summary.SuppressedByAllowList.ToString("N0", c)),
            ("thresholds", string.Join(", ", summary.Thresholds.Select(t => $"{t.Key} {t.Value.ToString("0.###", c)}"))),
        ]);

        html.Heading("Alerts by class");
        if (summary.AlertsByClass.Count == 0)
        {
            html.Paragraph("No flow reached the threshold: no alert.");
        }
        else
        {
            long top = summary.AlertsByClass.Max(x => x.Flows);
            html.Table(["class", "alerting flows"], summary.AlertsByClass.Select(x => (IReadOnlyList<Cell>)[new Cell(x.Name, Swatch: hex[x.Name]), new Cell(x.Flows.ToString("N0", c), true, BarShare: (double)x.Flows / top, BarColor: hex[x.Name])]));
            var plot = PlotKit.Create("Alerting flows per class", "flows", "");
            DataReport.HorizontalBars(plot, [.. summary.AlertsByClass.Select(x => x.Name)], [.. summary.AlertsByClass.Select(x => (double)x.Flows)], [.. summary.AlertsByClass.Select(x => colors[x.Name])], v => v.ToString("N0", c));
            html.Figure("by-class", plot, "Flows that reached their class's threshold, per alert class.", 1000, Math.Max(240, 90 + (40 * summary.AlertsByClass.Count)));
        }

        if (alerts.Buckets.Count > 0)
        {
            html.Figure("over-time", OverTime(alerts, colors), alerts.EventTimesFromData
                ? "Alerting flows per time bucket by class, on the flows' own start times (local time of the capture, as the data writes it)."
                : "Alerting flows per time bucket by class, on the time they were received (the data has no flow timestamps).");
        }

        html.Heading("Top sources and targets");
        if (!summary.DataHasAddresses)
        {
            html.Paragraph("The data has no addresses (MachineLearningCVE layout): no source or target to rank.");
        }
        else
        {
            foreach (var (name, list, what) in new[] { ("top-sources", summary.TopSources, "source address"), ("top-targets", summary.TopTargets, "target (address:port)") })
            {
                if (list.Count == 0)
                {
                    continue;
                }

                var plot = PlotKit.Create($"Top {list.Count} by alerting flows: {what}", "alerting flows", "");
                DataReport.HorizontalBars(plot, [.. list.Select(x => x.Name)], [.. list.Select(x => (double)x.Flows)], [.. list.Select(_ => PlotKit.Neutral)], v => v.ToString("N0", c));
                html.Figure(name, plot, $"The {what}es of alerting flows with the most alerts.", 1000, Math.Max(240, 90 + (34 * list.Count)));
            }
        }

        if (summary.AttackScores is { } scores && scores.Counts.Sum() > 0)
        {
            html.Heading("Score distribution");
            double threshold = summary.Thresholds.Count == 0 ? 0.5 : summary.Thresholds.Values.Min();
            html.Figure("scores", ScorePlot(scores, threshold), $"Attack score 1 - P(BENIGN) of every scored flow ({scores.Counts.Sum().ToString("N0", c)}), in bins of 0.01 on a log count scale; bars at or above the lowest threshold in force ({threshold.ToString("0.###", c)}) are red. A model that separates well puts almost every flow at the two ends.");
        }

        Examples(html, alerts);
        string stamp = (time ?? TimeProvider.System).GetUtcNow().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", c);
        html.Save($"{summary.FlowsScored:N0} flows scored, {summary.AlertsEmitted:N0} alerts; written {stamp} by stakeout detect.");
        return html.Files;
    }

    private static Plot OverTime(AlertDigest alerts, Dictionary<string, Color> colors)
    {
        var (start, width, count) = alerts.BucketLayout(48);
        string xLabel = alerts.EventTimesFromData ? "flow start time (as the data writes it)" : "time received (UTC)";
        var plot = PlotKit.Create("Alerting flows over time, by class", xLabel, "alerting flows");
        var totals = new double[count];
        var bars = new List<Bar>();
        foreach (string cls in alerts.Classes)
        {
            var perBucket = new double[count];
            foreach (var ((second, name), flows) in alerts.Buckets)
            {
                if (name == cls)
                {
                    perBucket[Math.Min(count - 1, (int)((second - start) / width))] += flows;
                }
            }

            for (int i = 0; i < count; i++)
            {
                if (perBucket[i] > 0)
                {
                    double x = DateTime.UnixEpoch.AddSeconds(start + ((i + 0.5) * width)).ToOADate();
                    bars.Add(new Bar { Position = x, ValueBase = totals[i], Value = totals[i] + perBucket[i], FillColor = colors[cls], LineWidth = 0, Size = width / 86400.0 * 0.9 });
                    totals[i] += perBucket[i];
                }
            }

            plot.Legend.ManualItems.Add(new LegendItem { LabelText = PlotKit.Shorten(cls), FillColor = colors[cls] });
        }

        plot.Add.Bars(bars);
        // The date-time axis replaces the bottom axis, and its label with it: name it again.
        plot.Axes.DateTimeTicksBottom();
        plot.XLabel(xLabel, size: 15);
        plot.Axes.Bottom.Label.FontName = PlotKit.FontName;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    private static Plot ScorePlot(AttackScoreCounts scores, double threshold)
    {
        var plot = PlotKit.Create("Attack scores of every scored flow", "attack score 1 - P(BENIGN)", "flows (log scale)");
        var benign = PlotKit.Of(ClassPalette.ColorOf(LabelTaxonomy.Benign));
        var attack = PlotKit.Of(ClassPalette.ColorOf(LabelTaxonomy.Attack));
        int n = scores.Counts.Count;
        var bars = new List<Bar>();
        double max = 0;
        for (int i = 0; i < n; i++)
        {
            if (scores.Counts[i] == 0)
            {
                continue;
            }

            // Bars start below 1 flow (10^-0.3) so a bin of one flow still shows.
            double v = Math.Log10(scores.Counts[i]);
            max = Math.Max(max, v);
            double left = (double)i / n;
            bars.Add(new Bar { Position = left + (0.5 / n), ValueBase = -0.3, Value = v, Size = 0.9 / n, FillColor = left + (1.0 / n) > threshold ? attack : benign, LineWidth = 0 });
        }

        plot.Add.Bars(bars);
        var line = plot.Add.VerticalLine(threshold);
        line.Color = Colors.Black;
        line.LineWidth = 1.5f;
        line.LegendText = $"threshold {threshold.ToString("0.###", CultureInfo.InvariantCulture)}";
        plot.Axes.Left.TickGenerator = PlotKit.Log10Ticks(0, (int)Math.Ceiling(max));
        plot.Axes.SetLimits(0, 1, -0.3, Math.Ceiling(max) + 0.2);
        plot.ShowLegend(Alignment.UpperCenter);
        return plot;
    }

    private static void Examples(HtmlReport html, AlertDigest alerts)
    {
        html.Heading("Example alerts and their explanations");
        if (alerts.Examples.Count == 0)
        {
            html.Paragraph("No alert to show.");
            return;
        }

        html.Paragraph($"The highest-scoring alerts of each class (up to {ExamplesPerClass} per class). Contributions are exact TreeSHAP values on the class's raw score: red pushes towards the alert class, blue away from it.", muted: true);
        foreach (var e in alerts.Examples)
        {
            html.Subheading($"{e.Signature} · score {e.Score.ToString("0.0000", CultureInfo.InvariantCulture)} · {e.Flows:N0} flow(s)");
            html.KeyValues(
            [
                ("class / family / severity", $"{e.Signature} / {e.Category} / {e.Severity}"),
                ("flow", e.Flow),
                ("first seen / last seen", $"{e.FirstSeen} / {e.LastSeen}"),
                ("where", $"{e.Stream}, line {e.Line}"),
            ]);
            double largest = e.Explanation.Count == 0 ? 1 : e.Explanation.Max(x => Math.Abs(x.Contribution));
            html.Table(
                ["feature", "value", "contribution"],
                e.Explanation.Select(x => (IReadOnlyList<Cell>)
                [
                    new Cell(x.Feature),
                    new Cell(x.Value, true),
                    new Cell(x.Contribution.ToString("+0.0000;-0.0000", CultureInfo.InvariantCulture), true, BarShare: largest == 0 ? 0 : Math.Abs(x.Contribution) / largest, BarColor: x.Contribution >= 0 ? "#d62728" : "#1f77b4"),
                ]));
        }

    }

    /// <summary>What the report keeps of alerts.json: per-second counts by class and the top examples per class.</summary>
    internal sealed class AlertDigest
    {
        public Dictionary<(long Second, string Class), long> Buckets { get; } = [];

        public List<string> Classes { get; } = [];

        public List<Example> Examples { get; private set; } = [];

        public bool EventTimesFromData { get; private set; } = true;

        public (long Start, double Width, int Count) BucketLayout(int most)
        {
            long min = Buckets.Keys.Min(k => k.Second), max = Buckets.Keys.Max(k => k.Second);
            double span = Math.Max(1, max - min + 1);
            double[] widths = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800];
            double width = widths.FirstOrDefault(w => span / w <= most, Math.Ceiling(span / most));
            long start = (long)(Math.Floor(min / width) * width);
            return (start, width, Math.Max(1, (int)Math.Ceiling((max + 1 - start) / width)));
        }

        public static AlertDigest Read(string path)
        {
            var digest = new AlertDigest();
            var byClass = new Dictionary<string, List<Example>>(StringComparer.Ordinal);
            if (!File.Exists(path))
            {
                return digest;
            }

            long lineNumber = 0;
            foreach (string line in File.ReadLines(path))
            {
                lineNumber++;
                if (line.Length == 0)
                {
                    continue;
                }

                JsonDocument doc;
                try
                {
                    doc = JsonDocument.Parse(line);
                }
                catch (JsonException ex)
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: not an EVE JSON line ({ex.Message}).", ex);
                }

                using (doc)
                {
                    var root = doc.RootElement;
                    if (!root.TryGetProperty("event_type", out var type) || type.GetString() != "alert")
                    {
                        continue;
                    }

                    var alert = root.GetProperty("alert");
                    string signature = alert.GetProperty("signature").GetString() ?? "";
                    long flows = root.TryGetProperty("count", out var count) ? count.GetInt64() : 1;
                    string first = root.GetProperty("first_seen").GetString() ?? "";
                    if (!digest.Classes.Contains(signature))
                    {
                        digest.Classes.Add(signature);
                    }

                    if (!root.GetProperty("stakeout").TryGetProperty("flow_start", out _))
                    {
                        digest.EventTimesFromData = false;
                    }

                    long second = (long)(ParseTime(first, path, lineNumber) - DateTime.UnixEpoch).TotalSeconds;
                    digest.Buckets[(second, signature)] = digest.Buckets.GetValueOrDefault((second, signature)) + flows;
                    double score = alert.GetProperty("score").GetDouble();
                    var list = byClass.TryGetValue(signature, out var l) ? l : byClass[signature] = [];
                    if (list.Count < ExamplesPerClass || score > list[^1].Score)
                    {
                        list.Add(Example.From(root, alert, signature, score, flows, first));
                        list.Sort((a, b) => b.Score.CompareTo(a.Score));
                        if (list.Count > ExamplesPerClass)
                        {
                            list.RemoveAt(list.Count - 1);
                        }
                    }
                }
            }

            digest.Examples = [.. byClass.Values.SelectMany(x => x).OrderByDescending(e => e.Score).Take(MaxExamples)];
            return digest;
        }

        private static DateTime ParseTime(string text, string path, long line)
        {
            string trimmed = text.EndsWith("+0000", StringComparison.Ordinal) ? text[..^5] : text;
            if (!DateTime.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                throw new InvalidDataException($"{path}:{line}: first_seen '{text}' is not a time.");
            }

            return time;
        }
    }

    internal sealed record Example(string Signature, string Category, int Severity, double Score, long Flows, string Flow, string FirstSeen, string LastSeen, string Stream, long Line, IReadOnlyList<(string Feature, string Value, double Contribution)> Explanation)
    {
        public static Example From(JsonElement root, JsonElement alert, string signature, double score, long flows, string first)
        {
            string Get(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : "";
            string flow = root.TryGetProperty("src_ip", out _)
                ? $"{Get(root, "src_ip")}:{Get(root, "src_port")} → {Get(root, "dest_ip")}:{Get(root, "dest_port")} {Get(root, "proto")}"
                : $"(no addresses in the data) → port {Get(root, "dest_port")}";
            var stakeout = root.GetProperty("stakeout");
            var explanation = root.TryGetProperty("explanation", out var ex)
                ? ex.EnumerateArray().Select(x => (Get(x, "feature"), Get(x, "value"), x.GetProperty("contribution").GetDouble())).ToList()
                : [];
            return new Example(signature, Get(alert, "category"), alert.GetProperty("severity").GetInt32(), score, flows, flow, first, Get(root, "last_seen"), Get(stakeout, "stream"), stakeout.GetProperty("line").GetInt64(), explanation);
        }
    }
}
