using System.Text.Json.Serialization;

namespace Stakeout.Dashboard;

/// <summary>One feature's part in an alert's score, as the page shows it.</summary>
/// <param name="Feature">Canonical feature name.</param>
/// <param name="Value">The flow's value as text ("NaN", "Infinity" kept as read).</param>
/// <param name="Contribution">Additive contribution to the class's raw score.</param>
public sealed record DashboardContribution(
    [property: JsonPropertyName("feature")] string Feature,
    [property: JsonPropertyName("value")] string Value,
    [property: JsonPropertyName("contribution")] double Contribution);

/// <summary>
/// An alert as the dashboard holds and sends it: the EVE fields a page needs, flattened. Built from a live
/// <see cref="Detection.Alert"/> or from a stored run's <c>alerts.json</c> line. Every string in it may come from the data
/// (or a hostile sender) and is rendered by the page as text only.
/// </summary>
public sealed record DashboardAlert
{
    /// <summary>The dashboard's own sequence number (the key of the detail page).</summary>
    [JsonPropertyName("id")] public long Id { get; init; }

    /// <summary>When the alert was emitted (UTC).</summary>
    [JsonPropertyName("timestamp")] public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The 51-bit EVE flow id.</summary>
    [JsonPropertyName("flow_id")] public long FlowId { get; init; }

    /// <summary>Source address ("" when the data has none).</summary>
    [JsonPropertyName("src_ip")] public string SourceIp { get; init; } = "";

    /// <summary>Source port (-1 when unknown).</summary>
    [JsonPropertyName("src_port")] public int SourcePort { get; init; } = -1;

    /// <summary>Destination address ("" when the data has none).</summary>
    [JsonPropertyName("dest_ip")] public string DestinationIp { get; init; } = "";

    /// <summary>Destination port (-1 when unknown).</summary>
    [JsonPropertyName("dest_port")] public int DestinationPort { get; init; } = -1;

    /// <summary>Protocol name (TCP, UDP, ...) or "".</summary>
    [JsonPropertyName("proto")] public string Protocol { get; init; } = "";

    /// <summary>The alert's class.</summary>
    [JsonPropertyName("signature")] public required string Signature { get; init; }

    /// <summary>The class's family.</summary>
    [JsonPropertyName("category")] public required string Category { get; init; }

    /// <summary>1 (high) to 3 (low).</summary>
    [JsonPropertyName("severity")] public int Severity { get; init; }

    /// <summary>Attack score 1 - P(benign).</summary>
    [JsonPropertyName("score")] public double Score { get; init; }

    /// <summary>Flows the alert stands for.</summary>
    [JsonPropertyName("count")] public long Count { get; init; } = 1;

    /// <summary>Event time of the first flow, as the EVE line writes it.</summary>
    [JsonPropertyName("first_seen")] public string FirstSeen { get; init; } = "";

    /// <summary>Event time of the last flow.</summary>
    [JsonPropertyName("last_seen")] public string LastSeen { get; init; } = "";

    /// <summary>The stream the representative flow came from.</summary>
    [JsonPropertyName("stream")] public string Stream { get; init; } = "";

    /// <summary>1-based line in the stream (0 when unknown).</summary>
    [JsonPropertyName("line")] public long Line { get; init; }

    /// <summary>The source's own "Flow ID" text, when it had one.</summary>
    [JsonPropertyName("source_flow_id")] public string? SourceFlowId { get; init; }

    /// <summary>SHA-256 of the model that scored it.</summary>
    [JsonPropertyName("model_sha256")] public string? ModelSha256 { get; init; }

    /// <summary>Top contributing features, largest |contribution| first.</summary>
    [JsonPropertyName("explanation")] public IReadOnlyList<DashboardContribution> Explanation { get; init; } = [];

    /// <summary>The colour of its class (from <see cref="Core.ClassPalette"/>).</summary>
    [JsonPropertyName("color")] public string Color { get; init; } = "";

    /// <summary>Source address as the top-talker key: the IP, or "(no address)".</summary>
    [JsonIgnore] public string SourceKey => SourceIp.Length > 0 ? SourceIp : NoAddress;

    /// <summary>Target as the top-talker key: ip:port, or "(no address)".</summary>
    [JsonIgnore] public string TargetKey => DestinationIp.Length == 0 ? NoAddress
        : DestinationPort >= 0 ? (DestinationIp.Contains(':', StringComparison.Ordinal) ? $"[{DestinationIp}]:{DestinationPort}" : $"{DestinationIp}:{DestinationPort}")
        : DestinationIp;

    /// <summary>The key used when the data names no address.</summary>
    public const string NoAddress = "(no address)";
}
