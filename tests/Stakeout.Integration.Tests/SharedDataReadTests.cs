using System.IO.Compression;
using Stakeout.Core;
using Stakeout.Ingest;

namespace Stakeout.Integration.Tests;

/// <summary>Reads every real file in ../shared/data and checks the counts its README states.</summary>
public sealed class SharedDataReadTests
{
    public static TheoryData<string, string, long, string> Files => new()
    {
        // file, layout, rows, "class=count;..." as in shared/data/README.md
        { "cicids2017/mlcve_friday-ddos_head9998.csv", "MachineLearningCve", 9998, "BENIGN=9998" },
        { "cicids2017/mlcve_head200.csv", "MachineLearningCve", 200, "BENIGN=200" },
        { "cicids2017/trafficlabelling_friday-ddos_head299.csv", "TrafficLabelling", 299, "BENIGN=299" },
        { "cicids2017/mlcve_ddos-benign_10rows.csv", "MachineLearningCve", 10, "BENIGN=5;DDoS=5" },
        { "cicids2017/trafficlabelling_ddos_1000.csv", "TrafficLabelling", 1000, "DDoS=1000" },
        { "cicids2017/trafficlabelling_webattack-xss_652.csv", "TrafficLabelling", 652, "Web Attack - XSS=652" },
        { "cicids2017/trafficlabelling_webattack-sqli_21.csv", "TrafficLabelling", 21, "Web Attack - Sql Injection=21" },
        {
            "cicids2017-families/cicids2017_sample_families.csv", "PartialCicIds2017", 6311,
            "BENIGN=227;Bot=1966;BruteForce=553;DoS=952;Infiltration=36;PortScan=397;WebAttack=2180"
        },
    };

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Read_SharedFile_MatchesReadmeCounts(string file, string layout, long rows, string classes)
    {
        var read = new FlowCsvReader().Open([SharedData.Path(file)]);
        long used = read.ReadBatches().Sum(b => (long)b.Count);
        var report = read.Report;

        Assert.Equal(rows, report.RowsRead);
        Assert.Equal(rows, report.RowsUsed);
        Assert.Equal(rows, used);
        Assert.Equal(0, report.RowsRejected);
        Assert.Equal(0, report.RowsDropped);
        Assert.True(report.IsBalanced);
        Assert.Equal(Enum.Parse<FileLayout>(layout), report.Files.Single().Layout);
        var expected = classes.Split(';').Select(c => c.Split('=')).ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(expected, report.Classes.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    [SkippableFact]
    public void Read_AllSharedCsvs_TotalsAndFamiliesMatchReadme()
    {
        var read = new FlowCsvReader().Open([SharedData.Path("cicids2017"), SharedData.Path("cicids2017-families")]);
        foreach (var _ in read.ReadBatches())
        {
        }

        var r = read.Report;
        Assert.Equal(8, r.Files.Count);
        Assert.Equal(18491, r.RowsRead);
        Assert.Equal(18491, r.RowsUsed);
        Assert.True(r.IsBalanced);
        var families = r.ClassesAt(LabelLevel.Family);
        Assert.Equal(9998 + 200 + 299 + 5 + 227, families["BENIGN"]);
        Assert.Equal(1005, families["DDoS"]);
        Assert.Equal(652 + 21 + 2180, families["WebAttack"]);
        Assert.Equal(1966, families["Bot"]);
        Assert.Equal(7762, r.ClassesAt(LabelLevel.Binary)["ATTACK"]);
    }

    [SkippableFact]
    public void Read_OriginalBytesFiles_ReportTheirQuirks()
    {
        var read = new FlowCsvReader().Open([SharedData.Path("cicids2017", "mlcve_friday-ddos_head9998.csv")]);
        var batches = read.ReadBatches().ToList();
        var q = read.Report.Quirks;

        // README: Infinity 13 times (Flow Bytes/s, Flow Packets/s) and NaN once (Flow Bytes/s).
        Assert.Equal(13, q["infinity:Flow Bytes/s"] + q["infinity:Flow Packets/s"]);
        Assert.Equal(1, q["nan:Flow Bytes/s"]);
        Assert.Equal(9999, q["crlf_line_endings"]);
        Assert.Equal(1, q["duplicate_column:Fwd Header Length"]);
        Assert.True(q["header_names_padded_with_spaces"] > 50);
        Assert.True(q["init_win_bytes_minus_one"] > 0);

        // Infinity is kept as infinity by default; the first row is 54865,3,2,0,12,... as the README says.
        var first = batches[0].Row(0);
        Assert.Equal(54865f, first[FeatureSchema.DestinationPort]);
        Assert.Equal(3f, first[FeatureSchema.FlowDuration]);
        Assert.Equal(first[FeatureSchema.FwdHeaderLength], first[FeatureSchema.FwdHeaderLengthDuplicate]);
        Assert.Equal(13, batches.Sum(b => Enumerable.Range(0, b.Count).Sum(r => (float.IsPositiveInfinity(b.Row(r)[14]) ? 1 : 0) + (float.IsPositiveInfinity(b.Row(r)[15]) ? 1 : 0))));
    }

    [SkippableFact]
    public void Read_TrafficLabelling_KeepsRealIdentity()
    {
        var read = new FlowCsvReader().Open([SharedData.Path("cicids2017", "trafficlabelling_webattack-sqli_21.csv")]);
        var batch = read.ReadBatches().Single();
        var id = batch.Identities![0];

        Assert.Equal("172.16.0.1", id.SourceIp.ToString());
        Assert.Equal(36196, id.SourcePort);
        Assert.Equal("192.168.10.50", id.DestinationIp.ToString());
        Assert.Equal(80, id.DestinationPort);
        Assert.Equal(6, id.Protocol);
        Assert.Equal(new DateTime(2017, 7, 6, 10, 40, 0), id.Timestamp);
        Assert.Equal("172.16.0.1-192.168.10.50-36196-80-6", batch.FlowIds![0]);
        Assert.Equal(21, read.Report.Quirks["label_encoding:c2_96_mis_encoded"]);
        Assert.True(read.Report.Quirks["ports_written_as_floats"] > 0);
    }

    [SkippableFact]
    public void Read_FridayAfternoonTimestamps_AreReadAsPm()
    {
        var read = new FlowCsvReader().Open([SharedData.Path("cicids2017", "trafficlabelling_friday-ddos_head299.csv")]);
        var batch = read.ReadBatches().Single();

        // "7/7/2017 3:30" in the Friday afternoon file is 15:30 on 7 July 2017.
        Assert.Equal(new DateTime(2017, 7, 7, 15, 30, 0), batch.Identities![0].Timestamp);
        Assert.Equal("104.16.207.165", batch.Identities[0].SourceIp.ToString());
        Assert.Equal(2, read.Report.Quirks["infinity:Flow Bytes/s"] + read.Report.Quirks["infinity:Flow Packets/s"]);
    }

    [SkippableFact]
    public void Read_FamiliesSample_LacksDestinationPortAndUsesLowercaseInf()
    {
        var read = new FlowCsvReader().Open([SharedData.Path("cicids2017-families", "cicids2017_sample_families.csv")]);
        var batches = read.ReadBatches().ToList();
        var file = read.Report.Files.Single();

        Assert.Equal(["Destination Port"], file.MissingFeatures);
        Assert.Equal(LabelLevel.Family, file.LabelLevel);
        Assert.True(float.IsNaN(batches[0].Row(0)[FeatureSchema.DestinationPort]));
        Assert.Contains(read.Report.Quirks.Keys, k => k.StartsWith("inf_lowercase:", StringComparison.Ordinal));
        Assert.Equal(1, read.Report.Quirks["pandas_suffix:Fwd Header Length.1"]);
    }

    [SkippableFact]
    public void Read_OfficialStyleZip_ReadsEntriesWithoutUnpacking()
    {
        string dir = Directory.CreateTempSubdirectory("stakeout-zip").FullName;
        try
        {
            string zip = Path.Combine(dir, "MachineLearningCSV.zip");
            using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            {
                archive.CreateEntryFromFile(SharedData.Path("cicids2017", "mlcve_head200.csv"), "MachineLearningCVE/Monday-WorkingHours.pcap_ISCX.csv");
                archive.CreateEntryFromFile(SharedData.Path("cicids2017", "mlcve_ddos-benign_10rows.csv"), "MachineLearningCVE/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv");
            }

            var read = new FlowCsvReader().Open([zip]);
            long rows = read.ReadBatches().Sum(b => (long)b.Count);

            Assert.Equal(210, rows);
            Assert.Equal(2, read.Report.Files.Count);
            Assert.All(read.Report.Files, f => Assert.Contains("!MachineLearningCVE/", f.Path, StringComparison.Ordinal));
            Assert.Empty(Directory.GetFiles(dir, "*.csv", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public void Read_GzipCopy_GivesTheSameRowsAsThePlainFile()
    {
        string plain = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        string gz = Path.Combine(Path.GetTempPath(), $"stakeout-{Guid.NewGuid():N}.csv.gz");
        try
        {
            using (var input = File.OpenRead(plain))
            using (var output = new GZipStream(File.Create(gz), CompressionLevel.Fastest))
            {
                input.CopyTo(output);
            }

            float[] a = ReadAll(plain);
            float[] b = ReadAll(gz);
            Assert.Equal(1000 * FeatureSchema.Count, a.Length);
            Assert.Equal(a, b);
        }
        finally
        {
            File.Delete(gz);
        }
    }

    [SkippableFact]
    public void Read_DuplicatesDropped_AccountingStillBalances()
    {
        var read = new FlowCsvReader(new FlowReaderOptions { Duplicates = DuplicatePolicy.Drop })
            .Open([SharedData.Path("cicids2017"), SharedData.Path("cicids2017-families")]);
        long used = read.ReadBatches().Sum(b => (long)b.Count);
        var r = read.Report;

        Assert.True(r.Duplicates > 1000, $"expected > 1000 exact duplicates, found {r.Duplicates}");
        Assert.Equal(r.Duplicates, r.DroppedByReason[DropReason.Duplicate]);
        Assert.Equal(18491 - r.Duplicates, used);
        Assert.True(r.IsBalanced);
    }

    private static float[] ReadAll(string path)
    {
        var read = new FlowCsvReader().Open([path]);
        return [.. read.ReadBatches().SelectMany(b => b.Features.Take(b.Count * FeatureSchema.Count))];
    }
}
