using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Stakeout.FlowMeter.Capture;
using Stakeout.FlowMeter.Decoding;
using Stakeout.FlowMeter.Flows;

namespace Stakeout.FlowMeter;

/// <summary>
/// Packets in, flows out: decodes each captured frame through the layer chain and feeds the flow table. Ended flows go
/// to the <see cref="IFlowSink"/> given at construction; <see cref="Flush"/> ends the rest. One instance per capture
/// stream, used from one thread.
/// </summary>
public sealed class PacketFlowMeter
{
    private readonly PacketDecoder _decoder;
    private readonly FlowTable _table;

    /// <summary>Creates a meter; <paramref name="options"/> are validated here.</summary>
    public PacketFlowMeter(FlowMeterOptions options, IFlowSink sink)
        : this(options, sink, new WeirdCounters())
    {
    }

    /// <summary>Creates a meter that counts into <paramref name="weird"/> (shared with the capture reader that feeds it).</summary>
    internal PacketFlowMeter(FlowMeterOptions options, IFlowSink sink, WeirdCounters weird)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        Weird = weird ?? throw new ArgumentNullException(nameof(weird));
        options.Validate();
        Options = options;
        _decoder = new PacketDecoder(Weird, options.MetersIPv6, misreadLikeV4: options.Mode == FlowMeterMode.CicFlowMeter);
        _table = new FlowTable(options, sink, Weird);
    }

    /// <summary>The options in force.</summary>
    public FlowMeterOptions Options { get; }

    /// <summary>Packets that could not be used, by reason, and the packet totals.</summary>
    public WeirdCounters Weird { get; }

    /// <summary>Flow table counts: started, reported by reason, evicted.</summary>
    public FlowTableStats Flows => _table.Stats;

    /// <summary>Flows open now.</summary>
    public int OpenFlows => _table.Count;

    /// <summary>Meters one captured frame of link type <paramref name="linkType"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Process(int linkType, long timestampMicros, ReadOnlySpan<byte> frame)
    {
        if (_decoder.TryDecode(linkType, timestampMicros, frame, out DecodedPacket packet))
        {
            _table.Add(ref packet);
        }
    }

    /// <summary>Meters one record from a <see cref="CaptureReader"/>.</summary>
    public void Process(in CaptureRecord record) => Process(record.LinkType, record.TimestampMicros, record.Data);

    /// <summary>Reads a whole capture through the meter (records are counted in <see cref="Weird"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ProcessAll(CaptureReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int n = 0;
        while (reader.TryRead(out CaptureRecord record))
        {
            Process(record);
            if ((++n & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>
    /// Reads a whole capture through the meter on two threads: a reader thread reads and decodes the frames into batches
    /// of <see cref="DecodedPacket"/>s (a small fixed pool, so a slow flow table holds the reader back instead of filling
    /// memory), and the calling thread runs the flow table on them in capture order, so the flows and their order are
    /// those of <see cref="ProcessAll"/>. An error on either side stops both and is thrown here. For whole files; a live
    /// feed keeps <see cref="Process(int, long, ReadOnlySpan{byte})"/>.
    /// </summary>
    public void ProcessAllPipelined(CaptureReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        const int batchSize = 2048, batches = 6;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var full = new BlockingCollection<PacketBatch>(batches);
        using var empty = new BlockingCollection<PacketBatch>(batches);
        for (int i = 0; i < batches; i++)
        {
            empty.Add(new PacketBatch(batchSize), CancellationToken.None);
        }

        ExceptionDispatchInfo? readerFailure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var batch = empty.Take(stop.Token);
                while (reader.TryRead(out CaptureRecord record))
                {
                    if (_decoder.TryDecode(record.LinkType, record.TimestampMicros, record.Data, out batch.Packets[batch.Count]))
                    {
                        if (++batch.Count == batchSize)
                        {
                            full.Add(batch, stop.Token);
                            batch = empty.Take(stop.Token);
                        }
                    }
                }

                full.Add(batch, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The meter side failed or the caller cancelled: that side reports it.
            }
            catch (Exception e)
            {
                readerFailure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                full.CompleteAdding();
            }
        })
        {
            Name = "stakeout-decode",
            IsBackground = true,
        };
        thread.Start();
        try
        {
            foreach (var batch in full.GetConsumingEnumerable(stop.Token))
            {
                var packets = batch.Packets;
                for (int i = 0; i < batch.Count; i++)
                {
                    _table.Add(ref packets[i]);
                }

                batch.Count = 0;
                empty.Add(batch, stop.Token);
            }
        }
        catch
        {
            stop.Cancel();
            throw;
        }
        finally
        {
            thread.Join();
        }

        readerFailure?.Throw();
        cancellationToken.ThrowIfCancellationRequested();
    }

    private sealed class PacketBatch(int size)
    {
        public DecodedPacket[] Packets { get; } = new DecodedPacket[size];

        public int Count { get; set; }
    }

    /// <summary>
    /// Moves the packet clock to <paramref name="nowMicros"/> without a packet, so flows past their timeout are reported
    /// on a quiet live link. Times earlier than the last packet are ignored.
    /// </summary>
    public void AdvanceClock(long nowMicros) => _table.AdvanceClock(nowMicros);

    /// <summary>Ends every open flow (the capture is over).</summary>
    public void Flush() => _table.Flush();
}
