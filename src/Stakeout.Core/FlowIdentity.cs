namespace Stakeout.Core;

/// <summary>
/// Who talked to whom in a flow, when: kept beside the features and never used as one. Fields a source lacks are
/// <see cref="IpAddressValue.None"/>, -1 or <see cref="DateTime.MinValue"/>.
/// </summary>
/// <param name="SourceIp">The flow's source (CICFlowMeter's forward direction).</param>
/// <param name="SourcePort">Source port, or -1.</param>
/// <param name="DestinationIp">The flow's destination.</param>
/// <param name="DestinationPort">Destination port, or -1.</param>
/// <param name="Protocol">IP protocol number (6 TCP, 17 UDP, ...), or -1.</param>
/// <param name="Timestamp">The flow's start as written by the source (local time of the capture; see the reader's docs).</param>
public readonly record struct FlowIdentity(
    IpAddressValue SourceIp,
    int SourcePort,
    IpAddressValue DestinationIp,
    int DestinationPort,
    short Protocol,
    DateTime Timestamp)
{
    /// <summary>An identity with nothing known.</summary>
    public static FlowIdentity Empty { get; } = new(IpAddressValue.None, -1, IpAddressValue.None, -1, -1, DateTime.MinValue);
}
