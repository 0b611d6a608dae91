using System.Globalization;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Stakeout.Cluster;

/// <summary>Thrown when NATS stays unreachable (or an operation keeps failing) for longer than the give-up time.</summary>
public sealed class ClusterUnavailableException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// One connection to the cluster and its JetStream context, with the retry policy every command shares: exponential
/// backoff from <see cref="ClusterOptions.RetryInitial"/> to <see cref="ClusterOptions.RetryMax"/>, a log line for every
/// failed attempt (never a silent stall), and <see cref="ClusterUnavailableException"/> after
/// <see cref="ClusterOptions.GiveUpAfter"/>. NATS types stay inside this assembly.
/// </summary>
internal sealed class NatsSession : IAsyncDisposable
{
    private readonly ClusterOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    private NatsSession(NatsConnection connection, ClusterOptions options, string who, ILogger logger, TimeProvider time)
    {
        Connection = connection;
        Js = new NatsJSContext(connection);
        _options = options;
        Who = who;
        _logger = logger;
        _time = time;
    }

    public NatsConnection Connection { get; }

    public NatsJSContext Js { get; }

    public string Who { get; }

    /// <summary>Connects, retrying with backoff until <see cref="ClusterOptions.GiveUpAfter"/>.</summary>
    public static async Task<NatsSession> ConnectAsync(ClusterOptions options, string who, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        var opts = NatsOpts.Default with
        {
            Url = options.ServerList,
            Name = "stakeout-" + who,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            RequestTimeout = options.RequestTimeout,
            CommandTimeout = options.RequestTimeout,
            MaxReconnectRetry = -1,
            ReconnectWaitMin = options.RetryInitial,
            ReconnectWaitMax = options.RetryMax,
            PingInterval = TimeSpan.FromSeconds(5),
        };
        long start = time.GetTimestamp();
        var delay = options.RetryInitial;
        for (int attempt = 1; ; attempt++)
        {
            var connection = new NatsConnection(opts);
            try
            {
                await connection.ConnectAsync().ConfigureAwait(false);
                var session = new NatsSession(connection, options, who, logger, time);
                ClusterLog.Connected(logger, who, connection.ServerInfo?.Host + ":" + connection.ServerInfo?.Port.ToString(CultureInfo.InvariantCulture));
                connection.ConnectionDisconnected += (_, args) =>
                {
                    ClusterLog.Disconnected(logger, who, args.Message, options.ServerList);
                    return default;
                };
                connection.ConnectionOpened += (_, args) =>
                {
                    ClusterLog.Connected(logger, who, args.Message);
                    return default;
                };
                return session;
            }
            catch (NatsException ex)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                if (time.GetElapsedTime(start) + delay > options.GiveUpAfter)
                {
                    throw new ClusterUnavailableException(
                        string.Create(CultureInfo.InvariantCulture, $"NATS at {options.ServerList} is unreachable after {attempt} attempt(s) over {time.GetElapsedTime(start).TotalSeconds:0.#} s: {Describe(ex)}"),
                        ex);
                }

                ClusterLog.ConnectRetry(logger, options.ServerList, attempt, Describe(ex), (int)delay.TotalMilliseconds);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay = Next(delay, options);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="operation"/> until it succeeds, retrying NATS and time-out failures with backoff and a log
    /// line each; after <see cref="ClusterOptions.GiveUpAfter"/> throws <see cref="ClusterUnavailableException"/>.
    /// <paramref name="onRetry"/> runs before each retry (e.g. to tell JetStream the message is still being worked on).
    /// </summary>
    public async Task<T> RetryAsync<T>(string what, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken, Func<Task>? onRetry = null)
    {
        long start = _time.GetTimestamp();
        var delay = _options.RetryInitial;
        for (int attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await operation(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                if (_time.GetElapsedTime(start) + delay > _options.GiveUpAfter)
                {
                    throw new ClusterUnavailableException(
                        string.Create(CultureInfo.InvariantCulture, $"{Who}: {what} still failing after {attempt} attempt(s) over {_time.GetElapsedTime(start).TotalSeconds:0.#} s (servers {_options.ServerList}): {Describe(ex)}"),
                        ex);
                }

                ClusterLog.OperationRetry(_logger, Who, what, attempt, Describe(ex), (int)delay.TotalMilliseconds);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                if (onRetry is not null)
                {
                    await onRetry().ConfigureAwait(false);
                }

                delay = Next(delay, _options);
            }
        }
    }

    /// <summary>Publishes to JetStream with a dedup id and waits for the stream's acknowledgement; true when it was a duplicate.</summary>
    public async Task<bool> PublishAsync(string subject, byte[] data, string msgId, NatsHeaders? headers, CancellationToken cancellationToken, Func<Task>? onRetry = null)
    {
        return await RetryAsync(
            $"publish {msgId} to {subject}",
            async ct =>
            {
                try
                {
                    var response = await Js.PublishAsync(subject, data, opts: new NatsJSPubOpts { MsgId = msgId, RetryAttempts = 1 }, headers: headers, cancellationToken: ct).ConfigureAwait(false);
                    if (response.Duplicate)
                    {
                        // Stored before (a retried publish whose first acknowledgement was lost, or work redone after
                        // a redelivery): exactly what the dedup id is for, so it counts as done.
                        return true;
                    }

                    response.EnsureSuccess();
                    return false;
                }
                catch (NatsJSDuplicateMessageException)
                {
                    return true;
                }
            },
            cancellationToken,
            onRetry).ConfigureAwait(false);
    }

    /// <summary>Creates <paramref name="stream"/> with <paramref name="limits"/> if it does not exist; an existing stream is kept (a difference is logged).</summary>
    public async Task EnsureStreamAsync(string stream, string subjectPrefix, StreamLimits limits, CancellationToken cancellationToken)
    {
        var config = new StreamConfig(stream, [subjectPrefix + ".>"])
        {
            NumReplicas = limits.Replicas,
            Retention = limits.Retention switch
            {
                StreamRetention.WorkQueue => StreamConfigRetention.Workqueue,
                StreamRetention.Interest => StreamConfigRetention.Interest,
                _ => StreamConfigRetention.Limits,
            },
            Storage = limits.Storage == StreamStorage.Memory ? StreamConfigStorage.Memory : StreamConfigStorage.File,
            Discard = limits.Discard == DiscardPolicy.Old ? StreamConfigDiscard.Old : StreamConfigDiscard.New,
            MaxAge = limits.MaxAge,
            MaxBytes = limits.MaxBytes,
            MaxMsgs = limits.MaxMessages,
            DuplicateWindow = limits.DuplicateWindow,
        };
        await RetryAsync(
            $"create stream {stream}",
            async ct =>
            {
                try
                {
                    var existing = await Js.GetStreamAsync(stream, cancellationToken: ct).ConfigureAwait(false);
                    var have = existing.Info.Config;
                    string haveText = Describe(have.NumReplicas, have.Retention.ToString(), have.MaxBytes, have.MaxAge);
                    string wantText = Describe(config.NumReplicas, config.Retention.ToString(), config.MaxBytes, config.MaxAge);
                    if (haveText != wantText)
                    {
                        ClusterLog.StreamDiffers(_logger, Who, stream, haveText, wantText);
                    }

                    return true;
                }
                catch (NatsJSApiException ex) when (ex.Error.Code == 404)
                {
                    try
                    {
                        await Js.CreateStreamAsync(config, ct).ConfigureAwait(false);
                    }
                    catch (NatsJSApiException raced) when (raced.Error.ErrCode == 10058)
                    {
                        // Another process created it between our look-up and our create: the same outcome.
                        return true;
                    }

                    ClusterLog.StreamCreated(_logger, Who, stream, limits.Replicas, limits.Retention.ToString(), limits.Discard.ToString(), limits.MaxAge, limits.MaxBytes, limits.MaxMessages);
                    return true;
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates (or finds) the durable pull consumer <paramref name="name"/> on <paramref name="stream"/>.</summary>
    public Task<INatsJSConsumer> EnsureConsumerAsync(string stream, string name, string? filterSubject, CancellationToken cancellationToken) =>
        RetryAsync(
            $"create consumer {name} on {stream}",
            ct => Js.CreateOrUpdateConsumerAsync(
                stream,
                new ConsumerConfig(name)
                {
                    AckPolicy = ConsumerConfigAckPolicy.Explicit,
                    AckWait = _options.AckWait,
                    MaxAckPending = _options.MaxAckPending,
                    MaxDeliver = -1,
                    FilterSubject = filterSubject,
                },
                ct).AsTask(),
            cancellationToken);

    /// <summary>Messages not yet delivered and delivered but unacknowledged, for the lag metric; null when the look-up fails.</summary>
    public async Task<(ulong Pending, long AckPending)?> LagAsync(string stream, string consumer, CancellationToken cancellationToken)
    {
        try
        {
            var c = await Js.GetConsumerAsync(stream, consumer, cancellationToken).ConfigureAwait(false);
            return (c.Info.NumPending, c.Info.NumAckPending);
        }
        catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            ClusterLog.Warning(_logger, Who, $"could not read the lag of consumer {consumer}: {Describe(ex)}");
            return null;
        }
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();

    internal static bool IsTransient(Exception ex) => ex is (NatsException or TimeoutException or OperationCanceledException or IOException) and not NatsJSDuplicateMessageException;

    internal static string Describe(Exception ex) => ex switch
    {
        NatsJSApiException api => $"{api.Error.Description} (JetStream error {api.Error.ErrCode})",
        OperationCanceledException => "timed out",
        _ => ex.InnerException is { } inner && ex.Message.Length < 40 ? $"{ex.Message}: {inner.Message}" : ex.Message,
    };

    private static string Describe(int replicas, string retention, long maxBytes, TimeSpan maxAge) =>
        string.Create(CultureInfo.InvariantCulture, $"replicas {replicas}, retention {retention}, max bytes {maxBytes}, max age {maxAge}");

    private static TimeSpan Next(TimeSpan delay, ClusterOptions options) =>
        TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.RetryMax.Ticks));
}
