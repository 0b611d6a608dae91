namespace Stakeout.Core.Tests;

public sealed class LabelTaxonomyTests
{
    public static TheoryData<string, string> ClassFamilies => new()
    {
        { "BENIGN", "BENIGN" },
        { "DoS Hulk", "DoS" },
        { "DoS GoldenEye", "DoS" },
        { "DoS slowloris", "DoS" },
        { "DoS Slowhttptest", "DoS" },
        { "DDoS", "DDoS" },
        { "PortScan", "PortScan" },
        { "FTP-Patator", "BruteForce" },
        { "SSH-Patator", "BruteForce" },
        { "Web Attack - Brute Force", "WebAttack" },
        { "Web Attack - XSS", "WebAttack" },
        { "Web Attack - Sql Injection", "WebAttack" },
        { "Bot", "Bot" },
        { "Infiltration", "Infiltration" },
        { "Heartbleed", "Heartbleed" },
    };

    public static TheoryData<string, string> CseCicIds2018Labels => new()
    {
        { "Benign", "BENIGN" },
        { "Bot", "Bot" },
        { "DoS attacks-Hulk", "DoS Hulk" },
        { "DoS attacks-GoldenEye", "DoS GoldenEye" },
        { "DoS attacks-Slowloris", "DoS slowloris" },
        { "DoS attacks-SlowHTTPTest", "DoS Slowhttptest" },
        { "DDoS attacks-LOIC-HTTP", "DDoS" },
        { "DDOS attack-HOIC", "DDoS HOIC" },
        { "DDOS attack-LOIC-UDP", "DDoS LOIC-UDP" },
        { "FTP-BruteForce", "FTP-Patator" },
        { "SSH-Bruteforce", "SSH-Patator" },
        { "Brute Force -Web", "Web Attack - Brute Force" },
        { "Brute Force -XSS", "Web Attack - XSS" },
        { "SQL Injection", "Web Attack - Sql Injection" },
        { "Infilteration", "Infiltration" },
    };

    [Fact]
    public void CicIds2017Classes_AreTheFifteenLabelsInOrder()
    {
        string[] expected = [.. ClassFamilies.Select(row => (string)row[0])];
        Assert.Equal(expected, LabelTaxonomy.CicIds2017Classes.Select(c => c.Name));
        Assert.All(LabelTaxonomy.CicIds2017Classes, c => Assert.Equal(LabelLevel.Class, c.Level));
        Assert.All(LabelTaxonomy.CicIds2017Classes, c => Assert.True(c.Known));
    }

    [Fact]
    public void Families_AreTheNineInFixedOrder()
    {
        Assert.Equal(["BENIGN", "DoS", "DDoS", "PortScan", "BruteForce", "WebAttack", "Bot", "Infiltration", "Heartbleed"], LabelTaxonomy.Families);
        Assert.Equal(LabelTaxonomy.Families.Order(StringComparer.Ordinal), LabelTaxonomy.CicIds2017Classes.Select(c => c.Family).Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ClassFamilies))]
    public void Resolve_EachClass_HasItsFamilyAndBinaryView(string name, string family)
    {
        var label = LabelTaxonomy.Resolve(name);

        Assert.Equal(name, label.Name);
        Assert.Equal(LabelLevel.Class, label.Level);
        Assert.Equal(family, label.Family);
        Assert.Equal(name != "BENIGN", label.IsAttack);
        Assert.Equal(name == "BENIGN" ? "BENIGN" : "ATTACK", label.Binary);
        Assert.Equal(name, label.At(LabelLevel.Class));
        Assert.Equal(family, label.At(LabelLevel.Family));
        Assert.Equal(label.Binary, label.At(LabelLevel.Binary));
    }

    [Theory]
    [InlineData("Web Attack \u0096 Brute Force", "Web Attack - Brute Force")] // the official file's cp1252 byte 0x96, decoded as Latin-1
    [InlineData("Web Attack \u00C2\u0096 XSS", "Web Attack - XSS")] // C2 96 decoded as Latin-1 (both bytes kept)
    [InlineData("Web Attack \u2013 Sql Injection", "Web Attack - Sql Injection")] // a real en dash
    [InlineData("Web Attack – XSS", "Web Attack - XSS")]
    [InlineData("web attack - xss", "Web Attack - XSS")]
    [InlineData("  Web Attack \u2014 Brute Force ", "Web Attack - Brute Force")]
    public void Resolve_DashSpellings_AllMapToTheSameClass(string raw, string expected)
    {
        var label = LabelTaxonomy.Resolve(raw);

        Assert.True(label.Known);
        Assert.Equal(expected, label.Name);
        Assert.Equal("WebAttack", label.Family);
    }

    [Theory]
    [MemberData(nameof(CseCicIds2018Labels))]
    public void Resolve_CseCicIds2018Label_MapsToTheClass(string raw, string expected)
    {
        var label = LabelTaxonomy.Resolve(raw);

        Assert.True(label.Known, raw);
        Assert.Equal(expected, label.Name);
        Assert.Equal(LabelLevel.Class, label.Level);
    }

    [Fact]
    public void Resolve_CseCicIds2018ExtraClasses_BelongToDDoS()
    {
        Assert.Equal("DDoS", LabelTaxonomy.Resolve("DDOS attack-HOIC").Family);
        Assert.Equal("DDoS", LabelTaxonomy.Resolve("DDOS attack-LOIC-UDP").Family);
    }

    [Theory]
    [InlineData("DoS", "DoS")]
    [InlineData("BruteForce", "BruteForce")]
    [InlineData("Brute Force", "BruteForce")]
    [InlineData("WebAttack", "WebAttack")]
    [InlineData("Web Attack", "WebAttack")]
    public void Resolve_FamilyName_IsAFamilyLabel(string raw, string family)
    {
        var label = LabelTaxonomy.Resolve(raw);

        Assert.Equal(family, label.Name);
        Assert.Equal(LabelLevel.Family, label.Level);
        Assert.Equal(family, label.At(LabelLevel.Family));
        Assert.Equal("ATTACK", label.At(LabelLevel.Binary));
        Assert.Throws<ArgumentOutOfRangeException>(() => label.At(LabelLevel.Class));
    }

    [Theory]
    [InlineData("DDoS")]
    [InlineData("Bot")]
    [InlineData("PortScan")]
    [InlineData("Heartbleed")]
    [InlineData("Infiltration")]
    [InlineData("Port Scan")]
    public void Resolve_NameThatIsClassAndFamily_ResolvesToTheClass(string name)
    {
        var label = LabelTaxonomy.Resolve(name);

        Assert.Equal(LabelLevel.Class, label.Level);
        Assert.Equal(name.Replace(" ", "", StringComparison.Ordinal), label.Family);
    }

    [Theory]
    [InlineData("ATTACK", true)]
    [InlineData("Malicious", true)]
    [InlineData("anomaly", true)]
    [InlineData("normal", false)]
    [InlineData("benign", false)]
    public void Resolve_BinarySpellings_AreKnown(string raw, bool attack)
    {
        var label = LabelTaxonomy.Resolve(raw);

        Assert.True(label.Known);
        Assert.Equal(attack, label.IsAttack);
        Assert.Equal(attack ? LabelLevel.Binary : LabelLevel.Class, label.Level);
        Assert.Equal(attack ? "ATTACK" : "BENIGN", label.At(LabelLevel.Binary));
    }

    [Fact]
    public void Resolve_UnknownLabel_IsKeptVerbatimTrimmedAsAnAttackClass()
    {
        var label = LabelTaxonomy.Resolve("  Cryptominer X ");

        Assert.False(label.Known);
        Assert.Equal("Cryptominer X", label.Name);
        Assert.Equal(LabelLevel.Class, label.Level);
        Assert.Equal("Cryptominer X", label.Family);
        Assert.True(label.IsAttack);
        Assert.False(LabelTaxonomy.TryResolveKnown("Cryptominer X", out _));
    }

    [Fact]
    public void TryResolveKnown_KnownSpelling_GivesTheCanonicalDefinition()
    {
        Assert.True(LabelTaxonomy.TryResolveKnown("Web Attack \u0096 Sql Injection", out var def));
        Assert.Same(LabelTaxonomy.Resolve("Web Attack - Sql Injection"), def);
    }

    [Fact]
    public void Resolve_Null_ThrowsNamingTheArgument()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => LabelTaxonomy.Resolve(null!));
        Assert.Equal("raw", ex.ParamName);
    }
}
