using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>
/// The detection pipeline: sources → parse → micro-batch → score → threshold/policy → alert sinks, each stage a task
/// joined to the next by a bounded channel. Back-pressure is applied at the ingress only (block, or drop the oldest
/// with every dropped flow counted), so work already parsed is never thrown away. Once <see cref="RunAsync"/> returns,
/// every flow that came in is scored, rejected or dropped: <c>Counters.Snapshot().Balanced</c>.
/// </summary>
public sealed class DetectionPipeline
{
    private readonly ModelHolder _model;
    private readonly DetectionOptions _options;
    private readonly IReadOnlyList<IAlertSink> _sinks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _closeAggregatesOnClock;
    private readonly List<SinkRunner> _runners;
    private Channel<IngestItem>? _ingress;
    private Channel<FlowChunk>? _parsed;
    private Channel<ScoringBatch>? _batches;
    private Channel<ScoringBatch>? _scored;
    private FlowSourceContext? _context;
    private int _started;
    private volatile bool _abandonQueued;
    private bool[] _closed = [];
    private int _openAggregates;

    /// <summary>
    /// Creates a pipeline scoring with <paramref name="model"/> and writing alerts to <paramref name="sinks"/> (disposed
    /// when the run ends). <paramref name="closeAggregatesOnClock"/> lets aggregation windows close on the pipeline's
    /// clock as well as on flow time (on for a live monitor; off for batch detection, whose output then depends only on
    /// the data).
    /// </summary>
    public DetectionPipeline(ModelHolder model, DetectionOptions options, IReadOnlyList<IAlertSink> sinks, TimeProvider? time = null, ILogger? logger = null, bool closeAggregatesOnClock = true)
    {
        _model = Guard.NotNull(model);
        _options = Guard.NotNull(options).Validate();
        _sinks = Guard.NotNull(sinks);
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _closeAggregatesOnClock = closeAggregatesOnClock;
        _runners = [.. sinks.Select(s => new SinkRunner(s, _options, _time, _logger))];
        Drift = new DriftMonitor(_options.Drift, _logger);
    }

    /// <summary>The drift checks against the model's training profile.</summary>
    public DriftMonitor Drift { get; }
    /// <summary>How the run ended once told to stop: within the shutdown bound or not, and what was not flushed.</summary>
    public ShutdownReport Shutdown { get; private set; } = ShutdownReport.NotStopped;

    /// <summary>The accounting.</summary>
    public DetectionCounters Counters { get; } = new();

    /// <summary>Time to score one batch.</summary>
    public LatencyHistogram BatchLatency { get; } = new();

    /// <summary>Time from a flow's bytes being received to its alert being handed to the sinks (alerts emitted at once, not folded ones).</summary>
    public LatencyHistogram AlertLatency { get; } = new();

    /// <summary>Top sources and targets of alerting flows.</summary>
    public AlertStatistics Statistics { get; } = new();

    /// <summary>The attack scores of every scored flow, binned (for the detection report and the dashboard).</summary>
    public AttackScoreHistogram Scores { get; } = new();

    /// <summary>Each sink's health.</summary>
    public IReadOnlyList<SinkStatus> SinkStatuses => [.. _runners.Select(r => r.Status)];

    /// <summary>The model in force.</summary>
    public ModelHolder Model => _model;

    /// <summary>The options in force.</summary>
    public DetectionOptions Options => _options;

    /// <summary>Items waiting in each queue, by stage name.</summary>
    public IReadOnlyDictionary<string, int> QueueDepths => new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["ingress"] = _ingress?.Reader.Count ?? 0,
        ["parsed"] = _parsed?.Reader.Count ?? 0,
        ["batches"] = _batches?.Reader.Count ?? 0,
        ["scored"] = _scored?.Reader.Count ?? 0,
        ["sinks"] = _runners.Sum(r => r.Queued),
    };

    /// <summary>Aggregation groups open now.</summary>
    public int OpenAggregates => Volatile.Read(ref _openAggregates);

    /// <summary>True while <see cref="RunAsync"/> runs.</summary>
    public bool Running => Volatile.Read(ref _started) == 1 && _context is not null;

    /// <summary>
    /// Swaps in <paramref name="candidate"/> if every open stream provides the features it reads; otherwise keeps the
    /// current model and says why. Batches being scored finish with the model they started with; no flow is dropped.
    /// </summary>
    public bool TryReload(ModelHandle candidate, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        foreach (var stream in _context?.ActiveStreams ?? [])
        {
            var parser = stream.Parser;
            if (parser is null)
            {
                continue;
            }

            var missing = candidate.MissingFrom(parser.Lines.HasFeature);
            if (missing.Count > 0)
            {
                problem = $"open stream '{stream.Name}' lacks feature(s) the new model reads: {string.Join(", ", missing.Select(m => $"'{m}'"))}.";
                Counters.AddReload(false);
                return false;
            }
        }

        _model.Swap(candidate);
        Counters.AddReload(true);
        problem = null;
        return true;
    }

    /// <summary>
    /// Runs <paramref name="sources"/> until they end, <paramref name="end"/> or <paramref name="stop"/> is signalled or
    /// the flow limit is reached, then drains: every flow already in is parsed, scored and alerted, aggregation groups are
    /// closed, and sinks get up to <see cref="DetectionOptions.DrainTimeout"/> to write what they hold.
    /// <para>A natural end (<paramref name="end"/>, e.g. <c>--duration</c>; the flow limit; a failed source) drains
    /// fully: sources get <see cref="DetectionOptions.ShutdownTimeout"/> to return (a read that cannot be cancelled is
    /// abandoned after it, losing only input never read), and every flow already in is then scored and written however
    /// long that takes. A <paramref name="stop"/> (Ctrl-C, SIGTERM), also one that comes during such a drain, bounds the
    /// whole shutdown: it returns within <see cref="DetectionOptions.ShutdownTimeout"/> of the signal whatever a source
    /// or sink does, and <see cref="Shutdown"/> says what was not flushed.</para>
    /// A source that fails (e.g. a stream whose features do not fit the model) stops the others; its exception is
    /// rethrown after the drain.
    /// </summary>
    public async Task RunAsync(IReadOnlyList<IFlowSource> sources, CancellationToken stop = default, CancellationToken end = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new InvalidOperationException("A pipeline runs once; create a new one to run again.");
        }

        using var stopSources = CancellationTokenSource.CreateLinkedTokenSource(stop, end);
        int capacity = _options.QueueCapacity;
        _ingress = Channel.CreateBounded<IngestItem>(
            new BoundedChannelOptions(capacity)
            {
                FullMode = _options.Backpressure == BackpressurePolicy.DropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
                SingleReader = true,
            },
            item =>
            {
                Counters.AddDropped(DropReasons.Backpressure, item.FlowCount);
                item.Release();
            });
        _parsed = Channel.CreateBounded<FlowChunk>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        _batches = Channel.CreateBounded<ScoringBatch>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        _scored = Channel.CreateBounded<ScoringBatch>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        _closed = new bool[_sinks.Count];
        _context = new FlowSourceContext(_ingress.Writer, _options, _model, Counters, stopSources, _time, _logger);

        // Any stop (a signal, --duration, --max-flows, a failed source) gives the sources the shutdown bound to return;
        // only a signal bounds the rest of the drain (queued flows, stages, sinks), from the moment it comes.
        var stopped = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var signalled = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        void NoteStop() => stopped.TrySetResult(_time.GetTimestamp());
        using var onStop = stopSources.Token.Register(NoteStop);

        // Cancelling a token runs its callbacks last-registered first, and a source's ending (then the whole drain) can
        // run inline inside the linked source's callback, before a callback registered earlier gets its turn. So the
        // stop is also noted on the outer tokens, registered after the linked source (they run before it), and once more
        // before the report (for a stop the run makes itself: the flow limit, a failed source).
        using var onStopSignal = stop.Register(NoteStop);
        using var onEnd = end.Register(NoteStop);
        using var endBounds = new CancellationTokenSource();
        using var abortSinks = new CancellationTokenSource();
        using var onSignal = stop.Register(() =>
        {
            signalled.TrySetResult(_time.GetTimestamp());
            // Sinks retrying a failing write stop at the bound even if the drain had already begun.
            CancelQuietly(abortSinks, _options.ShutdownTimeout);
        });
        var sourceBound = Task.WhenAny(
            AfterStopAsync(stopped.Task, _options.ShutdownTimeout, endBounds.Token),
            AfterStopAsync(signalled.Task, _options.ShutdownTimeout / 2, endBounds.Token));
        var queueBound = AfterStopAsync(signalled.Task, _options.ShutdownTimeout * 3 / 4, endBounds.Token);
        var finalBound = AfterStopAsync(signalled.Task, _options.ShutdownTimeout, endBounds.Token);
        var sinkTasks = _runners.Select(r => Task.Run(() => r.RunAsync(abortSinks.Token), CancellationToken.None)).ToList();
        var stages = new List<Task>
        {
            Task.Run(ParseStageAsync, CancellationToken.None),
            Task.Run(BatchStageAsync, CancellationToken.None),
            Task.Run(ScoreStageAsync, CancellationToken.None),
            Task.Run(PolicyStageAsync, CancellationToken.None),
        };

        _ = queueBound.ContinueWith(t => _abandonQueued = t.IsCompletedSuccessfully, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        var sourceErrors = new List<Exception>();
        var sourceTasks = sources.Select(s => _context.RunSourceAsync(s, sourceErrors)).ToList();
        var abandonedSources = new List<string>();
        var sourcesDone = Task.WhenAll(sourceTasks);
        if (await Task.WhenAny(sourcesDone, sourceBound).ConfigureAwait(false) != sourcesDone)
        {
            // A source that does not return once told to stop (a read of stdin that cannot be cancelled, a flow meter
            // flushing a huge table) must not hold the shutdown: what it already handed over is drained; the rest of
            // its input is never read. Anything it hands over from now on is counted as dropped (shutdown_timeout).
            for (int i = 0; i < sources.Count; i++)
            {
                if (!sourceTasks[i].IsCompleted)
                {
                    abandonedSources.Add(sources[i].Name);
                    Log.SourceAbandoned(_logger, sources[i].Name, signalled.Task.IsCompleted ? _options.ShutdownTimeout.TotalSeconds / 2 : _options.ShutdownTimeout.TotalSeconds);
                }
            }
        }

        _ingress.Writer.TryComplete();

        Exception? stageError = null;
        var stagesDone = Task.WhenAll(stages);
        try
        {
            await Task.WhenAny(stagesDone, finalBound).ConfigureAwait(false);
            if (stagesDone.IsCompleted)
            {
                await stagesDone.ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            stageError = ex;
        }

        foreach (var runner in _runners)
        {
            runner.Complete();
        }

        // Sinks retry a failing write for DrainTimeout at most, and never past the shutdown bound.
        var drain = _options.DrainTimeout;
        if (signalled.Task.IsCompleted)
        {
            var left = _options.ShutdownTimeout - _time.GetElapsedTime(signalled.Task.Result);
            drain = left < drain ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : drain;
        }

        abortSinks.CancelAfter(drain);
        var sinksDone = Task.WhenAll(sinkTasks);
        await Task.WhenAny(sinksDone, finalBound).ConfigureAwait(false);
        var closing = CloseSinksAsync();
        var unclosed = new List<string>();
        if (await Task.WhenAny(closing, finalBound).ConfigureAwait(false) != closing)
        {
            unclosed.AddRange(_sinks.Where((_, i) => !_closed[i]).Select(x => x.Name));
        }

        await endBounds.CancelAsync().ConfigureAwait(false);
        long notProcessed = Counters.Snapshot().DroppedByReason.GetValueOrDefault(DropReasons.ShutdownTimeout);
        if (stopSources.IsCancellationRequested)
        {
            NoteStop();
        }

        Shutdown = stopped.Task.IsCompleted
            ? new ShutdownReport(
                Stopped: true,
                Seconds: Math.Round(_time.GetElapsedTime(stopped.Task.Result).TotalSeconds, 3),
                BoundSeconds: _options.ShutdownTimeout.TotalSeconds,
                Signal: signalled.Task.IsCompleted,
                Complete: abandonedSources.Count == 0 && stagesDone.IsCompleted && sinksDone.IsCompleted && unclosed.Count == 0 && notProcessed == 0
                    && _runners.All(r => r.Status.Lost == 0),
                AbandonedSources: abandonedSources,
                FlowsNotProcessed: notProcessed + (stagesDone.IsCompleted ? 0 : QueuedFlows()),
                AlertsNotWritten: _runners.Sum(r => r.Status.Lost + r.Queued),
                SinksNotClosed: unclosed)
            : ShutdownReport.NotStopped;
        if (!Shutdown.Complete)
        {
            Log.ShutdownIncomplete(_logger, Shutdown.BoundSeconds, Shutdown.FlowsNotProcessed, Shutdown.AlertsNotWritten, string.Join(", ", [.. abandonedSources, .. unclosed.Select(u => "sink " + u)]));
        }

        if (stageError is not null)
        {
            throw new InvalidOperationException($"the detection pipeline failed: {stageError.Message}", stageError);
        }

        if (sourceErrors.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(sourceErrors[0]);
        }

        if (sourceErrors.Count > 1)
        {
            throw new AggregateException("several sources failed.", sourceErrors);
        }
    }

    private async Task CloseSinksAsync()
    {
        for (int i = 0; i < _sinks.Count; i++)
        {
            await _sinks[i].DisposeAsync().ConfigureAwait(false);
            _closed[i] = true;
        }
    }

    private static void CancelQuietly(CancellationTokenSource source, TimeSpan after)
    {
        try
        {
            source.CancelAfter(after);
        }
        catch (ObjectDisposedException)
        {
            // The run is over; the sinks are done.
        }
    }

    /// <summary>Completes <paramref name="after"/> past the stop signal; is cancelled (never completes) if no stop comes before the run ends.</summary>
    private async Task AfterStopAsync(Task<long> stopped, TimeSpan after, CancellationToken end)
    {
        long at = await stopped.WaitAsync(end).ConfigureAwait(false);
        var left = after - _time.GetElapsedTime(at);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, _time, end).ConfigureAwait(false);
        }
    }

    /// <summary>Flows counted in but not yet scored, rejected or dropped (in flight between stages).</summary>
    private long QueuedFlows()
    {
        var s = Counters.Snapshot();
        return Math.Max(0, s.FlowsIn - s.FlowsScored - s.FlowsRejected - s.FlowsDropped);
    }

    private async Task ParseStageAsync()
    {
        var output = _parsed!.Writer;
        try
        {
            await foreach (var item in _ingress!.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (_abandonQueued)
                {
                    // Past three quarters of the shutdown bound: what is still queued is counted, not scored, so
                    // that the sinks keep the rest of the bound to write what was scored.
                    Counters.AddDropped(DropReasons.ShutdownTimeout, item.FlowCount);
                    item.Release();
                    continue;
                }

                switch (item)
                {
                    case TextChunk text:
                        var batch = new FlowBatch(Math.Max(1, text.FlowCount), withIdentity: true);
                        try
                        {
                            text.Parser.Parse(text, batch, Counters);
                        }
                        finally
                        {
                            text.Release();
                        }

                        if (batch.Count > 0)
                        {
                            await output.WriteAsync(new FlowChunk(batch, text.Parser.Stream, text.Received)).ConfigureAwait(false);
                        }

                        break;
                    case FlowChunk flows:
                        await output.WriteAsync(flows).ConfigureAwait(false);
                        break;
                    default:
                        throw new InvalidOperationException($"unknown ingress item {item.GetType().Name}.");
                }
            }

            output.TryComplete();
        }
        catch (Exception ex)
        {
            Fail(ex, _ingress!.Writer, output);
            throw;
        }
    }

    private async Task BatchStageAsync()
    {
        var input = new TimedReader<FlowChunk>(_parsed!.Reader, _time);
        var output = _batches!.Writer;
        ScoringBatch? current = null;
        long deadline = 0;
        try
        {
            while (true)
            {
                TimeSpan? wait = current is null ? null : _time.GetElapsedTime(_time.GetTimestamp(), deadline);
                if (wait is { } w && w <= TimeSpan.Zero)
                {
                    await output.WriteAsync(current!).ConfigureAwait(false);
                    current = null;
                    continue;
                }

                var state = await input.WaitAsync(wait).ConfigureAwait(false);
                if (state == WaitResult.Completed)
                {
                    break;
                }

                if (state == WaitResult.Timeout)
                {
                    await output.WriteAsync(current!).ConfigureAwait(false);
                    current = null;
                    continue;
                }

                while (input.Reader.TryRead(out var chunk))
                {
                    var flows = chunk.Flows;
                    for (int r = 0; r < flows.Count; r++)
                    {
                        if (current is null)
                        {
                            current = new ScoringBatch(_options.BatchSize);
                            deadline = _time.GetTimestamp() + (long)(_options.MaxBatchWait.TotalSeconds * _time.TimestampFrequency);
                        }

                        current.Add(flows, r, chunk.Stream, chunk.Received);
                        if (current.Count == current.Capacity)
                        {
                            await output.WriteAsync(current).ConfigureAwait(false);
                            current = null;
                        }
                    }
                }
            }

            if (current is not null)
            {
                await output.WriteAsync(current).ConfigureAwait(false);
            }

            output.TryComplete();
        }
        catch (Exception ex)
        {
            Fail(ex, _parsed!.Writer, output);
            throw;
        }
    }

    private async Task ScoreStageAsync()
    {
        var output = _scored!.Writer;
        try
        {
            await foreach (var batch in _batches!.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                var model = _model.Current;
                long start = _time.GetTimestamp();
                try
                {
                    batch.Score(model);
                }
#pragma warning disable CA1031 // One batch the scorer cannot score must not stop a monitor that runs for weeks; it is counted and logged.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.ScoringFailed(_logger, ex, batch.Count);
                    Counters.AddDropped("scoring_error", batch.Count);
                    continue;
                }

                BatchLatency.Record(_time.GetElapsedTime(start));
                Counters.AddScored(batch.Count);
                Counters.AddBatch();
                await output.WriteAsync(batch).ConfigureAwait(false);
            }

            output.TryComplete();
        }
        catch (Exception ex)
        {
            Fail(ex, _batches!.Writer, output);
            throw;
        }
    }

    private async Task PolicyStageAsync()
    {
        var policy = new AlertPolicy(_options);
        var aggregator = new AlertAggregator(_options.AggregationWindow, _options.MaxAggregationGroups, _closeAggregatesOnClock, _time);
        var input = new TimedReader<ScoringBatch>(_scored!.Reader, _time);
        var contributions = new double[FeatureSchema.Count + 1];
        void Emit(AlertCandidate candidate, long count, DateTime first, DateTime last, bool immediate)
        {
            var alert = policy.ToAlert(candidate, count, first, last, _time.GetUtcNow(), contributions);
            if (immediate)
            {
                // Folded alerts wait for their window by design; latency is measured on alerts for the flow just seen.
                AlertLatency.Record(_time.GetElapsedTime(candidate.Received));
            }

            Counters.AddEmitted(1);
            foreach (var runner in _runners)
            {
                runner.Enqueue(alert);
            }
        }

        try
        {
            TimeSpan? tick = _closeAggregatesOnClock && _options.AggregationWindow > TimeSpan.Zero
                ? TimeSpan.FromMilliseconds(Math.Clamp(_options.AggregationWindow.TotalMilliseconds / 4, 10, 1000))
                : null;
            while (true)
            {
                var state = await input.WaitAsync(tick).ConfigureAwait(false);
                if (state == WaitResult.Completed)
                {
                    break;
                }

                if (state == WaitResult.Data)
                {
                    while (input.Reader.TryRead(out var batch))
                    {
                        Scores.Record(batch.Probabilities, batch.Model!.Scorer.Classes.Count, batch.Model.Scorer.BenignClassIndex, batch.Count);
                        policy.Evaluate(batch, _time, Counters, Statistics, aggregator, Emit);
                        Drift.Observe(batch);
                    }
                }

                aggregator.CloseExpired(_time.GetTimestamp(), Emit);
                Volatile.Write(ref _openAggregates, aggregator.OpenGroups);
            }

            aggregator.Flush(Emit);
            Volatile.Write(ref _openAggregates, 0);
            Drift.Flush();
        }
        catch (Exception ex)
        {
            Fail<ScoringBatch, object>(ex, _scored!.Writer, null);
            throw;
        }
    }

    private void Fail<TIn, TOut>(Exception ex, ChannelWriter<TIn> input, ChannelWriter<TOut>? output)
    {
        Log.StageFailed(_logger, ex, ex.Message);
        input.TryComplete(ex);
        output?.TryComplete(ex);
        _context?.RequestStop();
    }
}

internal enum WaitResult
{
    Data,
    Timeout,
    Completed,
}

/// <summary>Waits for a channel's data with an optional timeout on the pipeline's clock, without exceptions or lost waits.</summary>
internal sealed class TimedReader<T>(ChannelReader<T> reader, TimeProvider time)
{
    private Task<bool>? _pending;

    public ChannelReader<T> Reader { get; } = reader;

    public async ValueTask<WaitResult> WaitAsync(TimeSpan? timeout)
    {
        if (Reader.TryPeek(out _))
        {
            return WaitResult.Data;
        }

        _pending ??= Reader.WaitToReadAsync().AsTask();
        if (timeout is null || _pending.IsCompleted)
        {
            bool more = await _pending.ConfigureAwait(false);
            _pending = null;
            return more ? WaitResult.Data : WaitResult.Completed;
        }

        using var cancelDelay = new CancellationTokenSource();
        var delay = Task.Delay(timeout.Value, time, cancelDelay.Token);
        var first = await Task.WhenAny(_pending, delay).ConfigureAwait(false);
        if (first != _pending)
        {
            return WaitResult.Timeout;
        }

        await cancelDelay.CancelAsync().ConfigureAwait(false);
        bool hasMore = await _pending.ConfigureAwait(false);
        _pending = null;
        return hasMore ? WaitResult.Data : WaitResult.Completed;
    }
}
