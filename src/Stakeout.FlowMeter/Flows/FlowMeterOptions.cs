namespace Stakeout.FlowMeter.Flows;

/// <summary>How closely to follow CICFlowMeter.</summary>
public enum FlowMeterMode
{
    /// <summary>
    /// Reproduce CICFlowMeter-V4 as released (the build that produced the reference CSVs), quirks included, because
    /// models trained on its output depend on them. See docs/flow-meter.md for the full list.
    /// </summary>
    CicFlowMeter,

    /// <summary>
    /// Apply the corrections of Engelen, Rimmer and Joosen (2021): TCP termination by a state machine (both FINs and the
    /// final ACK, or RST) instead of the first FIN, flags counted on every packet and per direction, each packet counted
    /// once, per-direction bulk, first backward window, real subflows and active/idle periods; IPv6 and ICMP metered.
    /// </summary>
    Corrected,
}

/// <summary>Flow meter settings, validated once at construction of the meter.</summary>
public sealed record FlowMeterOptions
{
    /// <summary>Compatibility mode.</summary>
    public FlowMeterMode Mode { get; init; } = FlowMeterMode.CicFlowMeter;

    /// <summary>A flow ends when a packet arrives more than this long after the flow's first packet (CICFlowMeter: 120 s).</summary>
    public TimeSpan FlowTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>A gap longer than this ends an active period and starts an idle one (CICFlowMeter: 5 s).</summary>
    public TimeSpan ActivityTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Most flows held at once; the oldest is ended (and counted as evicted) to make room.</summary>
    public int MaxFlows { get; init; } = 1_000_000;

    /// <summary>
    /// When set, a flow that is still open is also reported every this often (packet time) with its features so far,
    /// so long flows can be scored before they end. Null: only ended flows are reported.
    /// </summary>
    public TimeSpan? EmitInterval { get; init; }

    /// <summary>Meter IPv6 (CICFlowMeter-V4 reads IPv4 only; null means: only in corrected mode).</summary>
    public bool? IncludeIPv6 { get; init; }

    internal bool MetersIPv6 => IncludeIPv6 ?? Mode == FlowMeterMode.Corrected;

    /// <summary>Throws with the option's name when a value is out of range.</summary>
    public void Validate()
    {
        if (FlowTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(FlowTimeout), FlowTimeout, "FlowTimeout must be positive.");
        }

        if (ActivityTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ActivityTimeout), ActivityTimeout, "ActivityTimeout must be positive.");
        }

        if (MaxFlows < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFlows), MaxFlows, "MaxFlows must be at least 1.");
        }

        if (EmitInterval is { } interval && interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(EmitInterval), interval, "EmitInterval must be positive when set.");
        }

        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Mode must be CicFlowMeter or Corrected.");
        }
    }
}
