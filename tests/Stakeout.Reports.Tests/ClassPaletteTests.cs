using Stakeout.Core;

namespace Stakeout.Reports.Tests;

public sealed class ClassPaletteTests
{
    [Theory]
    [InlineData("BENIGN", "#2ca02c")]
    [InlineData("DoS", "#d62728")]
    [InlineData("DoS Hulk", "#d62728")]
    [InlineData("DDoS", "#ff7f0e")]
    [InlineData("PortScan", "#1f77b4")]
    [InlineData("SSH-Patator", "#9467bd")]
    [InlineData("Web Attack \u0096 XSS", "#8c564b")]
    [InlineData("Bot", "#e377c2")]
    [InlineData("Infiltration", "#7f7f7f")]
    [InlineData("Heartbleed", "#bcbd22")]
    [InlineData("anomaly", "#17becf")]
    [InlineData("my-own-label", "#393b79")]
    public void ColorOf_KnownAndUnknownLabels_TakeTheFamilyTable(string label, string expected) =>
        Assert.Equal(expected, ClassPalette.ColorOf(label));

    [Fact]
    public void Assign_SeveralClassesOfOneFamily_ShadesDarkerFirstInTaxonomyOrder()
    {
        var colors = ClassPalette.Assign(["DoS slowloris", "BENIGN", "DoS Hulk", "DoS GoldenEye"]);

        Assert.Equal("#2ca02c", colors["BENIGN"]); // alone in its family: the family colour itself
        double hulk = Luminance(colors["DoS Hulk"]), golden = Luminance(colors["DoS GoldenEye"]), slow = Luminance(colors["DoS slowloris"]);
        Assert.True(hulk < golden && golden < slow, $"{colors["DoS Hulk"]} {colors["DoS GoldenEye"]} {colors["DoS slowloris"]}");
        var (r, g, b) = ClassPalette.Parse(colors["DoS Hulk"]);
        Assert.True(r > g && r > b, "a DoS shade stays red");
    }

    [Fact]
    public void Assign_SameLabelsInAnyOrder_SameColours()
    {
        var a = ClassPalette.Assign(["Web Attack - XSS", "Web Attack - Sql Injection", "WebAttack"]);
        var b = ClassPalette.Assign(["WebAttack", "Web Attack - Sql Injection", "Web Attack - XSS"]);
        Assert.Equal(a.OrderBy(kv => kv.Key), b.OrderBy(kv => kv.Key));
        Assert.Equal(3, a.Values.Distinct().Count());
    }

    private static double Luminance(string hex)
    {
        var (r, g, b) = ClassPalette.Parse(hex);
        return (0.299 * r) + (0.587 * g) + (0.114 * b);
    }
}
