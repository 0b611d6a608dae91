using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Stakeout.Core;
using Stakeout.Detection;

namespace Stakeout.Cluster;

/// <summary>A worker's counters, read by its metrics and status lines.</summary>
public sealed class WorkerCounters
{
    private long _batches;
    private long _redelivered;
    private long _alertsPublished;
    private long _alertDuplicates;
    private long _resultDuplicates;
    private long _badMessages;
    private long _lagPending = -1;
    private long _lagAckPending = -1;

    /// <summary>Flow batches scored, published and acknowledged.</summary>
    public long Batches => Volatile.Read(ref _batches);

    /// <summary>Batches that came with a delivery count above 1 (another worker took them before and did not acknowledge).</summary>
    public long Redelivered => Volatile.Read(ref _redelivered);

    /// <summary>Alerts JetStream stored.</summary>
    public long AlertsPublished => Volatile.Read(ref _alertsPublished);

    /// <summary>Alert publishes JetStream recognised as already stored (work redone after a redelivery).</summary>
    public long AlertDuplicates => Volatile.Read(ref _alertDuplicates);

    /// <summary>Result publishes recognised as already stored.</summary>
    public long ResultDuplicates => Volatile.Read(ref _resultDuplicates);

    /// <summary>Messages that were not flow batches (terminated).</summary>
    public long BadMessages => Volatile.Read(ref _badMessages);

    /// <summary>Batches in the stream not yet delivered to any worker (-1 until first read).</summary>
    public long LagPending => Volatile.Read(ref _lagPending);

    /// <summary>Batches delivered to a worker and not yet acknowledged (-1 until first read).</summary>
    public long LagAckPending => Volatile.Read(ref _lagAckPending);

    internal void AddBatch(bool redelivered)
    {
        Interlocked.Increment(ref _batches);
        if (redelivered)
        {
            Interlocked.Increment(ref _redelivered);
        }
    }

    internal void AddAlerts(long published, long duplicates)
    {
        Interlocked.Add(ref _alertsPublished, published);
        Interlocked.Add(ref _alertDuplicates, duplicates);
    }

    internal void AddResultDuplicate() => Interlocked.Increment(ref _resultDuplicates);

    internal void AddBadMessage() => Interlocked.Increment(ref _badMessages);

    internal void SetLag(ulong pending, long ackPending)
    {
        Volatile.Write(ref _lagPending, (long)Math.Min(pending, long.MaxValue));
        Volatile.Write(ref _lagAckPending, ackPending);
    }
}

/// <summary>
/// A detection worker: pulls flow batches from the shared durable consumer, scores each with the detection runtime's
/// scorer and policy (<see cref="FlowBatchScorer"/>), publishes one message per alert to the alert stream
/// (<c>Nats-Msg-Id</c> = alert id = <c>BATCH_ID.ROW</c>) and one result per batch to the result stream
/// (<c>Nats-Msg-Id</c> = batch id), and acknowledges the batch only after JetStream has acknowledged every one of those
/// publishes. A worker that dies before its acknowledgement leaves the batch to be redelivered to another worker after
/// <see cref="ClusterOptions.AckWait"/>; the redone publishes carry the same ids, so the streams hold each once.
/// </summary>
public sealed class ClusterWorker
{
    private readonly ClusterOptions _options;
    private readonly ModelHolder _model;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _who;

    /// <summary>Creates worker <paramref name="workerId"/> scoring with <paramref name="model"/>.</summary>
    public ClusterWorker(ClusterOptions options, string workerId, ModelHolder model, DetectionOptions? detection = null, ILogger? logger = null, TimeProvider? time = null)
    {
        _options = Guard.NotNull(options).Validate();
        if (!ClusterOptions.IsToken(workerId))
        {
            throw new ArgumentException($"--worker-id '{workerId}' must be 1 to 64 letters, digits, '-' or '_'.", nameof(workerId));
        }

        WorkerId = workerId;
        _who = "worker " + workerId;
        _model = Guard.NotNull(model);
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        Scorer = new FlowBatchScorer(detection ?? new DetectionOptions(), _time);
    }

    /// <summary>The worker's id (in every result it publishes).</summary>
    public string WorkerId { get; }

    /// <summary>Scoring accounting: flows in = scored + rejected.</summary>
    public DetectionCounters Flows => Scorer.Counters;

    /// <summary>Delivery counters and consumer lag.</summary>
    public WorkerCounters Counters { get; } = new();

    /// <summary>The model in force (swap it to roll this worker to a new artifact; the next batch uses it).</summary>
    public ModelHolder Model => _model;

    internal FlowBatchScorer Scorer { get; }

    /// <summary>Test seam: runs after a batch is scored and before anything is published or acknowledged.</summary>
    internal Func<FlowMessage, CancellationToken, Task>? AfterScore { get; init; }

    /// <summary>Swaps in <paramref name="next"/> between two batches and logs it.</summary>
    public void Reload(ModelHandle next)
    {
        _model.Swap(Guard.NotNull(next));
        ClusterLog.ModelSwapped(_logger, _who, next.Sha256 ?? "(no sha256)", next.Source);
    }

    /// <summary>
    /// Works until <paramref name="stop"/> is signalled: the batch in hand is finished (scored, published, acknowledged);
    /// batches fetched but not started are handed back at once (nak) for another worker.
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        await using var session = await NatsSession.ConnectAsync(_options, _who, _logger, _time, stop).ConfigureAwait(false);
        await session.EnsureStreamAsync(_options.AlertStream, _options.AlertSubjectPrefix, _options.AlertLimits, stop).ConfigureAwait(false);
        await session.EnsureStreamAsync(_options.ResultStream, _options.ResultSubjectPrefix, _options.AlertLimits, stop).ConfigureAwait(false);
        await session.EnsureStreamAsync(_options.FlowStream, _options.FlowSubjectPrefix, _options.FlowLimits, stop).ConfigureAwait(false);
        var consumer = await session.EnsureConsumerAsync(_options.FlowStream, _options.WorkerConsumer, null, stop).ConfigureAwait(false);
        using var stopStatus = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var status = StatusLoopAsync(session, stopStatus.Token);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var fetched = new List<INatsJSMsg<byte[]>>();
                try
                {
                    // The fetch is not cancelled by stop: a batch half-received would be neither worked nor handed back.
                    await foreach (var msg in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = _options.FetchBatch, Expires = TimeSpan.FromSeconds(2) }, cancellationToken: CancellationToken.None).ConfigureAwait(false))
                    {
                        fetched.Add(msg);
                    }
                }
                catch (Exception ex) when (NatsSession.IsTransient(ex))
                {
                    ClusterLog.OperationRetry(_logger, _who, "fetch from consumer " + _options.WorkerConsumer, 1, NatsSession.Describe(ex), (int)_options.RetryInitial.TotalMilliseconds);
                    await Task.Delay(_options.RetryInitial, _time, CancellationToken.None).ConfigureAwait(false);
                    continue;
                }

                for (int i = 0; i < fetched.Count; i++)
                {
                    if (stop.IsCancellationRequested)
                    {
                        await HandBackAsync(fetched, i).ConfigureAwait(false);
                        break;
                    }

                    await ProcessAsync(session, fetched[i], stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped while a publish was retrying: the batch is not acknowledged and will be redelivered.
        }
        finally
        {
            await stopStatus.CancelAsync().ConfigureAwait(false);
            await status.ConfigureAwait(false);
        }
    }

    private async Task ProcessAsync(NatsSession session, INatsJSMsg<byte[]> msg, CancellationToken stop)
    {
        FlowMessage batch;
        try
        {
            batch = FlowBatchCodec.Decode(msg.Data ?? []);
        }
        catch (InvalidDataException ex)
        {
            Counters.AddBadMessage();
            long flows = long.TryParse(msg.Headers?[Headers.Flows].ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : 0;
            Scorer.CountRejected("undecodable_batch", flows);
            ClusterLog.BadMessage(_logger, _who, msg.Subject, msg.Metadata?.Sequence.Stream ?? 0, ex.Message);
            await msg.AckTerminateAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            return;
        }

        var model = _model.Current;
        string stream = batch.Sensor + ":" + batch.Stream;
        var alerts = Scorer.Score(model, batch.Flows, stream);
        if (AfterScore is not null)
        {
            await AfterScore(batch, stop).ConfigureAwait(false);
        }

        Func<Task> stillWorking = async () =>
        {
            try
            {
                await msg.AckProgressAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (NatsSession.IsTransient(ex))
            {
                ClusterLog.Warning(_logger, _who, $"could not extend the ack deadline of {batch.BatchId}: {NatsSession.Describe(ex)}");
            }
        };
        string sha = model.Sha256 ?? "";
        var alertIds = new string[alerts.Count];
        var publishes = new Task<bool>[alerts.Count];
        for (int i = 0; i < alerts.Count; i++)
        {
            var a = alerts[i];
            string alertId = batch.BatchId + "." + a.Row.ToString(CultureInfo.InvariantCulture);
            alertIds[i] = alertId;
            var headers = new NatsHeaders { [Headers.AlertId] = alertId, [Headers.BatchId] = batch.BatchId, [Headers.Model] = sha, [Headers.Worker] = WorkerId };
            publishes[i] = session.PublishAsync(_options.AlertSubjectPrefix + "." + batch.Sensor, System.Text.Encoding.UTF8.GetBytes(EveWriter.ToJson(a.Alert)), alertId, headers, stop, stillWorking);
        }

        await Task.WhenAll(publishes).ConfigureAwait(false);
        long duplicates = publishes.Count(p => p.Result);
        Counters.AddAlerts(alerts.Count - duplicates, duplicates);
        uint delivered = (uint)(msg.Metadata?.NumDelivered ?? 1);
        byte[] result = BatchResult.Serialize(batch, WorkerId, sha, delivered, alertIds, _time.GetUtcNow());
        var resultHeaders = new NatsHeaders { [Headers.BatchId] = batch.BatchId, [Headers.Model] = sha, [Headers.Worker] = WorkerId };
        if (await session.PublishAsync(_options.ResultSubjectPrefix + "." + batch.Sensor, result, batch.BatchId, resultHeaders, stop, stillWorking).ConfigureAwait(false))
        {
            Counters.AddResultDuplicate();
        }

        // Only now is the batch done: every alert and the result are stored on a quorum. A lost ack means a redelivery,
        // whose publishes are recognised by their ids.
        await session.RetryAsync(
            "acknowledge " + batch.BatchId,
            async ct =>
            {
                await msg.AckAsync(new AckOpts { DoubleAck = true }, ct).ConfigureAwait(false);
                return true;
            },
            stop).ConfigureAwait(false);
        Counters.AddBatch(delivered > 1);
    }

    private async Task HandBackAsync(List<INatsJSMsg<byte[]>> fetched, int from)
    {
        for (int j = from; j < fetched.Count; j++)
        {
            try
            {
                await fetched[j].NakAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (NatsSession.IsTransient(ex))
            {
                // Not handed back: it is redelivered once its ack wait runs out instead.
                ClusterLog.Warning(_logger, _who, $"could not hand back a batch at stop ({NatsSession.Describe(ex)}); it is redelivered after the ack wait");
            }
        }
    }

    private async Task StatusLoopAsync(NatsSession session, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (await session.LagAsync(_options.FlowStream, _options.WorkerConsumer, stop).ConfigureAwait(false) is { } lag)
                {
                    Counters.SetLag(lag.Pending, lag.AckPending);
                }

                var f = Flows.Snapshot();
                ClusterLog.Status(_logger, _who, string.Create(
                    CultureInfo.InvariantCulture,
                    $"{f.FlowsScored:N0} flows scored in {Counters.Batches:N0} batches ({Counters.Redelivered:N0} redelivered), {Counters.AlertsPublished:N0} alerts published; lag {Counters.LagPending} batch(es) waiting, {Counters.LagAckPending} unacknowledged; model {Short(_model.Current.Sha256)}"));
                await Task.Delay(_options.StatusInterval, _time, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The worker stopped.
        }
    }

    private static string Short(string? sha) => sha is null ? "-" : sha[..Math.Min(12, sha.Length)];
}

/// <summary>
/// One scored batch as the result stream records it: which flows (stream and lines), by which worker and model, on
/// which delivery, and the ids of its alerts. JSON, snake_case.
/// </summary>
public sealed record BatchResult(
    string BatchId,
    string Sensor,
    string Stream,
    int Flows,
    IReadOnlyList<long> Lines,
    IReadOnlyList<string> AlertIds,
    string Worker,
    string ModelSha256,
    uint Delivery,
    DateTimeOffset ScoredAt)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Parses a result message.</summary>
    public static BatchResult Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<BatchResult>(json, Json) ?? throw new InvalidDataException("a batch result is JSON null.");

    internal static byte[] Serialize(FlowMessage batch, string worker, string sha, uint delivery, string[] alertIds, DateTimeOffset now)
    {
        var lines = new long[batch.Flows.Count];
        Array.Copy(batch.Flows.Lines, lines, lines.Length);
        var result = new BatchResult(batch.BatchId, batch.Sensor, batch.Stream, batch.Flows.Count, lines, alertIds, worker, sha, delivery, now);
        var buffer = new ArrayBufferWriter<byte>(256 + (lines.Length * 8));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, result, Json);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
