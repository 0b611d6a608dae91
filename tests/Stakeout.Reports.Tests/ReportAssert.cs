using System.Buffers.Binary;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Stakeout.Reports.Tests;

/// <summary>What every report must satisfy: valid PNG and SVG plots beside one HTML file that reaches for nothing outside itself.</summary>
internal static partial class ReportAssert
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Checks every file and returns the HTML text.</summary>
    public static string Valid(IReadOnlyList<string> files, string expectedHtmlName, int minimumPlots)
    {
        Assert.EndsWith(expectedHtmlName, files[^1], StringComparison.Ordinal);
        var pngs = files.Where(f => f.EndsWith(".png", StringComparison.Ordinal)).ToList();
        var svgs = files.Where(f => f.EndsWith(".svg", StringComparison.Ordinal)).ToList();
        Assert.True(pngs.Count >= minimumPlots, $"{pngs.Count} PNG plots, expected at least {minimumPlots}");
        Assert.Equal(pngs.Count, svgs.Count);
        foreach (string png in pngs)
        {
            Png(png);
            Assert.Contains(Path.ChangeExtension(png, ".svg"), svgs);
        }

        foreach (string svg in svgs)
        {
            Svg(svg);
        }

        string html = File.ReadAllText(files[^1]);
        SelfContained(html);
        Assert.Equal(pngs.Count, DataImage().Count(html));
        return html;
    }

    public static void Png(string path)
    {
        Assert.True(File.Exists(path), $"{path} missing");
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 2000, $"{path}: {bytes.Length} bytes is too small for a plot");
        Assert.Equal(PngSignature, bytes[..8]);
        Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
        int width = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16));
        int height = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
        Assert.InRange(width, 300, 4000);
        Assert.InRange(height, 150, 4000);
    }

    public static void Svg(string path)
    {
        Assert.True(File.Exists(path), $"{path} missing");
        var doc = XDocument.Load(path);
        Assert.Equal("svg", doc.Root!.Name.LocalName);
        Assert.True(doc.Descendants().Count() > 20, $"{path}: an almost empty SVG");
        Assert.Contains(doc.Descendants(), e => e.Name.LocalName == "text" && e.Value.Trim().Length > 0);
        Assert.Contains(doc.Descendants(), e => e.Name.LocalName is "path" or "rect");
    }

    /// <summary>No http(s):, protocol-relative //, @import, url(), script, link or frame; src= only as data:.</summary>
    public static void SelfContained(string html)
    {
        string withoutData = DataUri().Replace(html, "data:");
        foreach (string forbidden in new[] { "http:", "https:", "//", "@import", "url(", "<script", "<link", "<iframe", "<object", "<embed", "href=" })
        {
            Assert.False(withoutData.Contains(forbidden, StringComparison.OrdinalIgnoreCase), $"the report holds '{forbidden}'");
        }

        foreach (Match m in SrcAttribute().Matches(html))
        {
            Assert.StartsWith("data:", m.Groups[1].Value, StringComparison.Ordinal);
        }

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
    }

    [GeneratedRegex("data:[a-z/+]+;base64,[A-Za-z0-9+/=]+")]
    private static partial Regex DataUri();

    [GeneratedRegex("src\\s*=\\s*\"([^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex SrcAttribute();

    [GeneratedRegex("src=\"data:image/png;base64,")]
    private static partial Regex DataImage();
}
