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
        ArgumentNullException.ThrowIfNull(output);
        using var csv = new CicFlowCsvWriter(output, zone, ownsWriter: false);
        return WriteCsv(captures, options, csv, zone, cancellationToken);
    }

    /// <summary>
    /// As <see cref="WriteCsv(IReadOnlyList{string}, FlowMeterOptions, TextWriter, TimeZoneInfo?, CancellationToken)"/>,
    /// writing ASCII bytes straight to <paramref name="output"/> (what `stakeout flows` uses: no text encoder between the
    /// rows and the file). The stream is flushed, not closed.
    /// </summary>
    public static IReadOnlyList<CaptureFileReport> WriteCsv(
        IReadOnlyList<string> captures,
        FlowMeterOptions options,
        Stream output,
        TimeZoneInfo? zone = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var csv = new CicFlowCsvWriter(output, zone, ownsStream: false);
        return WriteCsv(captures, options, csv, zone, cancellationToken);
    }

    private static List<CaptureFileReport> WriteCsv(
        IReadOnlyList<string> captures,
        FlowMeterOptions options,
        CicFlowCsvWriter csv,
        TimeZoneInfo? zone,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(captures);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var reports = new List<CaptureFileReport>(captures.Count);
        foreach (string path in captures)
        {
            long before = csv.Rows;
            using var held = options.Order == FlowOrder.CicFlowMeter ? new HeldRows(zone) : null;
            var weird = new WeirdCounters();
            using var reader = CaptureReader.Open(path, weird);
            PacketFlowMeter meter;

            // Three stages on three threads: reading and decoding (ProcessAllPipelined's reader thread); the flow table
            // and the features on this one; formatting and writing the rows (PipelinedRows). The rows keep the meter's order.
            using (var rows = new PipelinedRows(csv, held?.Writer))
            {
                meter = new PacketFlowMeter(options, rows, weird);
                meter.ProcessAllPipelined(reader, cancellationToken);
                meter.Flush();
                rows.Complete();
            }

            held?.AppendTo(csv);
            reports.Add(new CaptureFileReport(
                path,
                reader.Format,
                meter.Weird.Records,
                meter.Weird.Decoded,
                csv.Rows - before + (held?.Writer.Rows ?? 0),
                meter.Weird.Summary(),
                meter.Flows.SuppressedSinglePacket,
                meter.Flows.Evicted));
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
    /// V4's GUI order (<see cref="FlowOrder.CicFlowMeter"/>): the rows of flows ended before the end of the capture are
    /// held in a temporary file (deleted on close, so memory stays flat on captures with millions of flows) and appended
    /// after the flows that were still open, which the meter reports last, at its flush.
    /// </summary>
    private sealed class HeldRows : IDisposable
    {
        private readonly FileStream _spill;

        public HeldRows(TimeZoneInfo? zone)
        {
            _spill = new FileStream(
                System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"stakeout-flows-{Guid.NewGuid():N}.csv"),
                FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            Writer = new CicFlowCsvWriter(null, _spill, zone, "NeedManualLabel", ownsWriter: false, writeHeader: false);
        }

        /// <summary>Where the rows of ended flows go until <see cref="AppendTo"/>.</summary>
        public CicFlowCsvWriter Writer { get; }

        public void AppendTo(CicFlowCsvWriter csv)
        {
            Writer.Drain();
            _spill.Position = 0;
            csv.AppendRows(_spill);
        }

        public void Dispose() => _spill.Dispose();
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
