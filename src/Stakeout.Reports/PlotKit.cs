using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;
using Stakeout.Core;

namespace Stakeout.Reports;

/// <summary>The look every report plot shares: one sans font, sizes readable at 100 %, class colours from <see cref="ClassPalette"/>.</summary>
internal static class PlotKit
{
    /// <summary>Debian's fonts-dejavu-core; SkiaSharp falls back to its default when it is absent.</summary>
    public const string FontName = "DejaVu Sans";

    /// <summary>Colour of things that are not a class (counts, importance, sources).</summary>
    public static readonly Color Neutral = Color.FromHex("#4c5b6b");

    public static Plot Create(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title, size: 18);
        plot.XLabel(xLabel, size: 15);
        plot.YLabel(yLabel, size: 15);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Legend.FontSize = 13;
        plot.Legend.FontName = FontName;
        return plot;
    }

    public static Color Of(string hex) => Color.FromHex(hex);

    /// <summary>Category labels along the bottom (rotated when long) at positions 0..n-1.</summary>
    public static void CategoryTicksBottom(Plot plot, IReadOnlyList<string> labels)
    {
        var ticks = new NumericManual();
        for (int i = 0; i < labels.Count; i++)
        {
            ticks.AddMajor(i, Shorten(labels[i]));
        }

        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        if (labels.Any(l => l.Length > 6) && labels.Count > 4)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -35;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            // ScottPlot sizes the axis for level labels; a rotated one needs room for its drop (sin 35° of its length).
            float longest = labels.Max(l => Shorten(l).Length) * 7.5f;
            plot.Axes.Bottom.MinimumSize = (longest * 0.6f) + 45;
        }
    }

    /// <summary>Category labels along the left, first at the top, at positions n-1..0.</summary>
    public static void CategoryTicksLeft(Plot plot, IReadOnlyList<string> labels)
    {
        var ticks = new NumericManual();
        for (int i = 0; i < labels.Count; i++)
        {
            ticks.AddMajor(labels.Count - 1 - i, Shorten(labels[i]));
        }

        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.Left.MajorTickStyle.Length = 0;
    }

    /// <summary>Signed log: sign(x)·log10(1+|x|), so 0 stays 0, -1 stays visible and 10^9 fits beside 3.</summary>
    public static double SymLog(double x) => Math.Sign(x) * Math.Log10(1 + Math.Abs(x));

    /// <summary>Ticks labelled in data units at 0, ±1, ±10, ±100 ... over a symlog axis covering [lo, hi] (data units).</summary>
    public static NumericManual SymLogTicks(double lo, double hi)
    {
        var ticks = new NumericManual();
        ticks.AddMajor(0, "0");
        for (int e = 0; e <= 12; e++)
        {
            double v = Math.Pow(10, e);
            if (v <= hi * 1.0001 || e == 0)
            {
                ticks.AddMajor(SymLog(v), Compact(v));
            }

            if (-v >= lo * 1.0001 && lo < 0)
            {
                ticks.AddMajor(SymLog(-v), "-" + Compact(v));
            }
        }

        return ticks;
    }

    /// <summary>Log10 axis ticks at powers of ten between the exponents (the data is plotted as log10 of itself).</summary>
    public static NumericManual Log10Ticks(int minExponent, int maxExponent)
    {
        var ticks = new NumericManual();
        for (int e = minExponent; e <= maxExponent; e++)
        {
            ticks.AddMajor(e, Compact(Math.Pow(10, e)));
        }

        return ticks;
    }

    /// <summary>1, 10, 100, 1k, 10k ... 1G; fractions as 0.1, 0.01 ...</summary>
    public static string Compact(double v)
    {
        double a = Math.Abs(v);
        return a switch
        {
            >= 1e12 => (v / 1e12).ToString("0.#", CultureInfo.InvariantCulture) + "T",
            >= 1e9 => (v / 1e9).ToString("0.#", CultureInfo.InvariantCulture) + "G",
            >= 1e6 => (v / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + "M",
            >= 1e3 => (v / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "k",
            >= 1 => v.ToString("0.#", CultureInfo.InvariantCulture),
            0 => "0",
            _ => v.ToString("0.#####", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Long labels (data can hold anything) are cut so a plot stays readable; the HTML tables show them whole.</summary>
    public static string Shorten(string label) => label.Length <= 28 ? label : label[..27] + "…";

    /// <summary>Colours of a view's labels, as ScottPlot colours.</summary>
    public static Dictionary<string, Color> Colors(IEnumerable<string> labels) =>
        ClassPalette.Assign(labels).ToDictionary(kv => kv.Key, kv => Of(kv.Value), StringComparer.Ordinal);
}

/// <summary>A labelled matrix drawn as a heatmap: row 0 at the top, column 0 at the left, optional text in each cell.</summary>
internal static class MatrixPlot
{
    /// <summary>
    /// Draws the matrix. <paramref name="colorBarTicks"/> are (value, label) pairs for the colour bar (e.g. counts on a log
    /// scale labelled as counts); without them the bar gets five even ticks. Few, short tick labels keep the bar's own
    /// label clear of them.
    /// </summary>
    public static void Draw(Plot plot, double[,] values, IReadOnlyList<string> rows, IReadOnlyList<string> columns, IColormap colormap, double min, double max, string[,]? text, string colorBarLabel,
        IReadOnlyList<(double Value, string Label)>? colorBarTicks = null)
    {
        int n = values.GetLength(0), m = values.GetLength(1);
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = colormap;
        heatmap.ManualRange = new ScottPlot.Range(min, max);
        heatmap.Rectangle = new CoordinateRect(-0.5, m - 0.5, -0.5, n - 0.5);
        var bar = plot.Add.ColorBar(heatmap);
        bar.Label = colorBarLabel;
        bar.LabelStyle.FontSize = 13;
        var ticks = new NumericManual();
        foreach (var (value, label) in colorBarTicks ?? EvenTicks(min, max))
        {
            ticks.AddMajor(value, label);
        }

        bar.Axis.TickGenerator = ticks;
        PlotKit.CategoryTicksBottom(plot, columns);
        PlotKit.CategoryTicksLeft(plot, rows);
        if (text is not null)
        {
            int size = n <= 10 ? 13 : n <= 16 ? 10 : 8;
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < m; c++)
                {
                    if (string.IsNullOrEmpty(text[r, c]))
                    {
                        continue;
                    }

                    double share = max > min ? (values[r, c] - min) / (max - min) : 0;
                    var label = plot.Add.Text(text[r, c], c, n - 1 - r);
                    label.LabelFontSize = size;
                    label.LabelFontName = PlotKit.FontName;
                    label.LabelAlignment = Alignment.MiddleCenter;
                    label.LabelFontColor = Contrast(colormap.GetColor(double.IsNaN(share) ? 0 : share));
                }
            }
        }

        plot.Axes.SetLimits(-0.5, m - 0.5, -0.5, n - 0.5);
        plot.Grid.IsVisible = false;
    }

    private static IEnumerable<(double, string)> EvenTicks(double min, double max)
    {
        for (int i = 0; i <= 4; i++)
        {
            double v = min + ((max - min) * i / 4);
            yield return (v, v.ToString("0.##", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Ticks for a log10(count + 1) scale, labelled with the counts 0, 1, 10, 100, ... up to <paramref name="maxCount"/>.</summary>
    public static IReadOnlyList<(double Value, string Label)> CountTicks(double maxCount)
    {
        var ticks = new List<(double, string)> { (0, "0") };
        for (double c = 1; c <= maxCount; c *= 10)
        {
            ticks.Add((Math.Log10(c + 1), PlotKit.Compact(c)));
        }

        return ticks;
    }

    private static Color Contrast(Color background)
    {
        double luminance = (0.299 * background.R) + (0.587 * background.G) + (0.114 * background.B);
        return luminance > 140 ? Colors.Black : Colors.White;
    }
}
