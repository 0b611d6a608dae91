using System.Globalization;
using System.Net;
using System.Text;
using ScottPlot;

namespace Stakeout.Reports;

/// <summary>
/// One self-contained HTML report: inline CSS, every plot embedded as a PNG data: URI (so the file works offline and asks
/// nothing of any server), and each plot also written beside it as PNG and SVG. Every text that reaches the page goes
/// through <see cref="Encode"/>: labels come from data files, and a label with markup must show as text.
/// </summary>
internal sealed class HtmlReport
{
    private const string Style = """
        body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222;line-height:1.45}
        h1{font-size:1.7em;margin-bottom:.2em}h2{font-size:1.3em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
        h3{font-size:1.05em;margin-top:1.2em}
        table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
        th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
        td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
        figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #e3e3e3}
        figcaption{font-size:.9em;color:#555}
        .swatch{display:inline-block;width:.9em;height:.9em;border:1px solid #666;vertical-align:middle;margin-right:.35em}
        .bar{display:inline-block;height:.8em;vertical-align:middle}
        .muted{color:#666;font-size:.9em}code{background:#f5f5f5;padding:0 3px}
        """;

    private readonly StringBuilder _body = new();
    private readonly List<string> _files = [];
    private readonly string _directory;
    private readonly string _prefix;
    private readonly string _title;

    /// <summary>A report titled <paramref name="title"/>, written as DIRECTORY/PREFIX.html with plots DIRECTORY/PREFIX-NAME.png/.svg.</summary>
    public HtmlReport(string title, string directory, string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        _title = title;
        _directory = directory;
        _prefix = prefix;
        Directory.CreateDirectory(directory);
    }

    /// <summary>Every file written so far (plots; the HTML once saved).</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>HTML-encodes text (&lt; &gt; &amp; quotes), so data never becomes markup.</summary>
    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    public void Heading(string text) => _body.Append("<h2>").Append(Encode(text)).Append("</h2>\n");

    public void Subheading(string text) => _body.Append("<h3>").Append(Encode(text)).Append("</h3>\n");

    public void Paragraph(string text, bool muted = false) =>
        _body.Append(muted ? "<p class=\"muted\">" : "<p>").Append(Encode(text)).Append("</p>\n");

    /// <summary>A table; cells that parse as numbers are right-aligned. A cell may carry a colour swatch (#rrggbb) before its text.</summary>
    public void Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<Cell>> rows, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        _body.Append("<table>");
        if (caption is not null)
        {
            _body.Append("<caption class=\"muted\">").Append(Encode(caption)).Append("</caption>");
        }

        _body.Append("<tr>");
        foreach (string h in header)
        {
            _body.Append("<th>").Append(Encode(h)).Append("</th>");
        }

        _body.Append("</tr>\n");
        foreach (var row in rows)
        {
            _body.Append("<tr>");
            foreach (var cell in row)
            {
                _body.Append(cell.Numeric ? "<td class=\"n\">" : "<td>");
                if (cell.Swatch is { } color)
                {
                    _body.Append("<span class=\"swatch\" style=\"background:").Append(SafeColor(color)).Append("\"></span>");
                }

                if (cell.BarShare is { } share)
                {
                    _body.Append(CultureInfo.InvariantCulture, $"<span class=\"bar\" style=\"width:{Math.Clamp(share, 0, 1) * 120:0.#}px;background:{SafeColor(cell.BarColor ?? "#888888")}\"></span> ");
                }

                _body.Append(Encode(cell.Text)).Append("</td>");
            }

            _body.Append("</tr>\n");
        }

        _body.Append("</table>\n");
    }

    /// <summary>Two-column table of names and values.</summary>
    public void KeyValues(IEnumerable<(string Key, string Value)> pairs, string? caption = null) =>
        Table(["", ""], pairs.Select(p => (IReadOnlyList<Cell>)[new Cell(p.Key), new Cell(p.Value)]), caption);

    /// <summary>Renders <paramref name="plot"/> to PREFIX-NAME.png and .svg beside the report and embeds the PNG.</summary>
    public void Figure(string name, Plot plot, string caption, int width = 1000, int height = 560)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(plot);
        string file = $"{_prefix}-{name}";
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        string svg = plot.GetSvgXml(width, height);
        string pngPath = Path.Combine(_directory, file + ".png");
        string svgPath = Path.Combine(_directory, file + ".svg");
        File.WriteAllBytes(pngPath, png);
        File.WriteAllText(svgPath, svg, new UTF8Encoding(false));
        _files.Add(pngPath);
        _files.Add(svgPath);
        _body.Append("<figure><img alt=\"").Append(Encode(caption)).Append("\" width=\"").Append(width.ToString(CultureInfo.InvariantCulture))
            .Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png)).Append("\">")
            .Append("<figcaption>").Append(Encode(caption)).Append(" <span class=\"muted\">(")
            .Append(Encode(file + ".png")).Append(", ").Append(Encode(file + ".svg")).Append(")</span></figcaption></figure>\n");
    }

    /// <summary>Writes PREFIX.html; returns its path.</summary>
    public string Save(string subtitle)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            // No script, no remote anything: the page may only show what it carries.
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">")
            .Append("<title>").Append(Encode(_title)).Append("</title><style>").Append(Style).Append("</style></head><body>\n")
            .Append("<h1>").Append(Encode(_title)).Append("</h1>\n<p class=\"muted\">").Append(Encode(subtitle)).Append("</p>\n")
            .Append(_body)
            .Append("</body></html>\n");
        string path = Path.Combine(_directory, _prefix + ".html");
        File.WriteAllText(path, html.ToString(), new UTF8Encoding(false));
        _files.Add(path);
        return path;
    }

    /// <summary>Colours reach a style attribute: only #rrggbb passes.</summary>
    private static string SafeColor(string color) =>
        color.Length == 7 && color[0] == '#' && color.Skip(1).All(Uri.IsHexDigit) ? color : "#888888";
}

/// <summary>A table cell: text, and optionally a colour swatch or an inline bar of a share of 120 px.</summary>
internal sealed record Cell(string Text, bool Numeric = false, string? Swatch = null, double? BarShare = null, string? BarColor = null)
{
    public static Cell Number(long value) => new(value.ToString("N0", CultureInfo.InvariantCulture), true);

    public static Cell Number(double value, string format = "0.0000") => new(double.IsNaN(value) ? "n/a" : value.ToString(format, CultureInfo.InvariantCulture), true);

    public static Cell Percent(double? value, string format = "0.00") => new(value is { } v ? (v * 100).ToString(format, CultureInfo.InvariantCulture) + " %" : "n/a", true);
}
