using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>
/// What the pipeline gives a source: text streams to write bytes into, a way to hand over parsed flows, the stop
/// signal, the clock and the log. One per pipeline run, shared by all its sources; thread-safe.
/// </summary>
public sealed class FlowSourceContext
{
    private readonly ChannelWriter<IngestItem> _ingress;
    private readonly DetectionOptions _options;
    private readonly ModelHolder? _model;
    private readonly CancellationTokenSource _stop;
    private readonly ConcurrentDictionary<FlowTextFeed, byte> _streams = new();
    private long _admitted;
    private int _streamSequence;

    internal FlowSourceContext(ChannelWriter<IngestItem> ingress, DetectionOptions options, ModelHolder? model, DetectionCounters counters, CancellationTokenSource stop, TimeProvider time, ILogger logger)
    {
        _ingress = ingress;
        _options = options;
        _model = model;
        _stop = stop;
        Counters = counters;
        Time = time;
        Logger = logger;
    }

    /// <summary>Signalled when sources must stop reading (shutdown, <c>--max-flows</c> reached, <c>--duration</c> over).</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>The pipeline's clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>Where sources log.</summary>
    public ILogger Logger { get; }

    /// <summary>The pipeline's accounting.</summary>
    public DetectionCounters Counters { get; }

    internal DetectionOptions Options => _options;

    /// <summary>The model streams are checked against; null when flows are collected without scoring (a cluster sensor).</summary>
    internal ModelHandle? Model => _model?.Current;

    /// <summary>Streams whose header has been accepted and which have not completed.</summary>
    internal IEnumerable<FlowTextFeed> ActiveStreams => _streams.Keys;

    /// <summary>A unique number for the next stream of a source (connection numbers).</summary>
    public int NextStreamNumber() => Interlocked.Increment(ref _streamSequence);

    /// <summary>Opens a text stream named <paramref name="name"/>: CSV with a header line, or JSON lines.</summary>
    public FlowTextFeed OpenTextStream(string name) => new(this, Guard.NotBlank(name));

    /// <summary>
    /// Hands over flows a source parsed itself. Returns false when the pipeline no longer takes flows (flow limit reached or
    /// stopping); the flows not taken are not counted as in.
    /// </summary>
    public async ValueTask<bool> WriteFlowsAsync(FlowBatch flows, string stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(flows);
        Guard.NotBlank(stream);
        int admitted = Admit(flows.Count);
        if (admitted == 0)
        {
            return flows.Count == 0;
        }

        flows.Count = admitted;
        Counters.AddIn(admitted);
        await WriteAsync(new FlowChunk(flows, stream, Time.GetTimestamp()), cancellationToken).ConfigureAwait(false);
        return !LimitReached;
    }

    /// <summary>
    /// Records rows a parsing source read but could not use (its own reject and drop accounting), so that the pipeline's
    /// flows-in still equals scored + rejected + dropped.
    /// </summary>
    public void ReportUnusedRows(IReadOnlyDictionary<string, long> rejected, IReadOnlyDictionary<string, long> dropped)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        ArgumentNullException.ThrowIfNull(dropped);
        foreach (var (reason, n) in rejected)
        {
            Counters.AddIn(n);
            Counters.AddRejected(reason, n);
        }

        foreach (var (reason, n) in dropped)
        {
            Counters.AddIn(n);
            Counters.AddDropped(reason, n);
        }
    }

    /// <summary>True once <see cref="DetectionOptions.MaxFlows"/> flows have come in.</summary>
    public bool LimitReached => _options.MaxFlows > 0 && Volatile.Read(ref _admitted) >= _options.MaxFlows;

    /// <summary>Admits up to <paramref name="wanted"/> flows under the flow limit; signals stop when the limit is reached.</summary>
    internal int Admit(int wanted)
    {
        if (_options.MaxFlows <= 0)
        {
            Interlocked.Add(ref _admitted, wanted);
            return wanted;
        }

        while (true)
        {
            long current = Volatile.Read(ref _admitted);
            long room = _options.MaxFlows - current;
            if (room <= 0)
            {
                RequestStop();
                return 0;
            }

            int take = (int)Math.Min(room, wanted);
            if (Interlocked.CompareExchange(ref _admitted, current + take, current) == current)
            {
                if (current + take >= _options.MaxFlows)
                {
                    RequestStop();
                }

                return take;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="source"/> to its end on the thread pool. A source that fails is logged, its exception is
    /// added to <paramref name="errors"/> and every source is asked to stop; one that ends because the run is stopping
    /// has not failed.
    /// </summary>
    internal async Task RunSourceAsync(IFlowSource source, List<Exception> errors)
    {
        try
        {
            await Task.Run(() => source.RunAsync(this), CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (Stopping.IsCancellationRequested)
        {
            // Stopping is how sources are told to end (and how a source abandoned at shutdown learns it).
        }
        catch (Exception ex)
        {
            Log.SourceFailed(Logger, ex, source.Name, ex.Message);
            lock (errors)
            {
                errors.Add(ex);
            }

            RequestStop();
        }
    }

    internal void RequestStop()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run is over; nothing left to stop.
        }
    }

    internal async ValueTask WriteAsync(IngestItem item, CancellationToken cancellationToken)
    {
        try
        {
            await _ingress.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The pipeline stopped taking flows (a source still writing after the shutdown bound gave up on it): the
            // flows were counted in, so they are counted as dropped, and the source is told it must end.
            Counters.AddDropped(DropReasons.ShutdownTimeout, item.FlowCount);
            item.Release();
            throw new OperationCanceledException("the detection pipeline no longer takes flows (shutdown).", _stop.Token);
        }
    }

    internal void Track(FlowTextFeed stream, bool active)
    {
        if (active)
        {
            _streams.TryAdd(stream, 0);
        }
        else
        {
            _streams.TryRemove(stream, out _);
        }
    }
}

/// <summary>
/// A text stream being written by a source: bytes in any pieces, split into lines here. The first line is the header
/// (or the first JSON object); it is checked against the model at once, and a stream that does not fit fails with
/// <see cref="StreamSchemaException"/> before any row is read. Not thread-safe: one writer per stream.
/// </summary>
public sealed class FlowTextFeed
{
    private readonly FlowSourceContext _context;
    private byte[] _partial = new byte[4096];
    private int _partialLength;
    private bool _skippingLongLine;
    private StreamParser? _parser;
    private bool _expectHeader = true;
    private long _nextLine = 1;
    private byte[]? _chunk;
    private int _chunkLength;
    private int _chunkLines;
    private long _chunkFirstLine;
    private long _chunkReceived;
    private bool _stopped;

    internal FlowTextFeed(FlowSourceContext context, string name)
    {
        _context = context;
        Name = name;
    }

    /// <summary>The stream's name (in alerts and reject details).</summary>
    public string Name { get; }

    /// <summary>True when the stream stopped taking lines because the flow limit was reached.</summary>
    public bool Stopped => _stopped;

    internal StreamParser? Parser => _parser;

    /// <summary>
    /// Takes the next bytes of the stream. Complete lines are queued for parsing (waiting when the queue is full under
    /// the block policy); a partial last line is kept for the next call.
    /// </summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        long received = _context.Time.GetTimestamp();
        int pos = 0;
        while (pos < data.Length && !_stopped)
        {
            var span = data.Span[pos..];
            int nl = span.IndexOf((byte)'\n');
            if (nl < 0)
            {
                AppendPartial(span);
                break;
            }

            if (_partialLength > 0 || _skippingLongLine)
            {
                AppendPartial(span[..nl]);
                if (_skippingLongLine)
                {
                    _skippingLongLine = false;
                    _partialLength = 0;
                    _nextLine++;
                    if (!_expectHeader)
                    {
                        CountLongLine();
                    }
                }
                else
                {
                    await LineAsync(_partial.AsMemory(0, _partialLength), received, cancellationToken).ConfigureAwait(false);
                    _partialLength = 0;
                }
            }
            else
            {
                await LineAsync(data.Slice(pos, nl), received, cancellationToken).ConfigureAwait(false);
            }

            pos += nl + 1;
        }

        await FlushChunkAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The next line is a header again (the file was rotated or truncated). A partial line left over from before is
    /// counted as <c>incomplete_line</c>.
    /// </summary>
    public async ValueTask RestartAsync(CancellationToken cancellationToken = default)
    {
        await FlushChunkAsync(cancellationToken).ConfigureAwait(false);
        CountPartialAsIncomplete();
        _expectHeader = true;
        _nextLine = 1;
    }

    /// <summary>
    /// Ends the stream: queued lines are flushed; a last line without its newline (a sender that disconnected mid-row)
    /// is counted as in and rejected as <c>incomplete_line</c>, never parsed as if complete.
    /// </summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken = default)
    {
        await FlushChunkAsync(cancellationToken).ConfigureAwait(false);
        CountPartialAsIncomplete();
        _context.Track(this, active: false);
    }

    private void CountPartialAsIncomplete()
    {
        if ((_partialLength > 0 || _skippingLongLine) && !_expectHeader && !_stopped && _context.Admit(1) == 1)
        {
            _context.Counters.AddIn(1);
            _context.Counters.AddRejected(PipelineRejectReasons.IncompleteLine, 1);
        }

        _partialLength = 0;
        _skippingLongLine = false;
    }

    private void CountLongLine()
    {
        if (_context.Admit(1) == 1)
        {
            _context.Counters.AddIn(1);
            _context.Counters.AddRejected("line_too_long", 1);
        }
        else
        {
            _stopped = true;
        }
    }

    private void AppendPartial(ReadOnlySpan<byte> bytes)
    {
        if (_skippingLongLine)
        {
            return;
        }

        int need = _partialLength + bytes.Length;
        if (need > _context.Options.Reader.MaxLineBytes)
        {
            // Never buffer an unbounded line: drop it and count it once its end arrives.
            _skippingLongLine = true;
            _partialLength = 0;
            return;
        }

        if (need > _partial.Length)
        {
            Array.Resize(ref _partial, Math.Max(need, _partial.Length * 2));
        }

        bytes.CopyTo(_partial.AsSpan(_partialLength));
        _partialLength = need;
    }

    private async ValueTask LineAsync(ReadOnlyMemory<byte> line, long received, CancellationToken cancellationToken)
    {
        if (_expectHeader)
        {
            var text = line.Span;
            if (text.Trim(" \t\r"u8).IsEmpty)
            {
                _nextLine++;
                return;
            }

            if (_parser is not null && _parser.IsSameHeader(text))
            {
                // A rotated file repeats the header already learned.
                _expectHeader = false;
                _nextLine++;
                return;
            }

            try
            {
                _parser = StreamParser.Create(text, Name, _context.Options.Reader, _context.Model);
            }
            catch (StreamSchemaException)
            {
                _context.Counters.AddStreamFailed();
                throw;
            }

            _context.Counters.AddStreamOpened();
            _context.Track(this, active: true);
            _expectHeader = false;
            if (!_parser.IsJson)
            {
                _nextLine++;
                return;
            }
        }

        // An empty line is not a row (as in the batch reader): it is not counted in, but stays in the chunk so line numbers
        // stay exact, and the parser passes over it.
        bool blank = line.Span.Trim(" \t\r"u8).IsEmpty;
        if (!blank)
        {
            if (_context.Admit(1) == 0)
            {
                _stopped = true;
                return;
            }

            _context.Counters.AddIn(1);
        }

        int need = line.Length + 1;
        if (_chunk is null || _chunkLength + need > _chunk.Length || _chunkLines >= _context.Options.MaxLinesPerItem)
        {
            await FlushChunkAsync(cancellationToken).ConfigureAwait(false);
            _chunk = ArrayPool<byte>.Shared.Rent(Math.Max(64 * 1024, need));
            _chunkFirstLine = _nextLine;
            _chunkReceived = received;
        }

        line.Span.CopyTo(_chunk.AsSpan(_chunkLength));
        _chunkLength += line.Length;
        _chunk[_chunkLength++] = (byte)'\n';
        _chunkLines += blank ? 0 : 1;
        _nextLine++;
    }

    private async ValueTask FlushChunkAsync(CancellationToken cancellationToken)
    {
        if (_chunk is null)
        {
            return;
        }

        var item = new TextChunk(_parser!, _chunk, _chunkLength, _chunkLines, _chunkFirstLine, _chunkReceived);
        _chunk = null;
        _chunkLength = 0;
        _chunkLines = 0;
        try
        {
            await _context.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The flows were counted in; a write abandoned at a hard stop is accounted as dropped, never silently lost.
            _context.Counters.AddDropped("shutdown", item.FlowCount);
            item.Release();
            throw;
        }
    }
}
