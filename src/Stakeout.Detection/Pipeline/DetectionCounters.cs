using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Stakeout.Detection;

/// <summary>Why a flow that came in was not scored although it was read (the reader's reasons plus the pipeline's).</summary>
public static class DropReasons
{
    /// <summary>Dropped by the drop-oldest backpressure policy.</summary>
    public const string Backpressure = "backpressure";

    /// <summary>Still queued, or still being handed over by a source, when the shutdown bound ran out.</summary>
    public const string ShutdownTimeout = "shutdown_timeout";

    /// <summary>A non-finite feature under the reader's drop policy.</summary>
    public const string NonFinite = "non_finite";

    /// <summary>An exact duplicate under the reader's drop policy.</summary>
    public const string Duplicate = "duplicate";
}

/// <summary>Why a row was rejected by the pipeline itself (besides the reader's <c>RejectReason</c> codes).</summary>
public static class PipelineRejectReasons
{
    /// <summary>The stream ended in the middle of a row (a sender disconnected, a file was truncated or rotated).</summary>
    public const string IncompleteLine = "incomplete_line";

    /// <summary>A JSON line that is not an object of scalar values, or that names a column the stream's first row lacked.</summary>
    public const string InvalidJson = "invalid_json";
}

/// <summary>
/// The pipeline's accounting, updated lock-free by its stages and read at any time (metrics, summaries). Once the
/// pipeline has drained, <c>FlowsIn == FlowsScored + FlowsRejected + FlowsDropped</c> exactly.
/// </summary>
public sealed class DetectionCounters
{
    private long _flowsIn;
    private long _flowsScored;
    private long _alertFlows;
    private long _alertsEmitted;
    private long _suppressedAllowList;
    private long _batches;
    private long _streamsOpened;
    private long _streamsFailed;
    private long _reloads;
    private long _reloadFailures;

    /// <summary>Flows that came in: data lines read by text sources plus flows handed over parsed.</summary>
    public long FlowsIn => Volatile.Read(ref _flowsIn);

    /// <summary>Flows scored by the model.</summary>
    public long FlowsScored => Volatile.Read(ref _flowsScored);

    /// <summary>Rows that could not be read as flows, in all.</summary>
    public long FlowsRejected => Rejected.Values.Sum(v => Volatile.Read(ref v.Value));

    /// <summary>Flows read but not scored, in all.</summary>
    public long FlowsDropped => Dropped.Values.Sum(v => Volatile.Read(ref v.Value));

    /// <summary>Flows whose attack score reached the threshold and passed the allow-lists (before aggregation).</summary>
    public long AlertFlows => Volatile.Read(ref _alertFlows);

    /// <summary>Alert events handed to the sinks (after aggregation).</summary>
    public long AlertsEmitted => Volatile.Read(ref _alertsEmitted);

    /// <summary>Flows over the threshold that an allow-list suppressed.</summary>
    public long SuppressedByAllowList => Volatile.Read(ref _suppressedAllowList);

    /// <summary>Batches scored.</summary>
    public long Batches => Volatile.Read(ref _batches);

    /// <summary>Text streams whose header was accepted.</summary>
    public long StreamsOpened => Volatile.Read(ref _streamsOpened);

    /// <summary>Text streams refused (bad header, features the model needs are missing).</summary>
    public long StreamsFailed => Volatile.Read(ref _streamsFailed);

    /// <summary>Model swaps done.</summary>
    public long Reloads => Volatile.Read(ref _reloads);

    /// <summary>Reload attempts refused (artifact invalid or incompatible).</summary>
    public long ReloadFailures => Volatile.Read(ref _reloadFailures);

    /// <summary>Rejected rows by reason code.</summary>
    public ConcurrentDictionary<string, StrongBox<long>> Rejected { get; } = new(StringComparer.Ordinal);

    /// <summary>Dropped flows by reason code.</summary>
    public ConcurrentDictionary<string, StrongBox<long>> Dropped { get; } = new(StringComparer.Ordinal);

    /// <summary>Alerting flows by class.</summary>
    public ConcurrentDictionary<string, StrongBox<long>> AlertsByClass { get; } = new(StringComparer.Ordinal);

    /// <summary>Flows that came in and are not yet accounted for (queued or being processed).</summary>
    public long InFlight => FlowsIn - FlowsScored - FlowsRejected - FlowsDropped;

    internal void AddIn(long n) => Interlocked.Add(ref _flowsIn, n);

    internal void AddScored(long n) => Interlocked.Add(ref _flowsScored, n);

    internal void AddBatch() => Interlocked.Increment(ref _batches);

    internal void AddAlertFlow(string cls)
    {
        Interlocked.Increment(ref _alertFlows);
        Add(AlertsByClass, cls, 1);
    }

    internal void AddEmitted(long n) => Interlocked.Add(ref _alertsEmitted, n);

    internal void AddSuppressed() => Interlocked.Increment(ref _suppressedAllowList);

    internal void AddRejected(string reason, long n) => Add(Rejected, reason, n);

    internal void AddDropped(string reason, long n) => Add(Dropped, reason, n);

    internal void AddStreamOpened() => Interlocked.Increment(ref _streamsOpened);

    internal void AddStreamFailed() => Interlocked.Increment(ref _streamsFailed);

    internal void AddReload(bool ok)
    {
        if (ok)
        {
            Interlocked.Increment(ref _reloads);
        }
        else
        {
            Interlocked.Increment(ref _reloadFailures);
        }
    }

    /// <summary>A consistent-enough copy for reports (each value read once).</summary>
    public DetectionSnapshot Snapshot()
    {
        // Read the downstream counts before FlowsIn so a snapshot taken under load never shows more out than in.
        var rejected = Rejected.ToDictionary(kv => kv.Key, kv => Volatile.Read(ref kv.Value.Value), StringComparer.Ordinal);
        var dropped = Dropped.ToDictionary(kv => kv.Key, kv => Volatile.Read(ref kv.Value.Value), StringComparer.Ordinal);
        long scored = FlowsScored;
        return new DetectionSnapshot(
            FlowsIn,
            scored,
            rejected.Values.Sum(),
            dropped.Values.Sum(),
            rejected,
            dropped,
            AlertFlows,
            AlertsEmitted,
            SuppressedByAllowList,
            AlertsByClass.ToDictionary(kv => kv.Key, kv => Volatile.Read(ref kv.Value.Value), StringComparer.Ordinal));
    }

    private static void Add(ConcurrentDictionary<string, StrongBox<long>> map, string key, long n)
    {
        if (n == 0)
        {
            return;
        }

        var box = map.GetOrAdd(key, static _ => new StrongBox<long>());
        Interlocked.Add(ref box.Value, n);
    }
}

/// <summary>The pipeline's accounting at one moment.</summary>
/// <param name="FlowsIn">Flows that came in.</param>
/// <param name="FlowsScored">Flows scored.</param>
/// <param name="FlowsRejected">Rows rejected, in all.</param>
/// <param name="FlowsDropped">Flows dropped, in all.</param>
/// <param name="RejectedByReason">Rejected rows per reason code.</param>
/// <param name="DroppedByReason">Dropped flows per reason code.</param>
/// <param name="AlertFlows">Flows that alerted (before aggregation).</param>
/// <param name="AlertsEmitted">Alert events emitted (after aggregation).</param>
/// <param name="SuppressedByAllowList">Flows over the threshold suppressed by an allow-list.</param>
/// <param name="AlertsByClass">Alerting flows per class.</param>
public sealed record DetectionSnapshot(
    long FlowsIn,
    long FlowsScored,
    long FlowsRejected,
    long FlowsDropped,
    IReadOnlyDictionary<string, long> RejectedByReason,
    IReadOnlyDictionary<string, long> DroppedByReason,
    long AlertFlows,
    long AlertsEmitted,
    long SuppressedByAllowList,
    IReadOnlyDictionary<string, long> AlertsByClass)
{
    /// <summary>True when every flow that came in is scored, rejected or dropped.</summary>
    public bool Balanced => FlowsIn == FlowsScored + FlowsRejected + FlowsDropped;
}
