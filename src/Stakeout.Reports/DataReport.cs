using System.Globalization;
using ScottPlot;
using Stakeout.Core;
using Stakeout.Ingest;

namespace Stakeout.Reports;

/// <summary>What the data report is drawn from: the reader's accounting, the one-pass feature profile and the sample.</summary>
/// <param name="Read">The reader's report (files, accounting, classes, quirks, rejects).</param>
/// <param name="Features">Per-feature statistics over every row used.</param>
/// <param name="Sample">A per-group sample of the rows used.</param>
public sealed record DataReportInput(ReadReport Read, IReadOnlyList<FeatureStats> Features, DataSample Sample);

/// <summary>Options of the data report.</summary>
public sealed record DataReportOptions
{
    /// <summary>
    /// The features drawn by default: size, rate, timing and window features that separate the CIC-IDS2017 attack
    /// families and that an analyst reads without a glossary (12 of the 78).
    /// </summary>
    public static IReadOnlyList<string> DefaultFeatures { get; } =
    [
        "Flow Duration", "Total Fwd Packets", "Total Backward Packets", "Total Length of Fwd Packets",
        "Fwd Packet Length Max", "Bwd Packet Length Mean", "Flow Bytes/s", "Flow Packets/s", "Flow IAT Mean",
        "Packet Length Mean", "Init_Win_bytes_forward", "Init_Win_bytes_backward",
    ];

    /// <summary>Canonical feature indices to draw; null means <see cref="DefaultFeatures"/>.</summary>
    public IReadOnlyList<int>? Features { get; init; }

    /// <summary>Histogram bins per feature.</summary>
    public int Bins { get; init; } = 40;

    /// <summary>Resolves "all", "default" or a comma-separated list of feature names (any known spelling) to indices.</summary>
    public static IReadOnlyList<int>? ParseFeatures(string? value)
    {
        if (value is null || value.Trim().Equals("default", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (value.Trim().Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return [.. Enumerable.Range(0, FeatureSchema.Count)];
        }

        var result = new List<int>();
        foreach (string name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int index = FeatureSchema.Features.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)
                || f.Aliases.Any(a => string.Equals(a, name, StringComparison.OrdinalIgnoreCase)))?.Index ?? -1;
            if (index < 0)
            {
                throw new ArgumentException($"--report-features: '{name}' is not one of the 78 CICFlowMeter feature names (e.g. 'Flow Duration', 'Flow Bytes/s'); use 'all' or 'default'.");
            }

            result.Add(index);
        }

        return result.Distinct().ToList();
    }
}

/// <summary>
/// `data inspect --report DIR`: class distribution, per-feature distributions by family (signed log scale where
/// heavy-tailed), non-finite and rejected-row counts, feature correlation, duplicate share. One HTML file
/// (data-report.html) and every plot as PNG and SVG beside it.
/// </summary>
public static class DataReport
{
    /// <summary>File name prefix of the report and its plots.</summary>
    public const string Prefix = "data-report";

    /// <summary>Writes the report into <paramref name="directory"/>; returns every file written, the HTML last.</summary>
    public static IReadOnlyList<string> Write(DataReportInput input, string directory, DataReportOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= new DataReportOptions();
        var read = input.Read;
        var html = new HtmlReport("Stakeout data report", directory, Prefix);
        var features = options.Features ?? [.. DataReportOptions.DefaultFeatures.Select(n => FeatureSchema.Features.First(f => f.Name == n).Index)];
        bool isDefault = options.Features is null;

        Overview(html, read);
        Classes(html, read);
        Quality(html, read, input.Features);
        Distributions(html, input, features, isDefault, options.Bins);
        Correlation(html, input, features, isDefault);

        string stamp = (time ?? TimeProvider.System).GetUtcNow().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        html.Save($"{read.Files.Count} file(s), {read.RowsRead:N0} rows read; written {stamp} by stakeout data inspect.");
        return html.Files;
    }

    private static void Overview(HtmlReport html, ReadReport read)
    {
        html.Heading("Files and accounting");
        html.Table(
            ["file", "layout", "rows read", "rows used"],
            read.Files.Select(f => (IReadOnlyList<Cell>)[new Cell(f.Path), new Cell(f.Layout.ToString()), Cell.Number(f.RowsRead), Cell.Number(f.RowsUsed)]));
        double duplicateShare = read.RowsRead == 0 ? 0 : (double)read.Duplicates / read.RowsRead;
        html.KeyValues(
        [
            ("rows read", read.RowsRead.ToString("N0", CultureInfo.InvariantCulture)),
            ("rows used", read.RowsUsed.ToString("N0", CultureInfo.InvariantCulture)),
            ("rows rejected", read.RowsRejected.ToString("N0", CultureInfo.InvariantCulture)),
            ("rows dropped", read.RowsDropped.ToString("N0", CultureInfo.InvariantCulture)),
            ("every row accounted for (read = used + rejected + dropped)", read.IsBalanced ? "yes" : "NO"),
            ("exact duplicate rows (same features and label, across files)", $"{read.Duplicates.ToString("N0", CultureInfo.InvariantCulture)} ({(duplicateShare * 100).ToString("0.00", CultureInfo.InvariantCulture)} % of rows read)"),
        ]);

        var plot = PlotKit.Create("Where every row went", "rows", "");
        string[] names = ["used", "rejected", "dropped", "duplicates (within used)"];
        long[] values = [read.RowsUsed, read.RowsRejected, read.RowsDropped, read.Duplicates];
        HorizontalBars(plot, names, [.. values.Select(v => (double)v)], [.. names.Select(_ => PlotKit.Neutral)], v => v.ToString("N0", CultureInfo.InvariantCulture));
        html.Figure("accounting", plot, "Rows read, by what happened to them. Duplicates are exact repeats of an earlier row (features and label) and are part of the used rows unless --duplicates drop.", 1000, 300);
    }

    private static void Classes(HtmlReport html, ReadReport read)
    {
        html.Heading("Classes");
        var classes = read.Classes.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        if (classes.Count == 0)
        {
            html.Paragraph("The data has no labels.");
            return;
        }

        var colors = ClassPalette.Assign(classes.Select(c => c.Key));
        long total = classes.Sum(c => c.Value);
        long largest = classes.Max(c => c.Value);
        html.Table(
            ["label", "family", "rows", "share"],
            classes.Select(c => (IReadOnlyList<Cell>)
            [
                new Cell(c.Key, Swatch: colors[c.Key]),
                new Cell(ClassPalette.FamilyOf(c.Key) ?? "(not in the CIC-IDS2017 taxonomy)"),
                Cell.Number(c.Value),
                new Cell(((double)c.Value / total * 100).ToString("0.00", CultureInfo.InvariantCulture) + " %", true, BarShare: (double)c.Value / largest, BarColor: colors[c.Key]),
            ]));

        var plot = PlotKit.Create("Rows per label (log scale)", "rows", "");
        var values = classes.Select(c => Math.Log10(Math.Max(1, c.Value))).ToArray();
        HorizontalBars(plot, [.. classes.Select(c => c.Key)], values, [.. classes.Select(c => PlotKit.Of(colors[c.Key]))], v => Math.Pow(10, v).ToString("N0", CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = PlotKit.Log10Ticks(0, (int)Math.Ceiling(values.Max()) + 1);
        plot.Axes.SetLimitsX(0, Math.Ceiling(values.Max() + 0.6));
        html.Figure("classes", plot, "Rows per label as read, on a log scale so the rarest class stays visible; colours are the family colours used in every Stakeout view.", 1000, Math.Max(260, 70 + (38 * classes.Count)));

        var families = read.ClassesAt(LabelLevel.Family).OrderByDescending(kv => kv.Value).ToList();
        if (families.Count != classes.Count)
        {
            html.Subheading("Families");
            html.Table(
                ["family", "rows", "share"],
                families.Select(f => (IReadOnlyList<Cell>)[new Cell(f.Key, Swatch: ClassPalette.ColorOf(f.Key)), Cell.Number(f.Value), Cell.Percent((double)f.Value / total)]));
        }
    }

    private static void Quality(HtmlReport html, ReadReport read, IReadOnlyList<FeatureStats> stats)
    {
        html.Heading("Data quality");
        var nonFinite = stats.Where(s => s.PositiveInfinity + s.NegativeInfinity > 0 || (s.Missing > 0 && s.Missing < s.Missing + s.Finite)).ToList();
        var absent = stats.Where(s => s.Finite == 0 && s.Missing > 0).Select(s => s.Name).ToList();
        if (nonFinite.Count == 0)
        {
            html.Paragraph("No feature holds Infinity or NaN values.");
        }
        else
        {
            html.Table(
                ["feature", "NaN / empty", "+Infinity", "-Infinity", "finite"],
                nonFinite.Select(s => (IReadOnlyList<Cell>)[new Cell(s.Name), Cell.Number(s.Missing), Cell.Number(s.PositiveInfinity), Cell.Number(s.NegativeInfinity), Cell.Number(s.Finite)]),
                "Non-finite values per feature (kept as read by default; see --non-finite).");
            var plot = PlotKit.Create("Non-finite values per feature", "values", "");
            HorizontalBars(plot, [.. nonFinite.Select(s => s.Name)], [.. nonFinite.Select(s => (double)s.NonFinite)], [.. nonFinite.Select(_ => PlotKit.Neutral)], v => v.ToString("N0", CultureInfo.InvariantCulture));
            html.Figure("non-finite", plot, "Infinity, NaN and empty cells per feature (CICFlowMeter divides by a zero duration for Flow Bytes/s and Flow Packets/s).", 1000, Math.Max(260, 90 + (40 * nonFinite.Count)));
        }

        if (absent.Count > 0)
        {
            html.Paragraph($"Features absent from every file read: {string.Join(", ", absent)}.");
        }

        var constant = stats.Where(s => s.IsConstant).Select(s => s.Name).ToList();
        if (constant.Count > 0)
        {
            html.Paragraph($"Constant features ({constant.Count}; they carry no information here): {string.Join(", ", constant)}.");
        }

        html.Subheading("Rejected and dropped rows");
        var reasons = read.RejectedByReason.Select(kv => ("rejected", kv.Key.ToString(), kv.Value))
            .Concat(read.DroppedByReason.Select(kv => ("dropped", kv.Key.ToString(), kv.Value))).ToList();
        if (reasons.Count == 0)
        {
            html.Paragraph("No row was rejected or dropped.");
        }
        else
        {
            html.Table(["", "reason", "rows"], reasons.Select(r => (IReadOnlyList<Cell>)[new Cell(r.Item1), new Cell(r.Item2), Cell.Number(r.Item3)]));
        }

        if (read.Rejects.Count > 0)
        {
            html.Table(
                ["file", "line", "field", "reason", "detail"],
                read.Rejects.Take(20).Select(r => (IReadOnlyList<Cell>)[new Cell(r.File), Cell.Number(r.Line), new Cell(r.Field ?? ""), new Cell(r.Reason.ToString()), new Cell(r.Detail)]),
                read.Rejects.Count > 20 ? $"The first 20 of {read.Rejects.Count:N0} rejected rows listed (the JSON report has all)." : "Rejected rows.");
        }

        if (read.Quirks.Count > 0)
        {
            html.Subheading("Quirks found");
            html.Table(["quirk", "count"], read.Quirks.Select(q => (IReadOnlyList<Cell>)[new Cell(q.Key), Cell.Number(q.Value)]));
        }
    }

    private static void Distributions(HtmlReport html, DataReportInput input, IReadOnlyList<int> features, bool isDefault, int bins)
    {
        var sample = input.Sample;
        var groups = sample.Groups;
        html.Heading("Feature distributions by family");
        html.Paragraph(isDefault
            ? $"{features.Count} of the 78 features, chosen for being readable without a glossary ({string.Join(", ", DataReportOptions.DefaultFeatures)}); --report-features all draws every feature, or name your own."
            : $"{features.Count} feature(s), as --report-features asked.");
        html.Paragraph(
            $"Drawn from a seeded sample (seed {sample.Seed}) of up to {sample.PerGroup:N0} rows per family: "
            + string.Join(", ", groups.Select(g => $"{g} {sample.Rows(g).Count:N0} of {sample.Seen(g):N0}"))
            + ". Each curve is the share of its family's finite values per bin, so families of very different sizes compare. Axes marked \"signed log\" show sign(x)·log10(1+|x|) with ticks in the feature's own units.",
            muted: true);
        var colors = PlotKit.Colors(groups);
        foreach (int f in features)
        {
            var definition = FeatureSchema.Features[f];
            var values = groups.ToDictionary(g => g, g => sample.Rows(g).Select(r => (double)r[f]).Where(double.IsFinite).ToArray(), StringComparer.Ordinal);
            var all = values.Values.SelectMany(v => v).ToArray();
            if (all.Length == 0)
            {
                html.Paragraph($"{definition.Name}: no finite value in the sample.");
                continue;
            }

            bool log = IsHeavyTailed(all);
            Func<double, double> map = log ? PlotKit.SymLog : v => v;
            double lo = all.Min(), hi = all.Max();
            double a = map(lo), b = map(hi);
            if (b <= a)
            {
                b = a + 1;
            }

            string unit = Unit(definition.Unit);
            var plot = PlotKit.Create(definition.Name, $"{definition.Name}{(unit.Length > 0 ? $" ({unit})" : "")}{(log ? ", signed log scale" : "")}", "share of the family's rows");
            double width = (b - a) / bins;
            foreach (string g in groups)
            {
                if (values[g].Length == 0)
                {
                    continue;
                }

                var counts = new double[bins];
                foreach (double v in values[g])
                {
                    counts[Math.Clamp((int)((map(v) - a) / width), 0, bins - 1)]++;
                }

                var xs = new double[bins + 2];
                var ys = new double[bins + 2];
                xs[0] = a;
                for (int i = 0; i < bins; i++)
                {
                    xs[i + 1] = a + (i * width);
                    ys[i + 1] = counts[i] / values[g].Length;
                }

                xs[^1] = b;
                var line = plot.Add.ScatterLine(xs, ys);
                line.ConnectStyle = ConnectStyle.StepHorizontal;
                line.Color = colors[g];
                line.LineWidth = 2.5f;
                line.LegendText = $"{g} (n={values[g].Length:N0})";
            }

            if (log)
            {
                plot.Axes.Bottom.TickGenerator = PlotKit.SymLogTicks(lo, hi);
            }

            plot.Axes.SetLimitsX(a - (width / 2), b + (width / 2));
            plot.Axes.Margins(bottom: 0);
            plot.ShowLegend(Edge.Right);
            var stats = input.Features[f];
            html.Figure(
                "feature-" + Slug(definition.Name),
                plot,
                $"{definition.Name}: {definition.Description} Over all rows used: min {Format(stats.Min)}, mean {Format(stats.Mean)}, max {Format(stats.Max)}, non-finite {stats.NonFinite:N0}.",
                1000,
                460);
        }
    }

    private static void Correlation(HtmlReport html, DataReportInput input, IReadOnlyList<int> features, bool isDefault)
    {
        var rows = input.Sample.All().Select(x => x.Row).ToList();
        var used = features.Where(f => Variance(rows, f) > 0).ToList();
        html.Heading("Feature correlation");
        if (used.Count < 2 || rows.Count < 3)
        {
            html.Paragraph("Fewer than two varying features in the sample: no correlation to show.");
            return;
        }

        int n = used.Count;
        var matrix = new double[n, n];
        string[,]? text = n <= 20 ? new string[n, n] : null;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double r = i == j ? 1 : Pearson(rows, used[i], used[j]);
                matrix[i, j] = r;
                if (text is not null)
                {
                    text[i, j] = double.IsNaN(r) ? "" : r.ToString("0.00", CultureInfo.InvariantCulture);
                }
            }
        }

        var names = used.Select(f => FeatureSchema.Features[f].Name).ToList();
        var plot = PlotKit.Create("Pearson correlation between features", "", "");
        MatrixPlot.Draw(plot, matrix, names, names, new ScottPlot.Colormaps.Balance(), -1, 1, text, "Pearson r");
        int size = Math.Max(700, 260 + (n * 34));
        html.Figure("correlation", plot, $"Pearson correlation of {n} feature(s){(isDefault ? " (the drawn subset)" : "")} over the {rows.Count:N0} sampled rows, finite pairs only (constant features left out). Strongly correlated pairs carry the same information twice.", size + 120, size);
    }

    internal static bool IsHeavyTailed(double[] values)
    {
        var magnitudes = values.Select(Math.Abs).Order().ToArray();
        double max = magnitudes[^1];
        double median = magnitudes[magnitudes.Length / 2];
        return max >= 1000 && max >= 100 * Math.Max(1, median);
    }

    private static double Variance(List<float[]> rows, int f)
    {
        var v = rows.Select(r => (double)r[f]).Where(double.IsFinite).ToArray();
        if (v.Length < 2)
        {
            return 0;
        }

        double mean = v.Average();
        return v.Sum(x => (x - mean) * (x - mean)) / v.Length;
    }

    private static double Pearson(List<float[]> rows, int a, int b)
    {
        double n = 0, sa = 0, sb = 0;
        foreach (var r in rows)
        {
            if (float.IsFinite(r[a]) && float.IsFinite(r[b]))
            {
                n++;
                sa += r[a];
                sb += r[b];
            }
        }

        if (n < 3)
        {
            return double.NaN;
        }

        double ma = sa / n, mb = sb / n, cov = 0, va = 0, vb = 0;
        foreach (var r in rows)
        {
            if (float.IsFinite(r[a]) && float.IsFinite(r[b]))
            {
                double da = r[a] - ma, db = r[b] - mb;
                cov += da * db;
                va += da * da;
                vb += db * db;
            }
        }

        return va == 0 || vb == 0 ? double.NaN : cov / Math.Sqrt(va * vb);
    }

    /// <summary>Horizontal bars, first label at the top, each with its value printed at its end.</summary>
    internal static void HorizontalBars(Plot plot, IReadOnlyList<string> labels, IReadOnlyList<double> values, IReadOnlyList<Color> colors, Func<double, string> valueText)
    {
        var bars = new List<Bar>();
        for (int i = 0; i < labels.Count; i++)
        {
            bars.Add(new Bar
            {
                Position = labels.Count - 1 - i,
                Value = values[i],
                FillColor = colors[i],
                LineWidth = 0,
                Label = valueText(values[i]),
                Size = 0.7,
            });
        }

        var series = plot.Add.Bars(bars);
        series.Horizontal = true;
        series.ValueLabelStyle.FontSize = 12;
        series.ValueLabelStyle.FontName = PlotKit.FontName;
        PlotKit.CategoryTicksLeft(plot, labels);
        plot.Axes.Margins(left: 0, right: 0.15);
        plot.Grid.YAxisStyle.MajorLineStyle.Width = 0;
    }

    private static string Unit(FeatureUnit unit) => unit switch
    {
        FeatureUnit.Microseconds => "µs",
        FeatureUnit.Bytes => "bytes",
        FeatureUnit.BytesPerSecond => "bytes/s",
        FeatureUnit.PacketsPerSecond => "packets/s",
        FeatureUnit.Packets => "packets",
        _ => "",
    };

    private static string Format(double? v) => v is { } x ? PlotKit.Compact(Math.Round(x, 3)) : "n/a";

    internal static string Slug(string name)
    {
        var chars = name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray();
        return string.Join('-', new string(chars).Split('-', StringSplitOptions.RemoveEmptyEntries));
    }
}
