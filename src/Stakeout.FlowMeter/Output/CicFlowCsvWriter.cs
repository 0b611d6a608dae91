using System.Globalization;
using System.Text;
using Stakeout.Core;
using Stakeout.FlowMeter.Flows;

namespace Stakeout.FlowMeter.Output;

/// <summary>
/// Writes flows as CICFlowMeter-V4 writes them: its 84-column header and order (Flow ID, Src IP, Src Port, Dst IP, Dst
/// Port, Protocol, Timestamp, 76 features without the duplicate header column, Label), Infinity/NaN spelled as Java
/// does, the timestamp as <c>dd/MM/yyyy hh:mm:ss AM</c> in the time zone given (UTC by default).
/// </summary>
public sealed class CicFlowCsvWriter : IFlowSink, IDisposable
{
    /// <summary>The V4 header names, in order, as its FlowFeature table spells them.</summary>
    public static readonly IReadOnlyList<string> Header =
    [
        "Flow ID", "Src IP", "Src Port", "Dst IP", "Dst Port", "Protocol", "Timestamp", "Flow Duration", "Total Fwd Packet",
        "Total Bwd packets", "Total Length of Fwd Packet", "Total Length of Bwd Packet", "Fwd Packet Length Max",
        "Fwd Packet Length Min", "Fwd Packet Length Mean", "Fwd Packet Length Std", "Bwd Packet Length Max",
        "Bwd Packet Length Min", "Bwd Packet Length Mean", "Bwd Packet Length Std", "Flow Bytes/s", "Flow Packets/s",
        "Flow IAT Mean", "Flow IAT Std", "Flow IAT Max", "Flow IAT Min", "Fwd IAT Total", "Fwd IAT Mean", "Fwd IAT Std",
        "Fwd IAT Max", "Fwd IAT Min", "Bwd IAT Total", "Bwd IAT Mean", "Bwd IAT Std", "Bwd IAT Max", "Bwd IAT Min",
        "Fwd PSH Flags", "Bwd PSH Flags", "Fwd URG Flags", "Bwd URG Flags", "Fwd Header Length", "Bwd Header Length",
        "Fwd Packets/s", "Bwd Packets/s", "Packet Length Min", "Packet Length Max", "Packet Length Mean",
        "Packet Length Std", "Packet Length Variance", "FIN Flag Count", "SYN Flag Count", "RST Flag Count",
        "PSH Flag Count", "ACK Flag Count", "URG Flag Count", "CWE Flag Count", "ECE Flag Count", "Down/Up Ratio",
        "Average Packet Size", "Fwd Segment Size Avg", "Bwd Segment Size Avg", "Fwd Bytes/Bulk Avg", "Fwd Packet/Bulk Avg",
        "Fwd Bulk Rate Avg", "Bwd Bytes/Bulk Avg", "Bwd Packet/Bulk Avg", "Bwd Bulk Rate Avg", "Subflow Fwd Packets",
        "Subflow Fwd Bytes", "Subflow Bwd Packets", "Subflow Bwd Bytes", "FWD Init Win Bytes", "Bwd Init Win Bytes",
        "Fwd Act Data Pkts", "Fwd Seg Size Min", "Active Mean", "Active Std", "Active Max", "Active Min", "Idle Mean",
        "Idle Std", "Idle Max", "Idle Min", "Label",
    ];

    private readonly TextWriter _writer;
    private readonly TimeZoneInfo _zone;
    private readonly string _label;
    private readonly bool _ownsWriter;
    private readonly StringBuilder _line = new(1024);

    /// <summary>Writes to <paramref name="writer"/> and writes the header now.</summary>
    public CicFlowCsvWriter(TextWriter writer, TimeZoneInfo? zone = null, string label = "NeedManualLabel", bool ownsWriter = true)
        : this(writer, zone, label, ownsWriter, writeHeader: true)
    {
    }

    /// <summary>Writes to <paramref name="writer"/>; the header only when <paramref name="writeHeader"/> (rows to be appended elsewhere).</summary>
    internal CicFlowCsvWriter(TextWriter writer, TimeZoneInfo? zone, string label, bool ownsWriter, bool writeHeader)
    {
        _writer = writer ?? throw new ArgumentNullException(nameof(writer));
        _zone = zone ?? TimeZoneInfo.Utc;
        _label = label ?? throw new ArgumentNullException(nameof(label));
        _ownsWriter = ownsWriter;
        if (writeHeader)
        {
            _writer.Write(string.Join(',', Header));
            _writer.Write('\n');
        }
    }

    /// <summary>Rows written.</summary>
    public long Rows { get; private set; }

    /// <summary>Write interim reports of long flows too (off by default: a CSV holds ended flows).</summary>
    public bool IncludeInterval { get; init; }

    /// <inheritdoc/>
    public void OnFlow(in CompletedFlow flow)
    {
        if (flow.Reason == FlowEndReason.Interval && !IncludeInterval)
        {
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        var id = flow.Identity;
        _line.Clear();
        _line.Append(flow.FlowId).Append(',')
            .Append(id.SourceIp.ToString()).Append(',').Append(id.SourcePort.ToString(inv)).Append(',')
            .Append(id.DestinationIp.ToString()).Append(',').Append(id.DestinationPort.ToString(inv)).Append(',')
            .Append(id.Protocol.ToString(inv)).Append(',')
            .Append(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(id.Timestamp, DateTimeKind.Utc), _zone).ToString("dd/MM/yyyy hh:mm:ss tt", inv));
        var x = flow.Features;
        for (int i = 1; i < FeatureSchema.Count; i++)
        {
            if (i == FeatureSchema.FwdHeaderLengthDuplicate)
            {
                continue;
            }

            _line.Append(',');
            Append(_line, x[i]);
        }

        _line.Append(',').Append(_label).Append('\n');
        _writer.Write(_line);
        Rows++;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _writer.Flush();
        if (_ownsWriter)
        {
            _writer.Dispose();
        }
    }

    private static void Append(StringBuilder sb, double v)
    {
        if (double.IsNaN(v))
        {
            sb.Append("NaN");
        }
        else if (double.IsPositiveInfinity(v))
        {
            sb.Append("Infinity");
        }
        else if (double.IsNegativeInfinity(v))
        {
            sb.Append("-Infinity");
        }
        else if (v == Math.Floor(v) && Math.Abs(v) < 1e15)
        {
            sb.Append(((long)v).ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append(v.ToString("R", CultureInfo.InvariantCulture));
        }
    }
}
