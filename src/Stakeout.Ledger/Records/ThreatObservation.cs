namespace Stakeout.Ledger.Records;

/// <summary>One feature's part in the score: its value in the flow (null when not finite, see <see cref="ValueText"/>) and its contribution.</summary>
/// <param name="Feature">Canonical feature name.</param>
/// <param name="Value">The flow's value, when finite.</param>
/// <param name="ValueText">"NaN", "Infinity" or "-Infinity" when the value is not finite (JSON has no such numbers).</param>
/// <param name="Contribution">Additive contribution to the class's raw score.</param>
public sealed record ObservedContribution(string Feature, double? Value, string? ValueText, double Contribution);

/// <summary>
/// What the ledger records about one detected threat: the ledger's own input type, so it never depends on the detection
/// runtime. The CLI maps an alert (an EVE line or a live <c>Alert</c>) to it. Fields a source lacks are null.
/// </summary>
public sealed record ThreatObservation
{
    /// <summary>When the detector raised it (UTC).</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The 51-bit EVE flow id.</summary>
    public required long FlowId { get; init; }

    /// <summary>Source address (text), when the data had one.</summary>
    public string? SourceIp { get; init; }

    /// <summary>Source port.</summary>
    public int? SourcePort { get; init; }

    /// <summary>Destination address.</summary>
    public string? DestinationIp { get; init; }

    /// <summary>Destination port.</summary>
    public int? DestinationPort { get; init; }

    /// <summary>IP protocol as EVE names it (TCP, UDP, ICMP, IPv6-ICMP, or the number).</summary>
    public string? Protocol { get; init; }

    /// <summary>The class detected (e.g. DDoS, PortScan).</summary>
    public required string Signature { get; init; }

    /// <summary>The class's family.</summary>
    public required string Category { get; init; }

    /// <summary>1 (high) to 3 (low).</summary>
    public required int Severity { get; init; }

    /// <summary>Attack score, 1 - P(benign).</summary>
    public required double Score { get; init; }

    /// <summary>Top contributing features, largest first.</summary>
    public IReadOnlyList<ObservedContribution> Explanation { get; init; } = [];

    /// <summary>Flows the alert stands for (1 unless aggregated).</summary>
    public long Count { get; init; } = 1;

    /// <summary>First flow's event time, as the detector wrote it.</summary>
    public required string FirstSeen { get; init; }

    /// <summary>Last flow's event time, as written.</summary>
    public required string LastSeen { get; init; }

    /// <summary>The stream the flow came from (file, connection).</summary>
    public string? Stream { get; init; }

    /// <summary>1-based line of the flow in its stream.</summary>
    public long? Line { get; init; }

    /// <summary>The flow's start as the data wrote it, when known.</summary>
    public string? FlowStart { get; init; }

    /// <summary>The data's own flow id text ("Flow ID" column), when it had one.</summary>
    public string? SourceFlowId { get; init; }

    /// <summary>SHA-256 (hex) of the model artifact that scored it.</summary>
    public string? ModelSha256 { get; init; }
}
