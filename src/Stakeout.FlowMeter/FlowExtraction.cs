using Stakeout.FlowMeter.Capture;
using Stakeout.FlowMeter.Decoding;
using Stakeout.FlowMeter.Flows;
using Stakeout.FlowMeter.Output;

namespace Stakeout.FlowMeter;

/// <summary>What one capture file gave.</summary>
/// <param name="Path">The file.</param>
/// <param name="Format">pcap or pcapng.</param>
/// <param name="Records">Capture records read.</param>
/// <param name="Decoded">Records decoded into flow input.</param>
/// <param name="FlowsWritten">Flows written for this file.</param>
/// <param name="Weird">Weird counts by name for this file.</param>
/// <param name="SuppressedSinglePacket">One-packet flows left out (CICFlowMeter mode).</param>
/// <param name="Evicted">Flows ended because the table was full.</param>
public sealed record CaptureFileReport(
    string Path,
    CaptureFormat Format,
    long Records,
    long Decoded,
    long FlowsWritten,
    IReadOnlyList<KeyValuePair<string, long>> Weird,
    long SuppressedSinglePacket,
    long Evicted);

/// <summary>Capture files to flow CSVs: one meter per file, as CICFlowMeter does, all rows into one CSV.</summary>
public static class FlowExtraction
{
    /// <summary>
    /// Meters each capture in <paramref name="captures"/> and writes the flows to <paramref name="output"/> in
    /// CICFlowMeter-V4's CSV layout. A file that is not a capture throws <see cref="InvalidDataException"/> naming it.
    /// </summary>
    public static IReadOnlyList<CaptureFileReport> WriteCsv(
        IReadOnlyList<string> captures,
        FlowMeterOptions options,
        TextWriter output,
        TimeZoneInfo? zone = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(captures);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        options.Validate();
        var reports = new List<CaptureFileReport>(captures.Count);
        using var csv = new CicFlowCsvWriter(output, zone, ownsWriter: false);
        foreach (string path in captures)
        {
            long before = csv.Rows;
            using var gui = options.Order == FlowOrder.CicFlowMeter ? new GuiOrder(csv, zone) : null;
            var meter = new PacketFlowMeter(options, (IFlowSink?)gui ?? csv);
            using (var reader = CaptureReader.Open(path, meter.Weird))
            {
                meter.ProcessAll(reader, cancellationToken);
                meter.Flush();
                gui?.AppendEnded(output);
                reports.Add(new CaptureFileReport(
                    path,
                    reader.Format,
                    meter.Weird.Records,
                    meter.Weird.Decoded,
                    csv.Rows - before + (gui?.Ended ?? 0),
                    meter.Weird.Summary(),
                    meter.Flows.SuppressedSinglePacket,
                    meter.Flows.Evicted));
            }
        }

        return reports;
    }

    /// <summary>Meters one capture file and returns every reported flow's features and identity (for tests and tools).</summary>
    public static IReadOnlyList<MeteredFlow> Read(string path, FlowMeterOptions options, out WeirdCounters weird)
    {
        var sink = new ListSink();
        var meter = new PacketFlowMeter(options, sink);
        weird = meter.Weird;
        using var reader = CaptureReader.Open(path, meter.Weird);
        meter.ProcessAll(reader);
        meter.Flush();
        if (options.Order == FlowOrder.CicFlowMeter)
        {
            // The GUI's order (FlowOrder.CicFlowMeter): the flows open at the end first, then those a packet ended.
            return [.. sink.Flows.Where(f => f.Reason == FlowEndReason.EndOfCapture), .. sink.Flows.Where(f => f.Reason != FlowEndReason.EndOfCapture)];
        }

        return sink.Flows;
    }

    /// <summary>
    /// Puts a capture's rows in V4's GUI order: flows open at the end of the capture go straight to the CSV (the meter
    /// reports them last, at its flush); flows ended earlier are held in a temporary file, deleted on close, and appended
    /// after them. The file keeps memory flat on captures with millions of flows.
    /// </summary>
    private sealed class GuiOrder : IFlowSink, IDisposable
    {
        private readonly CicFlowCsvWriter _open;
        private readonly FileStream _spill;
        private readonly StreamWriter _spillText;
        private readonly CicFlowCsvWriter _ended;

        public GuiOrder(CicFlowCsvWriter open, TimeZoneInfo? zone)
        {
            _open = open;
            _spill = new FileStream(
                System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"stakeout-flows-{Guid.NewGuid():N}.csv"),
                FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            _spillText = new StreamWriter(_spill, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            _ended = new CicFlowCsvWriter(_spillText, zone, "NeedManualLabel", ownsWriter: false, writeHeader: false);
        }

        /// <summary>Rows held and appended (flows a packet ended).</summary>
        public long Ended => _ended.Rows;

        public void OnFlow(in CompletedFlow flow)
        {
            if (flow.Reason == FlowEndReason.EndOfCapture)
            {
                _open.OnFlow(flow);
            }
            else
            {
                _ended.OnFlow(flow);
            }
        }

        /// <summary>Appends the held rows to <paramref name="output"/> (call after the meter's flush).</summary>
        public void AppendEnded(TextWriter output)
        {
            _spillText.Flush();
            _spill.Position = 0;
            using var text = new StreamReader(_spill, new System.Text.UTF8Encoding(false), false, 1 << 16, leaveOpen: true);
            var buffer = new char[1 << 16];
            int n;
            while ((n = text.Read(buffer, 0, buffer.Length)) > 0)
            {
                output.Write(buffer, 0, n);
            }
        }

        public void Dispose()
        {
            _spillText.Dispose();
            _spill.Dispose();
        }
    }

    private sealed class ListSink : IFlowSink
    {
        public List<MeteredFlow> Flows { get; } = [];

        public void OnFlow(in CompletedFlow flow)
            => Flows.Add(new MeteredFlow(flow.Identity, flow.FlowId, flow.StartMicros, flow.Packets, flow.Reason, flow.Features.ToArray()));
    }
}

/// <summary>A reported flow copied out of the meter.</summary>
/// <param name="Identity">Endpoints, protocol, start (UTC).</param>
/// <param name="FlowId">CICFlowMeter's flow id text.</param>
/// <param name="StartMicros">First packet time, µs since the Unix epoch.</param>
/// <param name="Packets">Packets in the flow.</param>
/// <param name="Reason">Why it was reported.</param>
/// <param name="Features">The 78 features in canonical order.</param>
public sealed record MeteredFlow(
    Stakeout.Core.FlowIdentity Identity,
    string FlowId,
    long StartMicros,
    long Packets,
    FlowEndReason Reason,
    IReadOnlyList<double> Features);
