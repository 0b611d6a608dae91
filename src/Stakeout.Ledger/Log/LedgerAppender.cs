using System.Globalization;
using System.Threading.Channels;

namespace Stakeout.Ledger.Log;

/// <summary>When the appender checkpoints.</summary>
public sealed record AppenderOptions
{
    /// <summary>A checkpoint at the latest after this many records. Default 2048.</summary>
    public int CheckpointEvery { get; init; } = 2048;

    /// <summary>A checkpoint at the latest this long after the first record not yet durable. Default 200 ms.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Records waiting to be appended before producers wait (backpressure). Default 65536.</summary>
    public int Capacity { get; init; } = 65536;

    /// <summary>Wait after a failed commit before the next try (doubles up to 30 s). Default 200 ms.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Give up when commits have failed for this long without one succeeding (null, the default: retry for ever, as a
    /// monitor must). The loop then ends with a <see cref="LedgerCommitException"/>; records not yet durable are never
    /// acknowledged, and producers' writes fail with it.
    /// </summary>
    public TimeSpan? GiveUpAfter { get; init; }

    /// <summary>Checks the options; the message names the option.</summary>
    public void Validate()
    {
        if (GiveUpAfter is { } giveUp && giveUp < TimeSpan.Zero)
        {
            throw new ArgumentException($"GiveUpAfter ({giveUp}) cannot be negative.", nameof(GiveUpAfter));
        }

        if (CheckpointEvery < 1)
        {
            throw new ArgumentException($"CheckpointEvery ({CheckpointEvery}) must be at least 1.", nameof(CheckpointEvery));
        }

        if (MaxDelay < TimeSpan.Zero)
        {
            throw new ArgumentException($"MaxDelay ({MaxDelay}) cannot be negative.", nameof(MaxDelay));
        }

        if (Capacity < 1)
        {
            throw new ArgumentException($"Capacity ({Capacity}) must be at least 1.", nameof(Capacity));
        }
    }
}

/// <summary>Commits kept failing for <see cref="AppenderOptions.GiveUpAfter"/>; the inner exception is the last failure.</summary>
public sealed class LedgerCommitException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>Records that were appended but never made durable (not acknowledged).</summary>
    public int Unacknowledged { get; init; }
}

/// <summary>
/// Group commit in front of a <see cref="LedgerLog"/>: producers hand records to a bounded channel; one loop appends
/// them and checkpoints every <see cref="AppenderOptions.CheckpointEvery"/> records or <see cref="AppenderOptions.MaxDelay"/>,
/// whichever comes first. Records that arrive while a checkpoint is being made durable go into the next one, so the
/// cost of fsync is shared by every record of a batch. <see cref="Committed"/> is called after each durable
/// checkpoint: that is the acknowledgement. A failed commit is counted, and retried with backoff, records kept.
/// </summary>
public sealed class LedgerAppender : IAsyncDisposable
{
    private readonly LedgerLog _log;
    private readonly AppenderOptions _options;
    private readonly TimeProvider _time;
    private readonly Channel<byte[]> _channel;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private bool _failureReported; // CompleteAsync threw the LedgerCommitException; DisposeAsync does not throw it again

    /// <summary>An appender over <paramref name="log"/>; call <see cref="Start"/>.</summary>
    public LedgerAppender(LedgerLog log, AppenderOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        _log = log;
        _options = options;
        _time = time;
        _channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>Called on the appender's loop after each durable checkpoint, with what it made durable.</summary>
    public Action<CommitReceipt>? Committed { get; init; }

    /// <summary>Called on the appender's loop when a commit fails (it is retried).</summary>
    public Action<Exception>? CommitFailed { get; init; }

    /// <summary>Commits that failed (and were retried).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    private long _failures;

    /// <summary>The log.</summary>
    public LedgerLog Log => _log;

    /// <summary>Starts the loop.</summary>
    public void Start() => _loop ??= Task.Run(async () =>
    {
        try
        {
            await RunAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (LedgerCommitException e)
        {
            // Producers waiting on a full queue (or writing later) get the reason instead of waiting for ever.
            _channel.Writer.TryComplete(e);
            throw;
        }
    });

    /// <summary>Queues a record (its canonical bytes); waits only when the queue is full.</summary>
    public ValueTask WriteAsync(byte[] record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return _channel.Writer.WriteAsync(record, cancellationToken);
    }

    /// <summary>
    /// No more records: waits until every queued record is durable (the last checkpoint written) and the loop has ended.
    /// Cancelling <paramref name="cancellationToken"/> abandons records not yet durable (never acknowledged).
    /// </summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        _channel.Writer.TryComplete();
        Start();
        using (cancellationToken.Register(() => _stop.Cancel()))
        {
            try
            {
                await _loop!.ConfigureAwait(false);
            }
            catch (LedgerCommitException)
            {
                _failureReported = true;
                throw;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (LedgerCommitException) when (_failureReported)
            {
                // Already thrown by CompleteAsync.
            }
            finally
            {
                _stop.Dispose();
            }
        }
        else
        {
            _stop.Dispose();
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var deadline = _time.GetUtcNow() + _options.MaxDelay;
            while (true)
            {
                while (_log.PendingCount < _options.CheckpointEvery && reader.TryRead(out byte[]? record))
                {
                    _log.Append(record);
                }

                if (_log.PendingCount >= _options.CheckpointEvery)
                {
                    break;
                }

                var remaining = deadline - _time.GetUtcNow();
                if (remaining <= TimeSpan.Zero)
                {
                    break;
                }

                using var timeout = new CancellationTokenSource(remaining, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
                try
                {
                    if (!await reader.WaitToReadAsync(linked.Token).ConfigureAwait(false))
                    {
                        break; // completed: commit what is pending
                    }
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }

            await CommitWithRetryAsync(cancellationToken).ConfigureAwait(false);
        }

        await CommitWithRetryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task CommitWithRetryAsync(CancellationToken cancellationToken)
    {
        var delay = _options.RetryDelay;
        DateTimeOffset? failingSince = null;
        while (_log.PendingCount > 0)
        {
            CommitReceipt? receipt;
            try
            {
                receipt = await _log.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException)
            {
                Interlocked.Increment(ref _failures);
                var now = _time.GetUtcNow();
                failingSince ??= now;
                if (_options.GiveUpAfter is { } giveUp && now - failingSince.Value >= giveUp)
                {
                    throw new LedgerCommitException(
                        string.Create(CultureInfo.InvariantCulture, $"the ledger could not be committed for {(now - failingSince.Value).TotalSeconds:0.#} s ({Interlocked.Read(ref _failures)} failed tries), giving up: {e.Message}"), e)
                    {
                        Unacknowledged = _log.PendingCount + _channel.Reader.Count,
                    };
                }

                CommitFailed?.Invoke(e);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                continue;
            }

            if (receipt is not null)
            {
                Committed?.Invoke(receipt);
            }
        }
    }
}
