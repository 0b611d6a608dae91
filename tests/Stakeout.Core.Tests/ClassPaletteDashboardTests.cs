namespace Stakeout.Core.Tests;

public sealed class ClassPaletteDashboardTests
{
    [Theory]
    [InlineData("BENIGN", "#2ca02c")]
    [InlineData("DoS Hulk", "#d62728")]
    [InlineData("DDoS", "#ff7f0e")]
    [InlineData("PortScan", "#1f77b4")]
    [InlineData("SSH-Patator", "#9467bd")]
    [InlineData("Web Attack \u2013 XSS", "#8c564b")]
    [InlineData("Bot", "#e377c2")]
    [InlineData("Infiltration", "#7f7f7f")]
    [InlineData("Heartbleed", "#bcbd22")]
    [InlineData("anomaly", "#17becf")]
    [InlineData("something new", "#393b79")]
    public void Of_Label_FamilyColour(string label, string expected) => Assert.Equal(expected, ClassPalette.ColorOf(label));

    [Fact]
    public void Of_EveryCicIds2017Class_HasItsFamilysColour()
    {
        var families = ClassPalette.Families;
        foreach (var c in LabelTaxonomy.CicIds2017Classes)
        {
            Assert.Equal(families[c.Family], ClassPalette.ColorOf(c.Name));
        }
    }

    [Fact]
    public void Assign_SeveralClassesOfOneFamily_ShadesDarkerFirstInTaxonomyOrder()
    {
        var colors = ClassPalette.Assign(["DoS slowloris", "DDoS", "DoS Hulk", "DoS GoldenEye"]);

        Assert.Equal("#ff7f0e", colors["DDoS"]);
        string hulk = colors["DoS Hulk"], golden = colors["DoS GoldenEye"], slow = colors["DoS slowloris"];
        Assert.True(Brightness(hulk) < Brightness(golden) && Brightness(golden) < Brightness(slow), $"{hulk} {golden} {slow}");
        Assert.Equal(3, new[] { hulk, golden, slow }.Distinct().Count());
        Assert.Equal(ClassPalette.Assign(["DoS Hulk", "DoS GoldenEye", "DoS slowloris", "DDoS"]), colors);
    }

    [Fact]
    public void Shade_MiddleOfThree_IsTheFamilyColour() => Assert.Equal("#d62728", ClassPalette.Shade("#d62728", 1, 3));

    private static int Brightness(string hex) =>
        Convert.ToInt32(hex[1..3], 16) + Convert.ToInt32(hex[3..5], 16) + Convert.ToInt32(hex[5..7], 16);
}
