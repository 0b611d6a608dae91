using System.Text.Json.Serialization;
using Stakeout.Ingest;

namespace Stakeout.Detection;

/// <summary>A count under a name (a source address, a target, a class).</summary>
/// <param name="Name">What is counted.</param>
/// <param name="Flows">Alerting flows.</param>
public sealed record NamedCount(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("flows")] long Flows);

/// <summary>
/// What a detection run did, written as <c>summary.json</c> and shown on the console: the accounting (flows in =
/// scored + rejected + dropped), alerts by class, top sources and targets, the model, and each sink's health.
/// </summary>
public sealed record DetectionSummary
{
    /// <summary>Artifact path.</summary>
    [JsonPropertyName("model")] public required string Model { get; init; }

    /// <summary>Artifact SHA-256.</summary>
    [JsonPropertyName("model_sha256")] public string? ModelSha256 { get; init; }

    /// <summary>The model's classes.</summary>
    [JsonPropertyName("classes")] public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>Threshold in force for each class.</summary>
    [JsonPropertyName("thresholds")] public required IReadOnlyDictionary<string, double> Thresholds { get; init; }

    /// <summary>Flows that came in.</summary>
    [JsonPropertyName("flows_in")] public long FlowsIn { get; init; }

    /// <summary>Flows scored.</summary>
    [JsonPropertyName("flows_scored")] public long FlowsScored { get; init; }

    /// <summary>Rows rejected.</summary>
    [JsonPropertyName("flows_rejected")] public long FlowsRejected { get; init; }

    /// <summary>Flows dropped.</summary>
    [JsonPropertyName("flows_dropped")] public long FlowsDropped { get; init; }

    /// <summary>True when flows in = scored + rejected + dropped.</summary>
    [JsonPropertyName("balanced")] public bool Balanced { get; init; }

    /// <summary>Rejected rows per reason.</summary>
    [JsonPropertyName("rejected_by_reason")] public required IReadOnlyDictionary<string, long> RejectedByReason { get; init; }

    /// <summary>Dropped flows per reason.</summary>
    [JsonPropertyName("dropped_by_reason")] public required IReadOnlyDictionary<string, long> DroppedByReason { get; init; }

    /// <summary>Flows that alerted (before aggregation).</summary>
    [JsonPropertyName("alert_flows")] public long AlertFlows { get; init; }

    /// <summary>Alert events written (after aggregation).</summary>
    [JsonPropertyName("alerts_emitted")] public long AlertsEmitted { get; init; }

    /// <summary>Flows over the threshold that an allow-list silenced.</summary>
    [JsonPropertyName("suppressed_by_allow_list")] public long SuppressedByAllowList { get; init; }

    /// <summary>Alerting flows per class, largest first.</summary>
    [JsonPropertyName("alerts_by_class")] public required IReadOnlyList<NamedCount> AlertsByClass { get; init; }

    /// <summary>Top source addresses of alerting flows.</summary>
    [JsonPropertyName("top_sources")] public required IReadOnlyList<NamedCount> TopSources { get; init; }

    /// <summary>Top targets (address:port) of alerting flows.</summary>
    [JsonPropertyName("top_targets")] public required IReadOnlyList<NamedCount> TopTargets { get; init; }

    /// <summary>True when the data had address columns (otherwise no sources or targets can be named).</summary>
    [JsonPropertyName("data_has_addresses")] public bool DataHasAddresses { get; init; }

    /// <summary>Each sink's health.</summary>
    [JsonPropertyName("sinks")] public required IReadOnlyList<SinkSummary> Sinks { get; init; }

    /// <summary>The batch reader's report (detect only).</summary>
    [JsonPropertyName("read")] public ReadReport? Read { get; init; }

    /// <summary>The anomaly threshold in force, when the model has an anomaly model.</summary>
    [JsonPropertyName("anomaly_threshold")] public double? AnomalyThreshold { get; init; }

    /// <summary>Drift checks against the training profile (null when the model has none or they are off).</summary>
    [JsonPropertyName("drift")] public DriftSummary? Drift { get; init; }
    /// <summary>How the run ended once told to stop, and what the shutdown bound cut short (nothing when complete).</summary>
    [JsonPropertyName("shutdown")] public ShutdownReport Shutdown { get; init; } = ShutdownReport.NotStopped;

    /// <summary>Wall time of the run.</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; init; }

    /// <summary>Attack scores of every scored flow in 100 bins over [0, 1].</summary>
    [JsonPropertyName("attack_scores")] public AttackScoreCounts? AttackScores { get; init; }

    /// <summary>Builds the summary of a finished run.</summary>
    public static DetectionSummary From(DetectionPipeline pipeline, TimeSpan elapsed, ReadReport? read = null, int top = 10)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var s = pipeline.Counters.Snapshot();
        var model = pipeline.Model.Current;
        var classes = model.Scorer.Classes;
        var sources = pipeline.Statistics.TopSources(top);
        return new DetectionSummary
        {
            Model = model.Source,
            ModelSha256 = model.Sha256,
            Classes = classes,
            Thresholds = classes.Select((c, i) => (c, i)).Where(x => x.i != model.Scorer.BenignClassIndex).ToDictionary(x => x.c, x => model.Thresholds[x.i], StringComparer.Ordinal),
            FlowsIn = s.FlowsIn,
            FlowsScored = s.FlowsScored,
            FlowsRejected = s.FlowsRejected,
            FlowsDropped = s.FlowsDropped,
            Balanced = s.Balanced,
            RejectedByReason = s.RejectedByReason,
            DroppedByReason = s.DroppedByReason,
            AlertFlows = s.AlertFlows,
            AlertsEmitted = s.AlertsEmitted,
            SuppressedByAllowList = s.SuppressedByAllowList,
            AlertsByClass = [.. s.AlertsByClass.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new NamedCount(kv.Key, kv.Value))],
            TopSources = [.. sources.Select(kv => new NamedCount(kv.Key, kv.Value))],
            TopTargets = [.. pipeline.Statistics.TopTargets(top).Select(kv => new NamedCount(kv.Key, kv.Value))],
            DataHasAddresses = s.AlertFlows == 0 || sources.Count > 0,
            Sinks = [.. pipeline.SinkStatuses.Select(x => new SinkSummary(x.Name, x.Written, x.Failures, x.Overflow, x.Lost, x.LastError))],
            Read = read,
            AnomalyThreshold = model.Anomaly is null ? null : model.AnomalyThreshold,
            Drift = pipeline.Drift.Active ? pipeline.Drift.Summary() : null,
            Shutdown = pipeline.Shutdown,
            Seconds = Math.Round(elapsed.TotalSeconds, 3),
            AttackScores = pipeline.Scores.Snapshot(),
        };
    }
}

/// <summary>One sink's health at the end of a run.</summary>
/// <param name="Name">Sink name.</param>
/// <param name="Written">Alerts written.</param>
/// <param name="Failures">Failed attempts (retried).</param>
/// <param name="Overflow">Alerts dropped from its full buffer.</param>
/// <param name="Lost">Alerts unwritten at the drain timeout.</param>
/// <param name="LastError">Last failure, if it did not recover.</param>
public sealed record SinkSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("written")] long Written,
    [property: JsonPropertyName("failures")] long Failures,
    [property: JsonPropertyName("overflow")] long Overflow,
    [property: JsonPropertyName("lost")] long Lost,
    [property: JsonPropertyName("last_error")] string? LastError);
