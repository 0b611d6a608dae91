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

/// <summary>The order in which the flows of one capture are reported (and written).</summary>
public enum FlowOrder
{
    /// <summary>
    /// As each flow ends: at its FIN or RST, when a sweep of the packet clock finds it past its flow timeout, then at the
    /// end of the capture oldest first. What live detection wants: a flow is scored as soon as it is over.
    /// </summary>
    AsEnded,

    /// <summary>
    /// The order of CICFlowMeter-V4's GUI (ReadPcapFileWorker + FlowOfflinePane in be803cb), which wrote the published
    /// reference CSVs: first the flows still open at the end of the capture, in the order V4's
    /// <c>HashMap&lt;String, BasicFlow&gt;</c> iterates them (bucket of the Flow ID's Java hash, then insertion order); then
    /// the flows that a packet ended (a FIN, or the first packet past the flow timeout, which starts the next flow under
    /// the same key), in the order they ended. The GUI hands ended flows to a writer thread through Swing's event queue
    /// while the reading thread writes the open flows at once, so on a short capture the open flows land first. There
    /// is no sweep: a timed-out flow waits for its next packet or the end. CicFlowMeter mode only.
    /// </summary>
    CicFlowMeter,

    /// <summary>
    /// The order of CICFlowMeter-V4's command line (Cmd in be803cb), which writes each ended flow at once: the flows a
    /// packet ended, in that order, then the flows still open at the end in V4's HashMap order. CicFlowMeter mode only.
    /// </summary>
    CicFlowMeterCommandLine,
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

    /// <summary>
    /// The order flows are reported in. The two CICFlowMeter orders (what `stakeout flows` uses in cicflowmeter mode)
    /// make a CSV that lines up row for row with V4's; they hold a timed-out flow until its conversation's next packet
    /// or the end of the capture, as V4 does. The meter itself reports ended flows as they end in both; putting the open
    /// flows first (<see cref="FlowOrder.CicFlowMeter"/>) is the CSV writer's job.
    /// </summary>
    public FlowOrder Order { get; init; } = FlowOrder.AsEnded;

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

        if (!Enum.IsDefined(Order))
        {
            throw new ArgumentOutOfRangeException(nameof(Order), Order, "Order must be AsEnded, CicFlowMeter or CicFlowMeterCommandLine.");
        }

        if (Order != FlowOrder.AsEnded && Mode != FlowMeterMode.CicFlowMeter)
        {
            throw new ArgumentException($"Order {Order} (V4's file order) needs Mode CicFlowMeter: corrected flows end differently, so V4's order does not apply.", nameof(Order));
        }
    }
}
