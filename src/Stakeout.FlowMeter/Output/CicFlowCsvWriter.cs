using System.Globalization;
using System.Runtime.CompilerServices;
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

    private const int RowReserve = 8192; // the longest row (IPv6 ids, 77 numbers of at most 24 bytes) fits with room
    private static readonly byte[] HeaderLine = System.Text.Encoding.ASCII.GetBytes(string.Join(',', Header) + "\n");

    private readonly TextWriter? _writer;
    private readonly Stream? _stream;
    private readonly TimeZoneInfo _zone;
    private readonly byte[] _label;
    private readonly bool _ownsWriter;
    private readonly byte[] _buffer = new byte[1 << 17];
    private readonly byte[] _stamp = new byte[32];
    private char[]? _chars;
    private int _used;
    private long _stampSecond = long.MinValue;
    private int _stampLength;

    /// <summary>Writes to <paramref name="writer"/> and writes the header now.</summary>
    public CicFlowCsvWriter(TextWriter writer, TimeZoneInfo? zone = null, string label = "NeedManualLabel", bool ownsWriter = true)
        : this(writer ?? throw new ArgumentNullException(nameof(writer)), null, zone, label, ownsWriter, writeHeader: true)
    {
    }

    /// <summary>Writes UTF-8 (ASCII) bytes to <paramref name="stream"/>, the fast path, and writes the header now.</summary>
    public CicFlowCsvWriter(Stream stream, TimeZoneInfo? zone = null, string label = "NeedManualLabel", bool ownsStream = true)
        : this(null, stream ?? throw new ArgumentNullException(nameof(stream)), zone, label, ownsStream, writeHeader: true)
    {
    }

    /// <summary>Writes to one of <paramref name="writer"/> or <paramref name="stream"/>; the header only when <paramref name="writeHeader"/>.</summary>
    internal CicFlowCsvWriter(TextWriter? writer, Stream? stream, TimeZoneInfo? zone, string label, bool ownsWriter, bool writeHeader)
    {
        if ((writer is null) == (stream is null))
        {
            throw new ArgumentException("Give exactly one of a TextWriter or a Stream.", nameof(writer));
        }

        _writer = writer;
        _stream = stream;
        _zone = zone ?? TimeZoneInfo.Utc;
        ArgumentNullException.ThrowIfNull(label);
        _label = System.Text.Encoding.UTF8.GetBytes(label);
        _ownsWriter = ownsWriter;
        if (writeHeader)
        {
            HeaderLine.CopyTo(_buffer, 0);
            _used = HeaderLine.Length;
        }
    }

    /// <summary>Rows written.</summary>
    public long Rows { get; private set; }

    /// <summary>Write interim reports of long flows too (off by default: a CSV holds ended flows).</summary>
    public bool IncludeInterval { get; init; }

    /// <inheritdoc/>
    public void OnFlow(in CompletedFlow flow) => Write(flow.Identity, flow.Reason, flow.Features);

    /// <summary>Writes one row (the pipelined writer calls this with its own copy of the flow).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Write(in FlowIdentity id, FlowEndReason reason, ReadOnlySpan<double> x)
    {
        if (reason == FlowEndReason.Interval && !IncludeInterval)
        {
            return;
        }

        if (_buffer.Length - _used < RowReserve)
        {
            Drain();
        }

        // The Flow ID is "src-dst-sport-dport-proto" (FlowIdFormat), so the address columns are copies of its first two
        // parts.
        Span<byte> b = _buffer.AsSpan(_used);
        int n = FlowIdFormat.Write(b, id, out int srcLength, out int dstStart, out int dstLength);
        b[n++] = (byte)',';
        b[..srcLength].CopyTo(b[n..]);
        n += srcLength;
        b[n++] = (byte)',';
        n += Int(b[n..], id.SourcePort);
        b[n++] = (byte)',';
        b.Slice(dstStart, dstLength).CopyTo(b[n..]);
        n += dstLength;
        b[n++] = (byte)',';
        n += Int(b[n..], id.DestinationPort);
        b[n++] = (byte)',';
        n += Int(b[n..], id.Protocol);
        b[n++] = (byte)',';
        n += Stamp(b[n..], id.Timestamp);
        for (int i = 1; i < FeatureSchema.Count; i++)
        {
            if (i == FeatureSchema.FwdHeaderLengthDuplicate)
            {
                continue;
            }

            b[n++] = (byte)',';
            n += Number(b[n..], x[i]);
        }

        b[n++] = (byte)',';
        _label.CopyTo(b[n..]);
        n += _label.Length;
        b[n++] = (byte)'\n';
        _used += n;
        Rows++;
    }

    /// <summary>Writes what is buffered and then every byte of <paramref name="rows"/> (rows this class wrote elsewhere).</summary>
    internal void AppendRows(Stream rows)
    {
        Drain();
        if (_stream is not null)
        {
            rows.CopyTo(_stream, 1 << 17);
            return;
        }

        int read;
        while ((read = rows.Read(_buffer, 0, _buffer.Length)) > 0)
        {
            _used = read;
            Drain();
        }
    }

    /// <summary>Writes what is buffered to the stream or writer (without flushing them).</summary>
    internal void Drain()
    {
        if (_used == 0)
        {
            return;
        }

        if (_stream is not null)
        {
            _stream.Write(_buffer, 0, _used);
        }
        else
        {
            _chars ??= new char[_buffer.Length];
            int chars = System.Text.Encoding.UTF8.GetChars(_buffer, 0, _used, _chars, 0);
            _writer!.Write(_chars, 0, chars);
        }

        _used = 0;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Drain();
        if (_stream is not null)
        {
            _stream.Flush();
            if (_ownsWriter)
            {
                _stream.Dispose();
            }

            return;
        }

        _writer!.Flush();
        if (_ownsWriter)
        {
            _writer.Dispose();
        }
    }

    private static int Int(Span<byte> to, long v)
    {
        v.TryFormat(to, out int n, default, CultureInfo.InvariantCulture);
        return n;
    }

    /// <summary>The start as V4 prints it (<c>dd/MM/yyyy hh:mm:ss AM</c>, local to the zone), cached per second.</summary>
    private int Stamp(Span<byte> to, DateTime utc)
    {
        long second = utc.Ticks / TimeSpan.TicksPerSecond;
        if (second != _stampSecond)
        {
            var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), _zone);
            local.TryFormat(_stamp, out _stampLength, "dd/MM/yyyy hh:mm:ss tt", CultureInfo.InvariantCulture);
            _stampSecond = second;
        }

        _stamp.AsSpan(0, _stampLength).CopyTo(to);
        return _stampLength;
    }

    /// <summary>
    /// Java's spelling of the special values; integers without a decimal point; others shortest round-trip, as
    /// <c>ToString("R")</c> writes them (<see cref="ShortestDouble"/> for the usual range, twice as fast).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Number(Span<byte> to, double v)
    {
        if (v == Math.Floor(v) && Math.Abs(v) < 1e15)
        {
            return Int(to, (long)v);
        }

        if (double.IsNaN(v))
        {
            "NaN"u8.CopyTo(to);
            return 3;
        }

        if (double.IsPositiveInfinity(v))
        {
            "Infinity"u8.CopyTo(to);
            return 8;
        }

        if (double.IsNegativeInfinity(v))
        {
            "-Infinity"u8.CopyTo(to);
            return 9;
        }

        if (ShortestDouble.TryWrite(to, v, out int n))
        {
            return n;
        }

        v.TryFormat(to, out n, "R", CultureInfo.InvariantCulture);
        return n;
    }
}
