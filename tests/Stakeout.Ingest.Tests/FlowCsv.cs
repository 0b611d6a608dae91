using System.Globalization;
using System.Text;
using Stakeout.Core;
using Stakeout.TestData;

namespace Stakeout.Ingest.Tests;

/// <summary>One row as the reader handed it out, flattened for assertions.</summary>
internal sealed record ReadRow(string File, long Line, float[] Features, string? Label, FlowIdentity? Identity, string? FlowId);

/// <summary>
/// Builds flow CSV fixtures in code, so every byte-level quirk (BOM, CRLF, 0x96) is explicit in the test that uses it.
/// Feature f of row s is written as <see cref="Value"/>(s, f), so a test can check that every column lands at its canonical index.
/// </summary>
internal static class FlowCsv
{
    /// <summary>The CIC-IDS2017 MachineLearningCVE header as the official files write it: padded names, Fwd Header Length twice.</summary>
    public const string MlcveHeader =
        " Destination Port, Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets, Total Length of Bwd Packets," +
        " Fwd Packet Length Max, Fwd Packet Length Min, Fwd Packet Length Mean, Fwd Packet Length Std,Bwd Packet Length Max," +
        " Bwd Packet Length Min, Bwd Packet Length Mean, Bwd Packet Length Std,Flow Bytes/s, Flow Packets/s, Flow IAT Mean, Flow IAT Std," +
        " Flow IAT Max, Flow IAT Min,Fwd IAT Total, Fwd IAT Mean, Fwd IAT Std, Fwd IAT Max, Fwd IAT Min,Bwd IAT Total, Bwd IAT Mean," +
        " Bwd IAT Std, Bwd IAT Max, Bwd IAT Min,Fwd PSH Flags, Bwd PSH Flags, Fwd URG Flags, Bwd URG Flags, Fwd Header Length," +
        " Bwd Header Length,Fwd Packets/s, Bwd Packets/s, Min Packet Length, Max Packet Length, Packet Length Mean, Packet Length Std," +
        " Packet Length Variance,FIN Flag Count, SYN Flag Count, RST Flag Count, PSH Flag Count, ACK Flag Count, URG Flag Count," +
        " CWE Flag Count, ECE Flag Count, Down/Up Ratio, Average Packet Size, Avg Fwd Segment Size, Avg Bwd Segment Size," +
        " Fwd Header Length,Fwd Avg Bytes/Bulk, Fwd Avg Packets/Bulk, Fwd Avg Bulk Rate, Bwd Avg Bytes/Bulk, Bwd Avg Packets/Bulk," +
        "Bwd Avg Bulk Rate,Subflow Fwd Packets, Subflow Fwd Bytes, Subflow Bwd Packets, Subflow Bwd Bytes,Init_Win_bytes_forward," +
        " Init_Win_bytes_backward, act_data_pkt_fwd, min_seg_size_forward,Active Mean, Active Std, Active Max, Active Min,Idle Mean," +
        " Idle Std, Idle Max, Idle Min, Label";

    /// <summary>The feature names of <see cref="MlcveHeader"/>, in column order.</summary>
    public static string[] MlcveFeatureNames { get; } = [.. MlcveHeader.Split(',')[..78]];

    /// <summary>CIC-IDS2017 TrafficLabelling: identity columns around Destination Port, then the other 77 features.</summary>
    public static string TrafficLabellingHeader { get; } =
        "Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp," + string.Join(',', MlcveFeatureNames[1..]) + ", Label";

    /// <summary>A CICFlowMeter-V4 output header (84 columns, no duplicated column).</summary>
    public static string CicFlowMeterV4Header { get; } =
        "Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp," + string.Join(',', HeaderSpellings.CicFlowMeterV4Names[1..]) + ",Label";

    /// <summary>A CSE-CIC-IDS2018 header (80 columns, abbreviated names).</summary>
    public static string CseCicIds2018Header { get; } =
        "Dst Port,Protocol,Timestamp," + string.Join(',', HeaderSpellings.CseCicIds2018Names[1..]) + ",Label";

    /// <summary>The value written for feature <paramref name="feature"/> of row <paramref name="row"/>: distinct per column.</summary>
    public static float Value(int row, int feature) => (row * 1000) + feature + 1;

    public static string Text(int row, int feature) => Value(row, feature).ToString(CultureInfo.InvariantCulture);

    /// <summary>A MachineLearningCVE row: 78 values in canonical order, then the label. <paramref name="set"/> overrides cells by feature index.</summary>
    public static string MlcveRow(int row, string label, IReadOnlyDictionary<int, string>? set = null)
        => string.Join(',', Enumerable.Range(0, 78).Select(f => set is not null && set.TryGetValue(f, out var v) ? v : Text(row, f))) + "," + label;

    /// <summary>A TrafficLabelling row with the given identity text; Destination Port is feature 0.</summary>
    public static string TrafficRow(int row, string label, string src, int srcPort, string dst, string dstPort, string protocol, string timestamp, IReadOnlyDictionary<int, string>? set = null)
    {
        string Cell(int f) => set is not null && set.TryGetValue(f, out var v) ? v : Text(row, f);
        return $"{src}-{dst}-{srcPort}-{dstPort}-{protocol},{src},{srcPort},{dst},{dstPort},{protocol},{timestamp}," +
               string.Join(',', Enumerable.Range(1, 77).Select(Cell)) + "," + label;
    }

    /// <summary>Features in canonical order as <see cref="MlcveRow"/> writes them.</summary>
    public static float[] Expected(int row) => [.. Enumerable.Range(0, 78).Select(f => Value(row, f))];

    /// <summary>Reads <paramref name="paths"/> to the end and flattens the batches.</summary>
    public static (List<ReadRow> Rows, FlowRead Read) Read(IEnumerable<string> paths, FlowReaderOptions? options = null)
    {
        var read = new FlowCsvReader(options).Open(paths);
        var rows = new List<ReadRow>();
        foreach (var batch in read.ReadBatches())
        {
            Assert.True(batch.Count > 0, "batches are never empty");
            for (int r = 0; r < batch.Count; r++)
            {
                int id = batch.LabelIds[r];
                rows.Add(new ReadRow(
                    read.Inputs[batch.SourceIndex].DisplayName,
                    batch.Lines[r],
                    batch.Row(r).ToArray(),
                    id < 0 ? null : read.Labels[id].Name,
                    batch.Identities?[r],
                    batch.FlowIds?[r]));
            }
        }

        var report = read.Report;
        Assert.Equal(report.RowsRead, report.RowsUsed + report.RowsRejected + report.RowsDropped);
        Assert.Equal(report.RowsUsed, rows.Count);
        Assert.Equal(report.RowsRead, report.Files.Sum(f => f.RowsRead));
        Assert.Equal(report.RowsUsed, report.Files.Sum(f => f.RowsUsed));
        Assert.Equal(report.RowsRejected, report.RejectedByReason.Values.Sum());
        Assert.Equal(report.RowsDropped, report.DroppedByReason.Values.Sum());
        foreach (var file in report.Files)
        {
            Assert.Equal(file.RowsRead, file.RowsUsed + file.RowsRejected + file.RowsDropped);
        }

        return (rows, read);
    }

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}

/// <summary>A temporary directory, deleted with its contents on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "stakeout-ingest-tests", Guid.NewGuid().ToString("N"));

    public string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    public string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
