using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.JetStream;
using Stakeout.Core;

namespace Stakeout.Cluster;

/// <summary>
/// Consumes the alert stream (durable consumer <see cref="ClusterOptions.LedgerConsumer"/>) into an
/// <see cref="IAlertAppendStore"/>: each fetched group of alerts is appended (an alert id already held is skipped),
/// made durable with one <see cref="IAlertAppendStore.FlushAsync"/>, and only then acknowledged. Delivery is at least once;
/// the store's dedup by alert id makes the result exactly once.
/// </summary>
public sealed class LedgerWriter
{
    private readonly ClusterOptions _options;
    private readonly IAlertAppendStore _store;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string? _sensor;
    private long _received;
    private long _appended;
    private long _duplicates;
    private long _rejected;
    private long _lag = -1;

    /// <summary>
    /// Creates a writer into <paramref name="store"/>: of every sensor's alerts, or with <paramref name="sensor"/> only of
    /// that sensor's (consumer <c>ledger-SENSOR</c> filtered on its subject: one ledger per sensor).
    /// </summary>
    public LedgerWriter(ClusterOptions options, IAlertAppendStore store, ILogger? logger = null, TimeProvider? time = null, string? sensor = null)
    {
        if (sensor is not null && !ClusterOptions.IsToken(sensor))
        {
            throw new ArgumentException($"--sensor '{sensor}' must be 1 to 64 letters, digits, '-' or '_'.", nameof(sensor));
        }

        _sensor = sensor;
        _options = Guard.NotNull(options).Validate();
        _store = Guard.NotNull(store);
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Alert messages received (redeliveries included).</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Alerts appended.</summary>
    public long Appended => Volatile.Read(ref _appended);

    /// <summary>Alerts skipped because their id was already held.</summary>
    public long Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Alert messages refused by the store (not a readable alert) and terminated.</summary>
    public long Rejected => Volatile.Read(ref _rejected);

    /// <summary>Alerts in the stream not yet delivered to this writer (-1 until first read).</summary>
    public long Lag => Volatile.Read(ref _lag);

    /// <summary>Runs until <paramref name="stop"/>; the group in hand is appended, flushed and acknowledged first.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        const string who = "ledger-writer";
        await using var session = await NatsSession.ConnectAsync(_options, who, _logger, _time, stop).ConfigureAwait(false);
        await session.EnsureStreamAsync(_options.AlertStream, _options.AlertSubjectPrefix, _options.AlertLimits, stop).ConfigureAwait(false);
        var consumer = _sensor is null
            ? await session.EnsureConsumerAsync(_options.AlertStream, _options.LedgerConsumer, null, stop).ConfigureAwait(false)
            : await session.EnsureConsumerAsync(_options.AlertStream, _options.LedgerConsumer + "-" + _sensor, _options.AlertSubjectPrefix + "." + _sensor, stop).ConfigureAwait(false);
        long lastStatus = _time.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            var fetched = new List<INatsJSMsg<byte[]>>();
            try
            {
                await foreach (var msg in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 256, Expires = TimeSpan.FromSeconds(2) }, cancellationToken: CancellationToken.None).ConfigureAwait(false))
                {
                    fetched.Add(msg);
                }
            }
            catch (Exception ex) when (NatsSession.IsTransient(ex))
            {
                ClusterLog.OperationRetry(_logger, who, "fetch alerts", 1, NatsSession.Describe(ex), (int)_options.RetryInitial.TotalMilliseconds);
                await Task.Delay(_options.RetryInitial, _time, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            var accepted = new List<INatsJSMsg<byte[]>>(fetched.Count);
            foreach (var msg in fetched)
            {
                Interlocked.Increment(ref _received);
                string? id = msg.Headers?[Headers.AlertId].ToString();
                if (string.IsNullOrEmpty(id))
                {
                    ClusterLog.BadMessage(_logger, who, msg.Subject, msg.Metadata?.Sequence.Stream ?? 0, $"no {Headers.AlertId} header");
                    await msg.AckTerminateAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
                    continue;
                }

                bool appended;
                try
                {
                    appended = _store.AppendIfNew(id, msg.Data ?? []);
                }
                catch (InvalidDataException ex)
                {
                    // Not an alert the ledger can record: terminated (never redelivered), counted and named in the log.
                    Interlocked.Increment(ref _rejected);
                    ClusterLog.BadMessage(_logger, who, msg.Subject, msg.Metadata?.Sequence.Stream ?? 0, ex.Message);
                    await msg.AckTerminateAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
                    continue;
                }

                Interlocked.Increment(ref appended ? ref _appended : ref _duplicates);
                accepted.Add(msg);
            }

            if (accepted.Count > 0)
            {
                // Durable (a signed, fsynced checkpoint in the threat ledger) before any of the group is acknowledged.
                await _store.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                foreach (var msg in accepted)
                {
                    // A lost ack only means a redelivery, which the store skips.
                    await session.RetryAsync("acknowledge alert", async ct =>
                    {
                        await msg.AckAsync(cancellationToken: ct).ConfigureAwait(false);
                        return true;
                    }, CancellationToken.None).ConfigureAwait(false);
                }
            }

            if (_time.GetElapsedTime(lastStatus) >= _options.StatusInterval)
            {
                lastStatus = _time.GetTimestamp();
                if (await session.LagAsync(_options.AlertStream, _options.LedgerConsumer, stop).ConfigureAwait(false) is { } lag)
                {
                    Volatile.Write(ref _lag, (long)Math.Min(lag.Pending, long.MaxValue));
                }

                ClusterLog.Status(_logger, who, string.Create(CultureInfo.InvariantCulture, $"{Appended:N0} alerts appended ({_store.Count:N0} held), {Duplicates:N0} duplicates skipped, {Rejected:N0} rejected; lag {Lag}"));
            }
        }
    }
}
