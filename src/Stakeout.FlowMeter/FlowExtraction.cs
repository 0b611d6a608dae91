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
            var meter = new PacketFlowMeter(options, csv);
            using (var reader = CaptureReader.Open(path, meter.Weird))
            {
                meter.ProcessAll(reader, cancellationToken);
                meter.Flush();
                reports.Add(new CaptureFileReport(
                    path,
                    reader.Format,
                    meter.Weird.Records,
                    meter.Weird.Decoded,
                    csv.Rows - before,
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
        return sink.Flows;
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
