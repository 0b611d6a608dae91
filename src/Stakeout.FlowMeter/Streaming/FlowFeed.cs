using System.Runtime.CompilerServices;
using System.Threading.Channels;
using SharpPcap;
using SharpPcap.LibPcap;
using Stakeout.Core;
using Stakeout.FlowMeter.Capture;
using Stakeout.FlowMeter.Output;

namespace Stakeout.FlowMeter.Streaming;

/// <summary>
/// Flows as they end, from a capture file or a live interface, as an <see cref="IAsyncEnumerable{T}"/> of
/// <see cref="FlowBatch"/> (features, identity, flow id; label ids -1). Packets are read and metered on a dedicated
/// thread; batches cross to the consumer through a bounded channel. A file ends with its last flows; a live source
/// runs until the token is cancelled, then stops capturing and hands over its open flows (flushed, as Zeek and
/// CICFlowMeter do at the end of a capture) before the stream ends. <see cref="Meter"/> holds the weird and flow counts.
/// </summary>
public sealed class FlowFeed
{
    private readonly FlowSource _source;
    private readonly FlowFeedOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates a stream; nothing is opened until it is enumerated.</summary>
    public FlowFeed(FlowSource source, FlowFeedOptions options, TimeProvider? timeProvider = null)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The meter behind the stream (weird counts, flow table counts), available once enumeration starts.</summary>
    public PacketFlowMeter? Meter { get; private set; }

    /// <summary>Live only: packets the kernel or libpcap dropped (from pcap statistics at the end).</summary>
    public long DroppedByCapture { get; private set; }

    /// <summary>Meters the source and yields batches of ended flows.</summary>
    public async IAsyncEnumerable<FlowBatch> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<FlowBatch>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        // Batches are written with their own token, not the stop token: a live capture that is stopped still hands over
        // the flows it flushes. Only a consumer that walks away (the enumerator disposed early) abandons them.
        using var abandoned = new CancellationTokenSource();
        // The capture runs on its own token: the caller's stop, or the consumer walking away (then nothing is flushed).
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var collector = new FlowBatchCollector(_options.BatchSize, batch => channel.Writer.WriteAsync(batch, abandoned.Token).AsTask().GetAwaiter().GetResult());
        var meter = new PacketFlowMeter(_options.Meter, collector);
        Meter = meter;
        var producer = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    if (_source.IsLive)
                    {
                        RunLive(meter, collector, run.Token);
                    }
                    else
                    {
                        using var reader = CaptureReader.Open(_source.Target, meter.Weird);
                        meter.ProcessAll(reader, run.Token);
                    }

                    if (!abandoned.IsCancellationRequested)
                    {
                        meter.Flush();
                        collector.Complete();
                    }

                    channel.Writer.TryComplete();
                }
                catch (OperationCanceledException) when (abandoned.IsCancellationRequested || (_source.IsLive && run.IsCancellationRequested))
                {
                    channel.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    channel.Writer.TryComplete(ex);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        try
        {
            await foreach (var batch in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return batch;
            }
        }
        finally
        {
            // Reached at the end and also when the consumer stops early: stop the capture (a quiet live link writes no
            // batch that would notice) and release a producer blocked on a full channel, then wait for it.
            await abandoned.CancelAsync().ConfigureAwait(false);
            await run.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
        }
    }

    private void RunLive(PacketFlowMeter meter, FlowBatchCollector collector, CancellationToken cancellationToken)
    {
        using var device = LibPcapLiveDeviceList.New()[_source.Target]
            ?? throw new InvalidOperationException($"No capture interface named '{_source.Target}' (see ip link).");
        device.Open(new DeviceConfiguration
        {
            Mode = DeviceModes.Promiscuous,
            ReadTimeout = 100,
            Snaplen = _options.SnapLength,
            Immediate = true,
        });
        try
        {
            if (!string.IsNullOrWhiteSpace(_options.CaptureFilter))
            {
                device.Filter = _options.CaptureFilter;
            }

            int linkType = (int)device.LinkType;
            long lastHandOver = _time.GetTimestamp();
            while (!cancellationToken.IsCancellationRequested)
            {
                var status = device.GetNextPacket(out PacketCapture capture);
                if (status == GetPacketStatus.PacketRead)
                {
                    var tv = capture.Header.Timeval;
                    meter.Weird.Records++;
                    meter.Process(linkType, ((long)tv.Seconds * 1_000_000) + (long)tv.MicroSeconds, capture.Data);
                }
                else if (status == GetPacketStatus.Error)
                {
                    throw new IOException($"Capture on '{_source.Target}' failed: {device.LastError}");
                }

                if (_time.GetElapsedTime(lastHandOver) >= _options.MaxBatchDelay)
                {
                    // Quiet links still need their flows timed out and handed over: advance the packet clock to now.
                    meter.AdvanceClock(_time.GetUtcNow().ToUnixTimeMilliseconds() * 1000);
                    collector.Complete();
                    lastHandOver = _time.GetTimestamp();
                }
            }

            DroppedByCapture = device.Statistics.DroppedPackets + device.Statistics.InterfaceDroppedPackets;
        }
        finally
        {
            device.Close();
        }
    }
}
