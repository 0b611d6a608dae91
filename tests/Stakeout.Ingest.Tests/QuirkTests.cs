using System.IO.Compression;
using System.Text;
using Stakeout.Core;
using static Stakeout.Ingest.Tests.FlowCsv;

namespace Stakeout.Ingest.Tests;

/// <summary>Each quirk the issue names, reproduced byte for byte in a fixture built here.</summary>
public sealed class QuirkTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<NonFinitePolicy> Policies => [NonFinitePolicy.Keep, NonFinitePolicy.Missing, NonFinitePolicy.Zero, NonFinitePolicy.Drop];

    [Fact]
    public void Options_NonFiniteDefault_IsKeep()
    {
        Assert.Equal(NonFinitePolicy.Keep, new FlowReaderOptions().NonFinite);
        Assert.Equal(NonFinitePolicy.Keep, new FlowCsvReader().Options.NonFinite);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Read_NonFiniteCells_FollowThePolicyAndAreCounted(NonFinitePolicy policy)
    {
        var special = new Dictionary<int, string> { [14] = "Infinity", [15] = "inf", [16] = "NaN", [17] = "", [18] = "-Infinity", [19] = " " };
        string file = _dir.Write("special.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN", special) + "\n" + MlcveRow(2, "BENIGN") + "\n");

        var (rows, read) = Read([file], new FlowReaderOptions { NonFinite = policy });

        var r = read.Report;
        Assert.Equal(2, r.RowsRead);
        if (policy == NonFinitePolicy.Drop)
        {
            Assert.Equal(Expected(2), rows.Single().Features);
            Assert.Equal(1, r.RowsDropped);
            Assert.Equal(1, r.DroppedByReason[DropReason.NonFinite]);
        }
        else
        {
            Assert.Equal(0, r.RowsDropped);
            float[] expected = Expected(1);
            (float inf, float nan, float negInf) = policy switch
            {
                NonFinitePolicy.Keep => (float.PositiveInfinity, float.NaN, float.NegativeInfinity),
                NonFinitePolicy.Missing => (float.NaN, float.NaN, float.NaN),
                _ => (0f, 0f, 0f),
            };
            expected[14] = inf;
            expected[15] = inf;
            expected[16] = nan;
            expected[17] = nan;
            expected[18] = negInf;
            expected[19] = nan;
            Assert.Equal(expected, rows[0].Features);
            Assert.Equal(Expected(2), rows[1].Features);
        }

        Assert.Equal(2, r.Quirks["infinity:Flow Bytes/s"] + r.Quirks["infinity:Flow IAT Max"]);
        Assert.Equal(1, r.Quirks["inf_lowercase:Flow Packets/s"]);
        Assert.Equal(1, r.Quirks["nan:Flow IAT Mean"]);
        Assert.Equal(1, r.Quirks["empty_cell:Flow IAT Std"]);
        Assert.Equal(1, r.Quirks["empty_cell:Flow IAT Min"]);
    }

    [Theory]
    [InlineData(NonFinitePolicy.Zero, 0f)]
    [InlineData(NonFinitePolicy.Missing, float.NaN)]
    public void Read_ValueOverflowingFloat_IsNonFiniteUnderThePolicy(NonFinitePolicy policy, float expected)
    {
        // 1e39 is finite text but parses to +Infinity as a float: the policy must see it like "Infinity".
        string file = _dir.Write("overflow.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN", new Dictionary<int, string> { [14] = "1e39", [15] = "-4e38" }) + "\n");

        var (rows, _) = Read([file], new FlowReaderOptions { NonFinite = policy });

        Assert.Equal(expected, rows.Single().Features[14]);
        Assert.Equal(expected, rows.Single().Features[15]);
    }

    [Fact]
    public void Read_ValueOverflowingFloat_IsDroppedUnderDrop()
    {
        string file = _dir.Write("overflow.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN", new Dictionary<int, string> { [14] = "1e39" }) + "\n");

        var (rows, read) = Read([file], new FlowReaderOptions { NonFinite = NonFinitePolicy.Drop });

        Assert.Empty(rows);
        Assert.Equal(1, read.Report.DroppedByReason[DropReason.NonFinite]);
    }

    [Fact]
    public void Read_MinusOneWindow_IsKeptAndCounted()
    {
        var set = new Dictionary<int, string> { [FeatureSchema.InitWinBytesForward] = "-1", [FeatureSchema.InitWinBytesBackward] = "-1" };
        string file = _dir.Write("win.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN", set) + "\n" + MlcveRow(2, "BENIGN", new Dictionary<int, string> { [67] = "-1" }) + "\n");

        var (rows, read) = Read([file]);

        Assert.Equal(-1f, rows[0].Features[66]);
        Assert.Equal(-1f, rows[0].Features[67]);
        Assert.Equal(Value(2, 66), rows[1].Features[66]);
        Assert.Equal(-1f, rows[1].Features[67]);
        Assert.Equal(2, read.Report.Quirks["init_win_bytes_minus_one"]);
    }

    [Fact]
    public void Read_CrlfLfAndMixedLineEnds_GiveTheSameRows()
    {
        string[] lines = [MlcveHeader, MlcveRow(1, "BENIGN"), MlcveRow(2, "PortScan"), MlcveRow(3, "Bot")];
        string lf = _dir.Write("lf.csv", string.Join("\n", lines) + "\n");
        string crlf = _dir.Write("crlf.csv", string.Join("\r\n", lines) + "\r\n");
        string mixed = _dir.Write("mixed.csv", lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r\n" + lines[3]); // and no final newline

        var (a, readLf) = Read([lf]);
        var (b, readCrlf) = Read([crlf]);
        var (c, readMixed) = Read([mixed]);

        foreach (var other in new[] { b, c })
        {
            Assert.Equal(a.Count, other.Count);
            for (int i = 0; i < a.Count; i++)
            {
                Assert.Equal(a[i].Features, other[i].Features);
                Assert.Equal(a[i].Label, other[i].Label);
                Assert.Equal(a[i].Line, other[i].Line);
            }
        }

        Assert.Equal("Bot", a[2].Label);
        Assert.False(readLf.Report.Quirks.ContainsKey("crlf_line_endings"));
        Assert.Equal(4, readCrlf.Report.Quirks["crlf_line_endings"]);
        Assert.Equal(2, readMixed.Report.Quirks["crlf_line_endings"]);
        Assert.Equal(1, readMixed.Report.Quirks["no_newline_at_end_of_file"]);
    }

    [Fact]
    public void Read_Utf8Bom_IsSkippedAndTheFirstColumnResolves()
    {
        byte[] bytes = Concat([0xEF, 0xBB, 0xBF], Bytes(MlcveHeader + "\r\n" + MlcveRow(1, "BENIGN") + "\r\n"));
        string file = _dir.Write("bom.csv", bytes);

        var (rows, read) = Read([file]);

        Assert.Equal(Expected(1), rows.Single().Features);
        Assert.Equal(1, read.Report.Quirks["utf8_bom"]);
        Assert.Equal(FileLayout.MachineLearningCve, read.Report.Files.Single().Layout);
        Assert.Empty(read.Report.Files.Single().MissingFeatures);
    }

    [Fact]
    public void Read_EmptyLines_AreNotRowsAndLaterLineNumbersStayTrue()
    {
        string text = MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n\n" + MlcveRow(2, "BENIGN") + "\r\n  \r\n\n" + MlcveRow(3, "BENIGN") + "\n\n";
        string file = _dir.Write("blank.csv", text);

        var (rows, read) = Read([file]);

        Assert.Equal([2L, 4L, 7L], rows.Select(r => r.Line));
        Assert.Equal(Expected(3), rows[2].Features);
        // The issue: rows read is the number of non-empty data lines; empty lines are a quirk, not rows.
        Assert.Equal(3, read.Report.RowsRead);
        Assert.Equal(3, read.Report.RowsUsed);
        Assert.Equal(0, read.Report.RowsDropped);
        Assert.Equal(4, read.Report.Quirks["blank_lines"]);
    }

    [Fact]
    public void Read_WebAttackDashInThreeEncodings_AllMapToOneClass()
    {
        byte[] raw = Concat(Bytes(MlcveRow(1, "Web Attack ")[..^0]), [0x96], Bytes(" XSS\n"));
        byte[] misEncoded = Concat(Bytes(MlcveRow(2, "Web Attack ")), [0xC2, 0x96], Bytes(" XSS\n"));
        byte[] enDash = Concat(Bytes(MlcveRow(3, "Web Attack ")), [0xE2, 0x80, 0x93], Bytes(" XSS\n"));
        string file = _dir.Write("xss.csv", Concat(Bytes(MlcveHeader + "\n"), raw, misEncoded, enDash, Bytes(MlcveRow(4, "Web Attack - XSS") + "\n")));

        var (rows, read) = Read([file]);

        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal("Web Attack - XSS", r.Label));
        Assert.Equal(1, read.Labels.Count);
        Assert.Equal(new Dictionary<string, long> { ["Web Attack - XSS"] = 4 }, read.Report.Classes);
        Assert.Equal(1, read.Report.Quirks["label_encoding:raw_0x96_byte"]);
        Assert.Equal(1, read.Report.Quirks["label_encoding:c2_96_mis_encoded"]);
        Assert.Equal(1, read.Report.Quirks["label_encoding:utf8_en_dash"]);
        Assert.Equal(4, read.Report.ClassesAt(LabelLevel.Family)["WebAttack"]);
    }

    [Fact]
    public void Read_BackslashPath_IsTriedWithSlashes()
    {
        string file = _dir.Write(Path.Combine("MachineLearningCVE", "Monday.csv"), MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n");
        string backslashed = file.Replace('/', '\\');

        var (rows, read) = Read([backslashed]);

        Assert.Equal(Expected(1), rows.Single().Features);
        Assert.Equal(1, read.Report.Quirks["backslash_path"]);
        Assert.Equal(file, read.Report.Files.Single().Path);
    }

    [Fact]
    public void Read_SlashPathAndSingleFiles_ReadInTheOrderGiven()
    {
        string a = _dir.Write("b.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n");
        string b = _dir.Write("a.csv", MlcveHeader + "\n" + MlcveRow(2, "DDoS") + "\n");

        var (rows, read) = Read([a, b]);

        Assert.Equal(["BENIGN", "DDoS"], rows.Select(r => r.Label));
        Assert.Equal([a, b], read.Report.Files.Select(f => f.Path));
        Assert.Equal(["b.csv", "a.csv"], rows.Select(r => Path.GetFileName(r.File)));
    }

    [Fact]
    public void Read_Directory_IsSearchedRecursivelyInPathOrder()
    {
        _dir.Write(Path.Combine("data", "z-Tuesday.csv"), MlcveHeader + "\n" + MlcveRow(2, "FTP-Patator") + "\n");
        _dir.Write(Path.Combine("data", "sub", "deeper", "Wednesday.csv"), MlcveHeader + "\n" + MlcveRow(3, "DoS Hulk") + "\n");
        _dir.Write(Path.Combine("data", "a-Monday.csv"), MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n");
        _dir.Write(Path.Combine("data", "notes.txt"), "not a flow file");
        _dir.Write(Path.Combine("data", "sub", "Thursday.csv.gz"), Gzip(MlcveHeader + "\n" + MlcveRow(4, "Bot") + "\n"));

        var (rows, read) = Read([Path.Combine(_dir.Root, "data")]);

        // Ordinal path order: "a-Monday", "sub/Thursday.csv.gz", "sub/deeper/Wednesday.csv", "z-Tuesday".
        Assert.Equal(["BENIGN", "Bot", "DoS Hulk", "FTP-Patator"], rows.Select(r => r.Label));
        Assert.Equal(4, read.Report.Files.Count);
        Assert.DoesNotContain(read.Report.Files, f => f.Path.EndsWith(".txt", StringComparison.Ordinal));
        Assert.Equal(Expected(4), rows[1].Features);
        Assert.Equal(Expected(3), rows[2].Features);
    }

    [Fact]
    public void Read_GzipFile_IsDecompressedWhileStreaming()
    {
        string file = _dir.Write("Monday.csv.gz", Gzip(MlcveHeader + "\r\n" + MlcveRow(1, "BENIGN") + "\r\n" + MlcveRow(2, "SSH-Patator") + "\r\n"));

        var (rows, read) = Read([file]);

        Assert.Equal([Expected(1), Expected(2)], rows.Select(r => r.Features));
        Assert.Equal(InputKind.Gzip, read.Inputs.Single().Kind);
        Assert.Equal(1, read.Report.Quirks["gzip_compressed"]);
        Assert.Equal(2, read.Report.Files.Single().RowsUsed);
    }

    [Fact]
    public void Read_ZipArchive_ReadsEachCsvEntryWithoutUnpacking()
    {
        string zip = Path.Combine(_dir.Root, "MachineLearningCSV.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            AddEntry(archive, "MachineLearningCVE/Monday-WorkingHours.pcap_ISCX.csv", MlcveHeader + "\r\n" + MlcveRow(1, "BENIGN") + "\r\n");
            AddEntry(archive, "MachineLearningCVE/Thursday-WorkingHours-Morning-WebAttacks.pcap_ISCX.csv", MlcveHeader + "\r\n" + MlcveRow(2, "Web Attack \u2013 Brute Force") + "\r\n");
            AddEntry(archive, "README.txt", "not a csv");
        }

        var (rows, read) = Read([zip]);

        Assert.Equal([Expected(1), Expected(2)], rows.Select(r => r.Features));
        Assert.Equal(["BENIGN", "Web Attack - Brute Force"], rows.Select(r => r.Label));
        Assert.Equal(
            [zip + "!MachineLearningCVE/Monday-WorkingHours.pcap_ISCX.csv", zip + "!MachineLearningCVE/Thursday-WorkingHours-Morning-WebAttacks.pcap_ISCX.csv"],
            read.Report.Files.Select(f => f.Path));
        Assert.All(read.Inputs, i => Assert.Equal(InputKind.ZipEntry, i.Kind));
        Assert.Equal([zip], Directory.GetFileSystemEntries(_dir.Root)); // nothing unpacked beside it
        Assert.Equal(2, read.Report.Quirks["zip_entry"]);
    }

    [Fact]
    public void Read_QuotedFields_AreUnquoted()
    {
        string file = _dir.Write("quoted.csv", MlcveHeader + "\n" + MlcveRow(1, "\"Web Attack - XSS\"", new Dictionary<int, string> { [0] = "\"80\"" }) + "\n");

        var (rows, read) = Read([file]);

        float[] expected = Expected(1);
        expected[0] = 80;
        Assert.Equal(expected, rows.Single().Features);
        Assert.Equal("Web Attack - XSS", rows[0].Label);
        Assert.Equal(1, read.Report.Quirks["quoted_lines"]);
    }

    internal static byte[] Gzip(string text)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return memory.ToArray();
    }

    private static void AddEntry(ZipArchive archive, string name, string text)
    {
        using var stream = archive.CreateEntry(name).Open();
        stream.Write(Encoding.UTF8.GetBytes(text));
    }
}
