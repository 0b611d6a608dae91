using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>One feature's part in an alert's score: its value in the flow and its additive contribution to the class's raw score.</summary>
/// <param name="Feature">Canonical feature name.</param>
/// <param name="Value">The flow's value (may be non-finite, as read).</param>
/// <param name="Contribution">Additive contribution to the raw score (margin) of the alert's class.</param>
public sealed record FeatureContribution(string Feature, float Value, double Contribution);

/// <summary>Why a flow alerted.</summary>
public enum AlertReason
{
    /// <summary>The classifier's attack score reached its class's threshold; the anomaly score did not (or there is no anomaly model).</summary>
    Classifier,

    /// <summary>The classifier called it benign, but its anomaly score reached the anomaly threshold.</summary>
    Anomaly,

    /// <summary>Both did.</summary>
    Both,
}

/// <summary>Names used in alerts for <see cref="AlertReason"/>.</summary>
public static class AlertReasons
{
    /// <summary>Signature and category of an alert raised by the anomaly model alone.</summary>
    public const string AnomalySignature = "Anomaly";

    /// <summary>The EVE name of a reason: <c>classifier</c>, <c>anomaly</c> or <c>both</c>.</summary>
    public static string Name(AlertReason reason) => reason switch
    {
        AlertReason.Classifier => "classifier",
        AlertReason.Anomaly => "anomaly",
        AlertReason.Both => "both",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "unknown alert reason."),
    };
}

/// <summary>
/// An alert event: one flow (or, aggregated, several flows of one class from one source) whose attack score reached the
/// threshold. Written as one EVE JSON line by <see cref="EveWriter"/>.
/// </summary>
public sealed record Alert
{
    /// <summary>When the alert was emitted (the pipeline's clock, UTC).</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>51-bit flow id from the flow's start time and 5-tuple (see <see cref="FlowIds"/>).</summary>
    public required long FlowId { get; init; }

    /// <summary>Who talked to whom; fields the data lacks are empty.</summary>
    public required FlowIdentity Identity { get; init; }

    /// <summary>The source's own "Flow ID" text, when it had one.</summary>
    public string? SourceFlowId { get; init; }

    /// <summary>The alert's class (the most probable non-benign class).</summary>
    public required string Signature { get; init; }

    /// <summary>The class's family.</summary>
    public required string Category { get; init; }

    /// <summary>1 (high) to 3 (low), from the family.</summary>
    public required int Severity { get; init; }

    /// <summary>Attack score, 1 - P(benign), of the representative flow.</summary>
    public required double Score { get; init; }

    /// <summary>Why it alerted.</summary>
    public AlertReason Reason { get; init; } = AlertReason.Classifier;

    /// <summary>The classifier's most probable class for the flow (BENIGN included), or null when not known.</summary>
    public string? Class { get; init; }

    /// <summary>The probability of <see cref="Class"/>.</summary>
    public double? ClassProbability { get; init; }

    /// <summary>The flow's anomaly score, when the model has an anomaly model.</summary>
    public double? AnomalyScore { get; init; }

    /// <summary>The anomaly threshold in force, when the model has an anomaly model.</summary>
    public double? AnomalyThreshold { get; init; }

    /// <summary>The features that make the flow unusual (largest part of the anomaly score first); empty unless the anomaly score reached its threshold.</summary>
    public IReadOnlyList<FeatureContribution> Unusual { get; init; } = [];

    /// <summary>Top contributing features of the representative flow, largest |contribution| first.</summary>
    public IReadOnlyList<FeatureContribution> Explanation { get; init; } = [];

    /// <summary>Flows this alert stands for (1 unless aggregated).</summary>
    public long Count { get; init; } = 1;

    /// <summary>Event time of the first flow it stands for (flow start when the data has one, else the time it was received).</summary>
    public required DateTime FirstSeen { get; init; }

    /// <summary>Event time of the last flow it stands for.</summary>
    public required DateTime LastSeen { get; init; }

    /// <summary>The stream the representative flow came from (file, connection).</summary>
    public required string Stream { get; init; }

    /// <summary>1-based line of the representative flow in its stream (0 when not known).</summary>
    public long Line { get; init; }

    /// <summary>SHA-256 of the model artifact that scored it, when known.</summary>
    public string? ModelSha256 { get; init; }

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp at which the representative flow's bytes were received (for latency).</summary>
    public long ReceivedTimestamp { get; init; }
}
