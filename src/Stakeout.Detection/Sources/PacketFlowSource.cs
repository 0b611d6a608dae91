using Stakeout.FlowMeter.Flows;
using Stakeout.FlowMeter.Streaming;

namespace Stakeout.Detection;

/// <summary>What a packet source metered, complete once it has run.</summary>
/// <param name="Source">The source as named (<c>pcap:FILE</c> or <c>iface:NAME</c>).</param>
/// <param name="Packets">Capture records read.</param>
/// <param name="Decoded">Packets decoded into flow input.</param>
/// <param name="FlowsMetered">Flows the meter reported (ended, timed out, evicted or flushed; interval reports excluded).</param>
/// <param name="IntervalReports">Interim reports of flows still open (<see cref="FlowMeterOptions.EmitInterval"/>).</param>
/// <param name="FlowsHandedOver">Reports (flows and interim reports) the pipeline took: its flows in from this source.</param>
/// <param name="SuppressedSinglePacket">One-packet flows left out (CICFlowMeter mode).</param>
/// <param name="Evicted">Flows ended early because the flow table was full.</param>
/// <param name="DroppedByCapture">Live only: packets the kernel or libpcap dropped.</param>
/// <param name="Weird">Packets not turned into flow input, by Zeek-style reason, most frequent first.</param>
public sealed record PacketSourceReport(
    string Source,
    long Packets,
    long Decoded,
    long FlowsMetered,
    long IntervalReports,
    long FlowsHandedOver,
    long SuppressedSinglePacket,
    long Evicted,
    long DroppedByCapture,
    IReadOnlyList<KeyValuePair<string, long>> Weird);

/// <summary>
/// Packets to detection: runs the flow meter (<see cref="FlowFeed"/>) over a capture file (<c>pcap:FILE</c>, pcap or
/// pcapng) or a live interface (<c>iface:NAME</c>) and hands each batch of ended flows to the pipeline already parsed,
/// with its identity (addresses, ports, protocol, start) and CICFlowMeter Flow ID, so alerts name the real endpoints.
/// A flow is scored when it ends or times out; with <see cref="FlowMeterOptions.EmitInterval"/> set, long flows are
/// also scored at that interval (each interim report counts as a flow in). A file ends with its last flows; a live
/// interface runs until the pipeline stops, and the flows still open then are flushed and scored too (unless the
/// <c>--max-flows</c> limit stopped it).
/// </summary>
public sealed class PacketFlowSource : IFlowSource
{
    private readonly FlowSource _source;
    private readonly FlowFeedOptions _options;

    /// <summary>Creates the source; a capture file must exist (checked here, so a typo fails before the pipeline starts).</summary>
    public PacketFlowSource(FlowSource source, FlowFeedOptions? options = null)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _options = options ?? new FlowFeedOptions();
        _options.Validate();
        if (!source.IsLive && !File.Exists(source.Target))
        {
            throw new ArgumentException($"{source}: no such capture file.", nameof(source));
        }
    }

    /// <inheritdoc />
    public string Name => _source.ToString();

    /// <summary>What was metered, set when <see cref="RunAsync"/> returns (also when it stopped early or failed).</summary>
    public PacketSourceReport? Report { get; private set; }

    /// <inheritdoc />
    public async Task RunAsync(FlowSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var feed = new FlowFeed(_source, _options, context.Time);
        long handedOver = 0;
        bool taking = true;
        // The feed has its own token: cancelling it stops the capture thread, which is then drained below so that its
        // counters are final before they are read.
        using var stopFeed = CancellationTokenSource.CreateLinkedTokenSource(context.Stopping);
        try
        {
            await foreach (var batch in feed.ReadAsync(stopFeed.Token).ConfigureAwait(false))
            {
                if (taking && !_source.IsLive && context.Stopping.IsCancellationRequested)
                {
                    // A capture file stopped early: flows metered after the stop are not taken and so not counted in (as
                    // for every file source). A live capture, once stopped, hands over the flows still open at the stop
                    // (flushed by the feed), so a monitor stopped on an interface scores every flow it saw.
                    taking = false;
                    await stopFeed.CancelAsync().ConfigureAwait(false);
                }

                if (!taking)
                {
                    continue;
                }

                int offered = batch.Count;
                // No cancellation token: flows counted in must reach the queue, or the accounting would not balance.
                taking = await context.WriteFlowsAsync(batch, Name).ConfigureAwait(false);
                handedOver += Math.Min(offered, batch.Count);
                if (!taking)
                {
                    await stopFeed.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopFeed.IsCancellationRequested)
        {
            // The capture thread ended on our stop; what it metered is reported below.
        }
        catch (Exception ex) when (_source.IsLive && ex is not (OperationCanceledException or IOException or InvalidOperationException))
        {
            // libpcap's own errors (no permission to capture, interface down) name neither the source nor the remedy.
            throw new IOException($"{Name}: live capture failed: {ex.Message} (capturing needs root or CAP_NET_RAW).", ex);
        }
        finally
        {
            Report = BuildReport(feed, handedOver);
            if (Report is { } report)
            {
                Log.PacketSourceDone(
                    context.Logger,
                    Name,
                    report.Packets,
                    report.FlowsMetered,
                    report.FlowsHandedOver,
                    report.Weird.Count == 0 ? "none" : string.Join(", ", report.Weird.Select(w => $"{w.Key} {w.Value}")));
            }
        }
    }

    private PacketSourceReport? BuildReport(FlowFeed feed, long handedOver)
    {
        var meter = feed.Meter;
        if (meter is null)
        {
            return null;
        }

        return new PacketSourceReport(
            Name,
            meter.Weird.Records,
            meter.Weird.Decoded,
            meter.Flows.TotalReported,
            meter.Flows.Reported(FlowEndReason.Interval),
            handedOver,
            meter.Flows.SuppressedSinglePacket,
            meter.Flows.Evicted,
            feed.DroppedByCapture,
            meter.Weird.Summary());
    }
}
