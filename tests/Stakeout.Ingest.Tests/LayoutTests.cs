using Stakeout.Core;
using static Stakeout.Ingest.Tests.FlowCsv;

namespace Stakeout.Ingest.Tests;

/// <summary>Each layout the issue names, as a hand-written fixture: exact values read, labels, identity and accounting.</summary>
public sealed class LayoutTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Read_MachineLearningCve_EveryColumnLandsAtItsCanonicalIndex()
    {
        string file = _dir.Write("Friday.pcap_ISCX.csv", MlcveHeader + "\r\n" + MlcveRow(1, "BENIGN") + "\r\n" + MlcveRow(2, "DDoS") + "\r\n");

        var (rows, read) = Read([file]);

        Assert.Equal(2, rows.Count);
        Assert.Equal(Expected(1), rows[0].Features);
        Assert.Equal(Expected(2), rows[1].Features);
        Assert.Equal(["BENIGN", "DDoS"], rows.Select(r => r.Label));
        Assert.Equal([2L, 3L], rows.Select(r => r.Line));
        Assert.All(rows, r => Assert.Null(r.Identity));
        var f = read.Report.Files.Single();
        Assert.Equal(FileLayout.MachineLearningCve, f.Layout);
        Assert.Equal(79, f.Columns);
        Assert.Equal(78, f.FeaturesPresent);
        Assert.Empty(f.MissingFeatures);
        Assert.False(f.HasIdentity);
        Assert.True(f.HasLabel);
        Assert.Equal(LabelLevel.Class, f.LabelLevel);
        Assert.Equal((2L, 2L, 0L, 0L), (f.RowsRead, f.RowsUsed, f.RowsRejected, f.RowsDropped));
        var q = read.Report.Quirks;
        Assert.Equal(1, q["duplicate_column:Fwd Header Length"]);
        Assert.Equal(MlcveHeader.Split(',').Count(n => n.StartsWith(' ')), q["header_names_padded_with_spaces"]);
        Assert.Equal(3, q["crlf_line_endings"]); // the header and both rows
        Assert.Equal(new Dictionary<string, long> { ["BENIGN"] = 1, ["DDoS"] = 1 }, read.Report.Classes);
    }

    [Fact]
    public void Read_TrafficLabelling_KeepsIdentityBesideTheFeatures()
    {
        string file = _dir.Write("Friday-DDos.csv", TrafficLabellingHeader + "\n" +
            TrafficRow(1, "BENIGN", "192.168.10.5", 54865, "104.16.207.165", "443", "6", "7/7/2017 3:30") + "\n" +
            TrafficRow(2, "DDoS", "172.16.0.1", 49650, "192.168.10.50", "80", "6", "7/7/2017 10:56:07") + "\n");

        var (rows, read) = Read([file]);

        Assert.Equal(2, rows.Count);
        float[] first = Expected(1);
        first[FeatureSchema.DestinationPort] = 443;
        Assert.Equal(first, rows[0].Features);
        var id = rows[0].Identity!.Value;
        Assert.Equal("192.168.10.5", id.SourceIp.ToString());
        Assert.Equal(54865, id.SourcePort);
        Assert.Equal("104.16.207.165", id.DestinationIp.ToString());
        Assert.Equal(443, id.DestinationPort);
        Assert.Equal(6, id.Protocol);
        Assert.Equal(new DateTime(2017, 7, 7, 15, 30, 0), id.Timestamp); // 12-hour clock without PM: 3:30 is 15:30
        Assert.Equal("192.168.10.5-104.16.207.165-54865-443-6", rows[0].FlowId);
        Assert.Equal(new DateTime(2017, 7, 7, 10, 56, 7), rows[1].Identity!.Value.Timestamp);
        Assert.Equal(80, rows[1].Identity!.Value.DestinationPort);
        var f = read.Report.Files.Single();
        Assert.Equal(FileLayout.TrafficLabelling, f.Layout);
        Assert.Equal(85, f.Columns);
        Assert.True(f.HasIdentity);
        Assert.Equal(1, read.Report.Quirks["timestamp_12h_hour_read_as_pm"]);
        Assert.Equal(1, read.Report.Quirks["duplicate_column:Fwd Header Length"]);
    }

    [Fact]
    public void Read_TrafficLabelling_IdentityColumnsAreNeverFeatures()
    {
        // Source port, protocol, addresses and timestamp all carry values no feature has.
        string file = _dir.Write("t.csv", TrafficLabellingHeader + "\n" +
            TrafficRow(3, "BENIGN", "10.9.9.9", 61111, "10.8.8.8", "53", "17", "3/7/2017 9:01") + "\n");

        var (rows, _) = Read([file]);

        float[] expected = Expected(3);
        expected[FeatureSchema.DestinationPort] = 53;
        Assert.Equal(expected, rows.Single().Features);
        Assert.DoesNotContain(61111f, rows[0].Features);
        Assert.DoesNotContain(17f, rows[0].Features);
        Assert.Equal(17, rows[0].Identity!.Value.Protocol);
        Assert.Equal(new DateTime(2017, 7, 3, 9, 1, 0), rows[0].Identity!.Value.Timestamp);
    }

    [Fact]
    public void Read_CicFlowMeterV4Output_MapsAliasesAndFillsTheDuplicateColumn()
    {
        var values = Enumerable.Range(0, 78).Where(i => i != FeatureSchema.FwdHeaderLengthDuplicate).Select(i => Text(1, i)).ToArray();
        values[58] = "1.3969908357556315E15"; // canonical 59 (index 58 in this 77-column list), as CICFlowMeter writes big doubles
        string row = "10.0.1.66-172.16.1.138-443-60531-6,10.0.1.66,443,172.16.1.138," + values[0] + ",6,09/04/2014 02:30:35 AM," +
                     string.Join(',', values[1..]) + ",NeedManualLabel";
        string file = _dir.Write("heartbleed.pcap_Flow.csv", CicFlowMeterV4Header + "\n" + row + "\n");

        var (rows, read) = Read([file]);

        float[] expected = Expected(1);
        expected[FeatureSchema.FwdHeaderLengthDuplicate] = expected[FeatureSchema.FwdHeaderLength];
        expected[59] = 1.3969908357556315E15f;
        Assert.Equal(expected, rows.Single().Features);
        var id = rows[0].Identity!.Value;
        Assert.Equal(new DateTime(2014, 4, 9, 2, 30, 35), id.Timestamp); // AM written: no afternoon inference
        Assert.Equal(443, id.SourcePort);
        Assert.Equal(Value(1, 0), id.DestinationPort);
        Assert.Equal("NeedManualLabel", rows[0].Label);
        var f = read.Report.Files.Single();
        Assert.Equal(FileLayout.CicFlowMeterV4, f.Layout);
        Assert.Equal(84, f.Columns);
        Assert.Equal(78, f.FeaturesPresent);
        Assert.Equal(1, read.Report.Quirks["filled_from_fwd_header_length:Fwd Header Length.1"]);
        Assert.Equal(1, read.Report.Quirks["unknown_label:NeedManualLabel"]);
    }

    [Fact]
    public void Read_CseCicIds2018_MapsAbbreviatedNamesLabelsAnd24HourTime()
    {
        var values = Enumerable.Range(0, 78).Where(i => i != FeatureSchema.FwdHeaderLengthDuplicate).Select(i => Text(2, i)).ToArray();
        string Row(string time, string label) => values[0] + ",6," + time + "," + string.Join(',', values[1..]) + "," + label;
        string file = _dir.Write("Thuesday-20-02-2018_TrafficForML_CICFlowMeter.csv", CseCicIds2018Header + "\n" +
            Row("14/02/2018 03:04:05", "DoS attacks-Hulk") + "\n" + Row("16/02/2018 10:26:00", "Infilteration") + "\n");

        var (rows, read) = Read([file]);

        float[] expected = Expected(2);
        expected[FeatureSchema.FwdHeaderLengthDuplicate] = expected[FeatureSchema.FwdHeaderLength];
        Assert.Equal(expected, rows[0].Features);
        Assert.Equal(["DoS Hulk", "Infiltration"], rows.Select(r => r.Label));
        Assert.Equal(new DateTime(2018, 2, 14, 3, 4, 5), rows[0].Identity!.Value.Timestamp); // 24-hour clock: 03 stays 03
        Assert.Equal(6, rows[0].Identity!.Value.Protocol);
        Assert.Equal(FileLayout.CseCicIds2018, read.Report.Files.Single().Layout);
        Assert.Equal(80, read.Report.Files.Single().Columns);
        Assert.False(read.Report.Quirks.ContainsKey("timestamp_12h_hour_read_as_pm"));
    }

    [Fact]
    public void Read_CseCicIds2018HeaderRepeatedMidFile_IsRejectedAndTheReadGoesOn()
    {
        // Some CSE-CIC-IDS2018 day files repeat their header line between blocks of rows.
        var values = Enumerable.Range(0, 78).Where(i => i != FeatureSchema.FwdHeaderLengthDuplicate).Select(i => Text(3, i)).ToArray();
        string row = values[0] + ",17,02/03/2018 08:47:38," + string.Join(',', values[1..]) + ",Benign";
        string file = _dir.Write("Friday-02-03-2018_TrafficForML_CICFlowMeter.csv", CseCicIds2018Header + "\n" + row + "\n" + CseCicIds2018Header + "\n" + row + "\n");

        var (rows, read) = Read([file]);

        Assert.Equal([2L, 4L], rows.Select(r => r.Line));
        Assert.All(rows, r => Assert.Equal("BENIGN", r.Label));
        var reject = read.Report.Rejects.Single();
        Assert.Equal(3, reject.Line);
        Assert.Equal(RejectReason.NotANumber, reject.Reason);
        Assert.Equal("Dst Port", reject.Field);
    }

    [Fact]
    public void Read_PandasResave_AcceptsSuffixFloatsAndLowercaseInf()
    {
        string header = TrafficLabellingHeader.Replace(", ", ",", StringComparison.Ordinal);
        int second = header.LastIndexOf("Fwd Header Length", StringComparison.Ordinal);
        header = string.Concat(header.AsSpan(0, second), "Fwd Header Length.1", header.AsSpan(second + "Fwd Header Length".Length));
        var set = new Dictionary<int, string> { [1] = "36196.0", [14] = "inf", [15] = "2.5e-05" };
        string file = _dir.Write("baseline_sqli.csv", header + "\n" +
            TrafficRow(4, "Web Attack \u0096 Sql Injection" /* U+0096 is written as C2 96 */, "172.16.0.1", 36196, "192.168.10.50", "80.0", "6.0", "6/7/2017 10:40", set) + "\n");

        var (rows, read) = Read([file]);

        float[] expected = Expected(4);
        expected[0] = 80;
        expected[1] = 36196;
        expected[14] = float.PositiveInfinity;
        expected[15] = 2.5e-05f;
        Assert.Equal(expected, rows.Single().Features);
        Assert.Equal("Web Attack - Sql Injection", rows[0].Label);
        Assert.Equal(6, rows[0].Identity!.Value.Protocol);
        Assert.Equal(80, rows[0].Identity!.Value.DestinationPort);
        Assert.Equal(new DateTime(2017, 7, 6, 10, 40, 0), rows[0].Identity!.Value.Timestamp);
        var q = read.Report.Quirks;
        Assert.Equal(1, q["pandas_suffix:Fwd Header Length.1"]);
        Assert.Equal(1, q["inf_lowercase:Flow Bytes/s"]);
        Assert.Equal(1, q["ports_written_as_floats"]); // protocol "6.0"; the destination port is a feature
        Assert.Equal(1, q["label_encoding:c2_96_mis_encoded"]);
        Assert.False(q.ContainsKey("header_names_padded_with_spaces"));
        Assert.Equal(FileLayout.TrafficLabelling, read.Report.Files.Single().Layout);
    }

    [Fact]
    public void Read_FamilySampleWithoutDestinationPort_IsPartialWithNaNAndFamilyLabels()
    {
        string header = string.Join(',', FeatureSchema.Names.Skip(1)) + ",Label";
        string Row(int r, string label) => string.Join(',', Enumerable.Range(1, 77).Select(f => f == 15 ? "inf" : Text(r, f) + ".0")) + "," + label;
        string file = _dir.Write("CICIDS2017_sample.csv", header + "\n" + Row(1, "DoS") + "\n" + Row(2, "WebAttack") + "\n" + Row(3, "BENIGN") + "\n");

        var (rows, read) = Read([file]);

        float[] expected = Expected(1);
        expected[0] = float.NaN;
        expected[15] = float.PositiveInfinity;
        Assert.Equal(expected, rows[0].Features);
        Assert.Equal(["DoS", "WebAttack", "BENIGN"], rows.Select(r => r.Label));
        Assert.All(rows, r => Assert.Null(r.Identity));
        var f = read.Report.Files.Single();
        Assert.Equal(FileLayout.PartialCicIds2017, f.Layout);
        Assert.Equal(["Destination Port"], f.MissingFeatures);
        Assert.Equal(77, f.FeaturesPresent);
        Assert.Equal(LabelLevel.Family, f.LabelLevel);
        Assert.Equal(LabelLevel.Family, read.Labels[0].Level);
        var binary = read.Report.ClassesAt(LabelLevel.Binary);
        Assert.Equal(2, binary["ATTACK"]);
        Assert.Equal(1, binary["BENIGN"]);
        Assert.Equal(3, read.Report.Quirks["inf_lowercase:Flow Packets/s"]);
    }
}
