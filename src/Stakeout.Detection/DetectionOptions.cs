using System.Net;
using Stakeout.Ingest;

namespace Stakeout.Detection;

/// <summary>What a full ingress queue does to a new flow.</summary>
public enum BackpressurePolicy
{
    /// <summary>Wait: sources stop reading (a TCP sender is slowed by the socket), nothing is dropped. The default.</summary>
    Block,
    /// <summary>Drop the oldest queued flows to make room, counting every one under <c>backpressure</c>.</summary>
    DropOldest,
}

/// <summary>
/// Options of the detection pipeline, validated once by <see cref="Validate"/> with an error naming the option.
/// Defaults suit a long-running monitor on a small machine.
/// </summary>
public sealed record DetectionOptions
{
    /// <summary>Flows per scoring batch. Default 256 (a batch's arrays stay off the large object heap).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Longest a flow waits for its batch to fill before the batch is scored anyway. Default 5 ms.</summary>
    public TimeSpan MaxBatchWait { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Capacity of each queue between stages, in items (an ingress item holds up to <see cref="MaxLinesPerItem"/> lines).
    /// Default 8: enough to keep every stage busy, small enough that queueing adds little latency (docs/benchmarks.md).
    /// </summary>
    public int QueueCapacity { get; init; } = 8;

    /// <summary>Most lines a source hands over in one item. Default 256.</summary>
    public int MaxLinesPerItem { get; init; } = 256;

    /// <summary>What a full ingress queue does. Default <see cref="BackpressurePolicy.Block"/>.</summary>
    public BackpressurePolicy Backpressure { get; init; } = BackpressurePolicy.Block;

    /// <summary>Alert threshold on the attack score; null means the model's manifest threshold.</summary>
    public double? Threshold { get; init; }

    /// <summary>Thresholds per class name, overriding <see cref="Threshold"/> for alerts of that class.</summary>
    public IReadOnlyDictionary<string, double> ClassThresholds { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>Networks whose flows never alert when they are the source.</summary>
    public IReadOnlyList<IPNetwork> AllowSources { get; init; } = [];

    /// <summary>Networks whose flows never alert when they are the destination.</summary>
    public IReadOnlyList<IPNetwork> AllowDestinations { get; init; } = [];

    /// <summary>
    /// Repeated alerts of one class from one source within this window become one aggregated alert; zero turns
    /// aggregation off (one alert per flow). Default 60 s.
    /// </summary>
    public TimeSpan AggregationWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Most aggregation groups open at once; past it the oldest group is closed early. Default 100,000.</summary>
    public int MaxAggregationGroups { get; init; } = 100_000;

    /// <summary>Features listed in an alert's explanation, largest contribution first. Default 5; 0 turns explanations off.</summary>
    public int ExplainTop { get; init; } = 5;

    /// <summary>Stop reading sources after this many flows have come in (0 = no limit).</summary>
    public long MaxFlows { get; init; }

    /// <summary>Alerts each sink may hold while it is failing before the oldest are dropped (and counted). Default 100,000.</summary>
    public int SinkBufferCapacity { get; init; } = 100_000;

    /// <summary>First retry delay of a failing sink; doubles per failure up to <see cref="SinkMaxBackoff"/>. Default 100 ms.</summary>
    public TimeSpan SinkInitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest retry delay of a failing sink. Default 10 s.</summary>
    public TimeSpan SinkMaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>At shutdown, how long failing sinks may keep retrying before their remaining alerts are counted as lost. Default 10 s.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest a run takes to end once its sources are told to stop (a signal, <c>--duration</c>, <c>--max-flows</c>):
    /// sources get half of it to finish the rows they are reading (one that does not is abandoned, e.g. a blocked
    /// read of stdin), then what is queued is scored and the sinks write and close in what is left. Whatever is still
    /// queued when it runs out is counted as dropped (<c>shutdown_timeout</c>) and named in <see cref="ShutdownReport"/>.
    /// Default 5 s.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How text streams are parsed (non-finite policy and the like); the same options as the batch reader.</summary>
    public FlowReaderOptions Reader { get; init; } = new();

    /// <summary>Raise `anomaly` alerts for flows the classifier calls benign but the anomaly model finds far outside benign traffic (models with an anomaly model only).</summary>
    public bool AnomalyAlerts { get; init; } = true;

    /// <summary>Overrides the artifact's anomaly threshold.</summary>
    public double? AnomalyThreshold { get; init; }

    /// <summary>Compare windows of flows with the artifact's training profile and warn on drift (models with a profile only); null turns it off.</summary>
    public Stakeout.Models.Drift.DriftOptions? Drift { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public DetectionOptions Validate()
    {
        Check(BatchSize is >= 1 and <= 65_536, nameof(BatchSize), $"must be between 1 and 65536; it was {BatchSize}");
        Check(MaxBatchWait >= TimeSpan.Zero && MaxBatchWait <= TimeSpan.FromMinutes(1), nameof(MaxBatchWait), $"must be between 0 and 1 minute; it was {MaxBatchWait}");
        Check(QueueCapacity is >= 1 and <= 1_000_000, nameof(QueueCapacity), $"must be between 1 and 1000000; it was {QueueCapacity}");
        Check(MaxLinesPerItem is >= 1 and <= 65_536, nameof(MaxLinesPerItem), $"must be between 1 and 65536; it was {MaxLinesPerItem}");
        Check(Enum.IsDefined(Backpressure), nameof(Backpressure), $"is not a known policy: {Backpressure}");
        Check(Threshold is null || (Threshold >= 0 && Threshold <= 1), nameof(Threshold), $"must be between 0 and 1; it was {Threshold}");
        foreach (var (name, value) in ClassThresholds)
        {
            Check(value is >= 0 and <= 1, nameof(ClassThresholds), $"for class '{name}' must be between 0 and 1; it was {value}");
        }

        Check(AggregationWindow >= TimeSpan.Zero, nameof(AggregationWindow), $"must not be negative; it was {AggregationWindow}");
        Check(MaxAggregationGroups >= 1, nameof(MaxAggregationGroups), $"must be at least 1; it was {MaxAggregationGroups}");
        Check(ExplainTop is >= 0 and <= 78, nameof(ExplainTop), $"must be between 0 and 78; it was {ExplainTop}");
        Check(MaxFlows >= 0, nameof(MaxFlows), $"must be 0 (no limit) or more; it was {MaxFlows}");
        Check(SinkBufferCapacity >= 1, nameof(SinkBufferCapacity), $"must be at least 1; it was {SinkBufferCapacity}");
        Check(SinkInitialBackoff > TimeSpan.Zero && SinkMaxBackoff >= SinkInitialBackoff, nameof(SinkMaxBackoff), "must be positive and at least the initial backoff");
        Check(DrainTimeout >= TimeSpan.Zero, nameof(DrainTimeout), $"must not be negative; it was {DrainTimeout}");
        Check(ShutdownTimeout > TimeSpan.Zero && ShutdownTimeout <= TimeSpan.FromHours(1), nameof(ShutdownTimeout), $"must be more than 0 and at most 1 hour; it was {ShutdownTimeout}");
        ArgumentNullException.ThrowIfNull(Reader);
        Reader.Validate();
        Check(AnomalyThreshold is null || double.IsFinite(AnomalyThreshold.Value), nameof(AnomalyThreshold), $"must be a finite number; it was {AnomalyThreshold}");
        Drift?.Validate();
        return this;
    }

    private static void Check(bool ok, string option, string problem)
    {
        if (!ok)
        {
            throw new ArgumentException($"{option} {problem}.", option);
        }
    }
}
