using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Stakeout.Detection;

/// <summary>Health of one sink, for metrics and summaries.</summary>
public sealed class SinkStatus
{
    private long _written;
    private long _failures;
    private long _overflow;
    private long _lost;

    internal SinkStatus(string name) => Name = name;

    /// <summary>The sink's name.</summary>
    public string Name { get; }

    /// <summary>Alerts written.</summary>
    public long Written => Volatile.Read(ref _written);

    /// <summary>Failed write attempts (each is retried).</summary>
    public long Failures => Volatile.Read(ref _failures);

    /// <summary>Alerts dropped because the sink's buffer was full while it was failing or slow.</summary>
    public long Overflow => Volatile.Read(ref _overflow);

    /// <summary>Alerts still unwritten when shutdown's drain timeout ran out.</summary>
    public long Lost => Volatile.Read(ref _lost);

    /// <summary>Alerts waiting in the buffer.</summary>
    public int Queued { get; internal set; }

    /// <summary>The last failure's message, or null.</summary>
    public string? LastError { get; internal set; }

    internal void AddWritten(long n) => Interlocked.Add(ref _written, n);

    internal void AddFailure() => Interlocked.Increment(ref _failures);

    internal void AddOverflow() => Interlocked.Increment(ref _overflow);

    internal void AddLost(long n) => Interlocked.Add(ref _lost, n);
}

/// <summary>
/// Runs one sink behind a bounded buffer: alerts are taken without ever blocking the pipeline (a full buffer drops its
/// oldest alert and counts it), written in order, and a failing write is logged and retried with exponential backoff
/// while new alerts wait in the buffer.
/// </summary>
public sealed class SinkRunner
{
    private const int MaxPerWrite = 512;
    private readonly IAlertSink _sink;
    private readonly Channel<Alert> _buffer;
    private readonly DetectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates a runner for <paramref name="sink"/>.</summary>
    public SinkRunner(IAlertSink sink, DetectionOptions options, TimeProvider time, ILogger logger)
    {
        _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        Status = new SinkStatus(sink.Name);
        _buffer = Channel.CreateBounded<Alert>(
            new BoundedChannelOptions(options.SinkBufferCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            _ => Status.AddOverflow());
    }

    /// <summary>The sink's health.</summary>
    public SinkStatus Status { get; }

    /// <summary>Alerts waiting.</summary>
    public int Queued => _buffer.Reader.Count;

    /// <summary>Queues an alert; never blocks.</summary>
    public void Enqueue(Alert alert) => _buffer.Writer.TryWrite(alert);

    /// <summary>No more alerts will come.</summary>
    public void Complete() => _buffer.Writer.TryComplete();

    /// <summary>
    /// Writes until <see cref="Complete"/> was called and the buffer is empty. <paramref name="abort"/> (shutdown's drain
    /// timeout) ends retrying: what is left then is counted as lost and logged.
    /// </summary>
    public async Task RunAsync(CancellationToken abort)
    {
        var batch = new List<Alert>(MaxPerWrite);
        var reader = _buffer.Reader;
        try
        {
            while (true)
            {
                if (!reader.TryPeek(out _))
                {
                    await WithRetryAsync(() => _sink.FlushAsync(abort), 0, abort).ConfigureAwait(false);
                    if (!await reader.WaitToReadAsync(abort).ConfigureAwait(false))
                    {
                        break;
                    }
                }

                batch.Clear();
                while (batch.Count < MaxPerWrite && reader.TryRead(out var alert))
                {
                    batch.Add(alert);
                }

                Status.Queued = reader.Count;
                await WithRetryAsync(() => _sink.WriteAsync(batch, abort), batch.Count, abort).ConfigureAwait(false);
                Status.AddWritten(batch.Count);
                batch.Clear();
            }

            await WithRetryAsync(() => _sink.FlushAsync(abort), 0, abort).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            long lost = batch.Count + reader.Count;
            Status.AddLost(lost);
            if (lost > 0)
            {
                Log.SinkLost(_logger, _sink.Name, lost, Status.LastError);
            }
        }
    }

    private async Task WithRetryAsync(Func<ValueTask> action, int alerts, CancellationToken abort)
    {
        var delay = _options.SinkInitialBackoff;
        while (true)
        {
            abort.ThrowIfCancellationRequested();
            try
            {
                await action().ConfigureAwait(false);
                if (Status.LastError is not null)
                {
                    Log.SinkRecovered(_logger, _sink.Name);
                    Status.LastError = null;
                }

                return;
            }
#pragma warning disable CA1031 // A sink may fail in any way; detection must go on, so every failure is reported and retried.
            catch (Exception ex) when (ex is not OperationCanceledException || !abort.IsCancellationRequested)
#pragma warning restore CA1031
            {
                Status.AddFailure();
                Status.LastError = ex.Message;
                Log.SinkFailed(_logger, ex, _sink.Name, alerts, (int)delay.TotalMilliseconds);
            }

            await Task.Delay(delay, _time, abort).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.SinkMaxBackoff.Ticks));
        }
    }
}
