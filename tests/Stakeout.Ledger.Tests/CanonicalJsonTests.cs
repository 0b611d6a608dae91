using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Stakeout.Ledger.Records;

namespace Stakeout.Ledger.Tests;

public sealed class CanonicalJsonTests
{
    private static string Canon(string json) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Canonicalize_Rfc8785Section322Example_GivesTheRfcOutput()
    {
        // RFC 8785 section 3.2.2 (input) and 3.2.3 (output), transcribed.
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;
        const string expected = """{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}""";

        Assert.Equal(expected, Canon(input));
    }

    [Fact]
    public void Canonicalize_Rfc8785Section324SortingExample_SortsByUtf16CodeUnits()
    {
        // RFC 8785 section 3.2.4: the emoji (surrogates D83D DE00) sorts before U+FB33, which UTF-8 or code-point order would not do.
        const string input = """
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """;

        string output = Canon(input);

        string[] values = ["Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign", "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"];
        int last = -1;
        foreach (string v in values)
        {
            int at = output.IndexOf(v, StringComparison.Ordinal);
            Assert.True(at > last, $"'{v}' is out of order in {output}");
            last = at;
        }

        Assert.StartsWith("{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\"", output, StringComparison.Ordinal);
    }

    [Theory]
    // RFC 8785 appendix B, transcribed (bit pattern of the double, its canonical text); checked against node's JSON.stringify.
    [InlineData("0000000000000000", "0")]
    [InlineData("8000000000000000", "0")]
    [InlineData("0000000000000001", "5e-324")]
    [InlineData("8000000000000001", "-5e-324")]
    [InlineData("7fefffffffffffff", "1.7976931348623157e+308")]
    [InlineData("ffefffffffffffff", "-1.7976931348623157e+308")]
    [InlineData("4340000000000000", "9007199254740992")]
    [InlineData("c340000000000000", "-9007199254740992")]
    [InlineData("4430000000000000", "295147905179352830000")]
    [InlineData("44b52d02c7e14af5", "9.999999999999997e+22")]
    [InlineData("44b52d02c7e14af6", "1e+23")]
    [InlineData("44b52d02c7e14af7", "1.0000000000000001e+23")]
    [InlineData("444b1ae4d6e2ef4e", "999999999999999700000")]
    [InlineData("444b1ae4d6e2ef4f", "999999999999999900000")]
    [InlineData("444b1ae4d6e2ef50", "1e+21")]
    [InlineData("3eb0c6f7a0b5ed8c", "9.999999999999997e-7")]
    [InlineData("3eb0c6f7a0b5ed8d", "0.000001")]
    [InlineData("41b3de4355555553", "333333333.3333332")]
    [InlineData("41b3de4355555554", "333333333.33333325")]
    [InlineData("41b3de4355555555", "333333333.3333333")]
    [InlineData("41b3de4355555556", "333333333.3333334")]
    [InlineData("41b3de4355555557", "333333333.33333343")]
    [InlineData("becbf647612f3696", "-0.0000033333333333333333")]
    [InlineData("43143ff3c1cb0959", "1424953923781206.2")]
    public void FormatNumber_Rfc8785AppendixB_MatchesTheRfc(string bits, string expected)
    {
        double value = BitConverter.Int64BitsToDouble(long.Parse(bits, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

        Assert.Equal(expected, CanonicalJson.FormatNumber(value));
    }

    [Fact]
    public void FormatNumber_ThreeThousandSeededDoubles_MatchEcmaScript()
    {
        // TestData/jcs-numbers.tsv: bit patterns and node's JSON.stringify of them (jcs-numbers.gen.js regenerates it).
        var wrong = new List<string>();
        int checkedCount = 0;
        foreach (string line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "TestData", "jcs-numbers.tsv")))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            string[] f = line.Split('\t');
            double value = BitConverter.Int64BitsToDouble(unchecked((long)ulong.Parse(f[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            string got = CanonicalJson.FormatNumber(value);
            if (got != f[1])
            {
                wrong.Add($"{f[0]}: {got} != {f[1]}");
            }

            checkedCount++;
        }

        Assert.Equal(3000, checkedCount);
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(20)));
    }

    [Theory]
    [InlineData("""{"a":1,"a":2}""", "duplicate member 'a'")]
    [InlineData("""[1e400]""", "outside the range")]
    [InlineData("""{"a":""", "not JSON")]
    public void Canonicalize_InvalidInput_FailsSayingWhy(string json, string reason)
    {
        var e = Assert.Throws<CanonicalJsonException>(() => Canon(json));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Serialize_LoneSurrogateOrNaN_IsRefused()
    {
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Serialize(new JsonObject { ["s"] = "a\ud800b" }));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Serialize(new JsonObject { ["n"] = double.NaN }));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Serialize(new JsonObject { ["big"] = (1L << 53) + 1 }));
    }

    [Fact]
    public void Serialize_NodeAndTextOfTheSameData_GiveTheSameBytes()
    {
        var node = new JsonObject { ["z"] = 1.5, ["a"] = new JsonArray("x\u001f", 2L, true, null), ["m"] = new JsonObject { ["k"] = 0.1f } };

        byte[] fromNode = CanonicalJson.Serialize(node);
        byte[] fromText = CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(node.ToJsonString()));

        Assert.Equal("""{"a":["x\u001f",2,true,null],"m":{"k":0.1},"z":1.5}""", Encoding.UTF8.GetString(fromNode));
        Assert.Equal(fromNode, fromText);
    }
}
