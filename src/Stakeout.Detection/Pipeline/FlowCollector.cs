using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>
/// The pipeline's front half without a model: runs the same sources (files, <c>file:</c>, <c>stdin</c>, <c>tcp://</c>,
/// <c>pcap:</c>, <c>iface:</c>) through the same bounded ingress and parser, and hands each parsed batch of flows to a
/// callback instead of a scorer. A cluster sensor publishes them; the workers score them. Back-pressure is the
/// callback's: while it has not returned, the ingress fills and the sources wait. Accounting once
/// <see cref="RunAsync"/> returns: flows in = handed over + rejected + dropped.
/// </summary>
public sealed class FlowCollector
{
    private readonly DetectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _handedOver;
    private int _started;

    /// <summary>Creates a collector; only the batching, queue, reader and flow-limit options apply.</summary>
    public FlowCollector(DetectionOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        _options = Guard.NotNull(options).Validate();
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Flows in, rejected (by reason) and dropped (by reason); "scored" stays 0 here.</summary>
    public DetectionCounters Counters { get; } = new();

    /// <summary>Flows handed to the callback so far.</summary>
    public long HandedOver => Volatile.Read(ref _handedOver);

    /// <summary>
    /// Runs <paramref name="sources"/> until they end, <paramref name="stop"/> is signalled or the flow limit is reached;
    /// every parsed batch goes to <paramref name="onFlows"/> (one call at a time, in arrival order) with its stream's
    /// name. A source or callback failure stops the others and is rethrown once the flows already in are handed over
    /// (callback failure: the rest are counted dropped as <c>shutdown</c>).
    /// </summary>
    public async Task RunAsync(IReadOnlyList<IFlowSource> sources, Func<FlowBatch, string, CancellationToken, ValueTask> onFlows, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(onFlows);
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new InvalidOperationException("A collector runs once; create a new one to run again.");
        }

        using var stopSources = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var ingress = Channel.CreateBounded<IngestItem>(new BoundedChannelOptions(_options.QueueCapacity) { SingleReader = true });
        var context = new FlowSourceContext(ingress.Writer, _options, model: null, Counters, stopSources, _time, _logger);
        var errors = new List<Exception>();
        var consume = Task.Run(() => ConsumeAsync(ingress.Reader, onFlows, context, errors, stop), CancellationToken.None);
        var runs = sources.Select(s => context.RunSourceAsync(s, errors)).ToList();
        await Task.WhenAll(runs).ConfigureAwait(false);
        ingress.Writer.TryComplete();
        await consume.ConfigureAwait(false);
        if (errors.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(errors[0]);
        }

        if (errors.Count > 1)
        {
            throw new AggregateException("several sources failed.", errors);
        }
    }

    private async Task ConsumeAsync(ChannelReader<IngestItem> reader, Func<FlowBatch, string, CancellationToken, ValueTask> onFlows, FlowSourceContext context, List<Exception> errors, CancellationToken stop)
    {
        bool failed = false;
        await foreach (var item in reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            FlowBatch batch;
            string stream;
            switch (item)
            {
                case TextChunk text:
                    batch = new FlowBatch(Math.Max(1, text.FlowCount), withIdentity: true);
                    try
                    {
                        text.Parser.Parse(text, batch, Counters);
                    }
                    finally
                    {
                        text.Release();
                    }

                    stream = text.Parser.Stream;
                    break;
                case FlowChunk flows:
                    batch = flows.Flows;
                    stream = flows.Stream;
                    break;
                default:
                    throw new InvalidOperationException($"unknown ingress item {item.GetType().Name}.");
            }

            if (failed || batch.Count == 0)
            {
                Counters.AddDropped("shutdown", batch.Count);
                continue;
            }

            try
            {
                await onFlows(batch, stream, stop).ConfigureAwait(false);
                Interlocked.Add(ref _handedOver, batch.Count);
            }
            catch (Exception ex)
            {
                // The callback could not take these flows (publish failed for good, or the run was cancelled): they and
                // everything still queued are counted dropped, and the sources are stopped.
                Counters.AddDropped("shutdown", batch.Count);
                failed = true;
                if (ex is not OperationCanceledException || !stop.IsCancellationRequested)
                {
                    lock (errors)
                    {
                        errors.Add(ex);
                    }
                }

                context.RequestStop();
            }
        }
    }
}
