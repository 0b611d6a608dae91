using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using Stakeout.Core;
using Stakeout.Detection;

namespace Stakeout.Cluster;

/// <summary>What a sensor did: flows in = published + rejected + dropped once it has run.</summary>
/// <param name="Sensor">The sensor's id.</param>
/// <param name="FlowsIn">Flows read from the sources.</param>
/// <param name="FlowsPublished">Flows in batches JetStream acknowledged.</param>
/// <param name="FlowsRejected">Rows that could not be read as flows, by reason.</param>
/// <param name="FlowsDropped">Flows read but not published, by reason.</param>
/// <param name="Batches">Batches acknowledged.</param>
/// <param name="DuplicateAcks">Batches JetStream had already stored (a retried publish recognised by its id).</param>
/// <param name="Seconds">Wall time.</param>
public sealed record SensorReport(
    string Sensor,
    long FlowsIn,
    long FlowsPublished,
    IReadOnlyDictionary<string, long> FlowsRejected,
    IReadOnlyDictionary<string, long> FlowsDropped,
    long Batches,
    long DuplicateAcks,
    double Seconds)
{
    /// <summary>Every flow read is published, rejected or dropped.</summary>
    public bool Balanced => FlowsIn == FlowsPublished + FlowsRejected.Values.Sum() + FlowsDropped.Values.Sum();
}

/// <summary>
/// A sensor: reads flows from the detection runtime's sources (the same parsing and accounting as <c>monitor</c>),
/// cuts them into batches of <see cref="ClusterOptions.BatchSize"/> and publishes each to the flow stream on subject
/// <c>PREFIX.SENSOR</c> with <c>Nats-Msg-Id</c> = the batch id, so a publish retried after a lost acknowledgement is
/// stored once. A batch counts as published only once JetStream has acknowledged it (stored on a quorum of replicas).
/// </summary>
public sealed class ClusterSensor
{
    private readonly ClusterOptions _options;
    private readonly DetectionOptions _collect;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _run;
    private long _sequence;
    private long _published;
    private long _batches;
    private long _duplicates;

    /// <summary>Creates sensor <paramref name="sensorId"/> (one subject token: letters, digits, '-', '_').</summary>
    public ClusterSensor(ClusterOptions options, string sensorId, DetectionOptions? collect = null, ILogger? logger = null, TimeProvider? time = null)
    {
        _options = Guard.NotNull(options).Validate();
        if (!ClusterOptions.IsToken(sensorId))
        {
            throw new ArgumentException($"--sensor '{sensorId}' must be 1 to 64 letters, digits, '-' or '_' (it is a subject token).", nameof(sensorId));
        }

        SensorId = sensorId;
        _collect = collect ?? new DetectionOptions();
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        // A run id keeps batch ids unique across restarts of the same sensor (dedup ids and alert ids derive from them).
        _run = _time.GetUtcNow().ToUnixTimeMilliseconds().ToString("x", CultureInfo.InvariantCulture);
    }

    /// <summary>The sensor's id.</summary>
    public string SensorId { get; }

    /// <summary>The subject its batches are published on.</summary>
    public string Subject => _options.FlowSubjectPrefix + "." + SensorId;

    /// <summary>Flows acknowledged so far.</summary>
    public long Published => Volatile.Read(ref _published);

    /// <summary>Reads <paramref name="sources"/> to their end (or the flow limit, or <paramref name="stop"/>) and publishes every flow.</summary>
    public async Task<SensorReport> RunAsync(IReadOnlyList<IFlowSource> sources, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var clock = _time.GetTimestamp();
        await using var session = await NatsSession.ConnectAsync(_options, "sensor " + SensorId, _logger, _time, stop).ConfigureAwait(false);
        await session.EnsureStreamAsync(_options.FlowStream, _options.FlowSubjectPrefix, _options.FlowLimits, stop).ConfigureAwait(false);
        var collector = new FlowCollector(_collect with { BatchSize = _options.BatchSize }, _time, _logger);
        var inFlight = new Queue<Task>();
        using var status = new Timer(_ => ClusterLog.Status(_logger, "sensor " + SensorId, string.Create(CultureInfo.InvariantCulture, $"{collector.Counters.FlowsIn:N0} flows read, {Published:N0} published in {Volatile.Read(ref _batches):N0} batches")), null, _options.StatusInterval, _options.StatusInterval);
        try
        {
            await collector.RunAsync(
                sources,
                async (flows, stream, ct) =>
                {
                    for (int start = 0; start < flows.Count; start += _options.BatchSize)
                    {
                        int count = Math.Min(_options.BatchSize, flows.Count - start);
                        string batchId = string.Create(CultureInfo.InvariantCulture, $"{SensorId}.{_run}.{Interlocked.Increment(ref _sequence)}");
                        byte[] data = FlowBatchCodec.Encode(SensorId, batchId, stream, flows, start, count);
                        while (inFlight.Count >= _options.MaxPublishesInFlight)
                        {
                            await inFlight.Dequeue().ConfigureAwait(false);
                        }

                        inFlight.Enqueue(PublishAsync(session, batchId, data, count, ct));
                    }

                    // Flows count as handed over once their publishes are under way; a publish that fails for good
                    // surfaces at the next wait and stops the run (those flows are then not counted published).
                },
                stop).ConfigureAwait(false);
        }
        finally
        {
            while (inFlight.Count > 0)
            {
                await inFlight.Dequeue().ConfigureAwait(false);
            }
        }

        var c = collector.Counters.Snapshot();
        long published = Published;
        var dropped = new Dictionary<string, long>(c.DroppedByReason, StringComparer.Ordinal);
        long unpublished = collector.HandedOver - published;
        if (unpublished > 0)
        {
            dropped["publish_failed"] = dropped.GetValueOrDefault("publish_failed") + unpublished;
        }

        return new SensorReport(SensorId, c.FlowsIn, published, c.RejectedByReason, dropped, Volatile.Read(ref _batches), Volatile.Read(ref _duplicates), _time.GetElapsedTime(clock).TotalSeconds);
    }

    private async Task PublishAsync(NatsSession session, string batchId, byte[] data, int count, CancellationToken cancellationToken)
    {
        var headers = new NatsHeaders { [Headers.Sensor] = SensorId, [Headers.Flows] = count.ToString(CultureInfo.InvariantCulture) };
        bool duplicate = await session.PublishAsync(Subject, data, batchId, headers, cancellationToken).ConfigureAwait(false);
        if (duplicate)
        {
            Interlocked.Increment(ref _duplicates);
        }

        Interlocked.Add(ref _published, count);
        Interlocked.Increment(ref _batches);
    }
}

/// <summary>Header names Stakeout sets on its messages (besides <c>Nats-Msg-Id</c>).</summary>
internal static class Headers
{
    public const string Sensor = "Stakeout-Sensor";
    public const string Flows = "Stakeout-Flows";
    public const string AlertId = "Stakeout-Alert-Id";
    public const string BatchId = "Stakeout-Batch";
    public const string Model = "Stakeout-Model";
    public const string Worker = "Stakeout-Worker";
}
