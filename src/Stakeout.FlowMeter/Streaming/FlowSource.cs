namespace Stakeout.FlowMeter.Streaming;

/// <summary>Where packets come from: a capture file or a live interface.</summary>
/// <param name="IsLive">True for a network interface.</param>
/// <param name="Target">The file path or the interface name.</param>
public sealed record FlowSource(bool IsLive, string Target)
{
    /// <summary>Parses <c>pcap:FILE</c> (pcap or pcapng) or <c>iface:NAME</c>; the message says which form was expected.</summary>
    public static FlowSource Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        if (text.StartsWith("pcap:", StringComparison.Ordinal) && text.Length > 5)
        {
            return new FlowSource(false, text[5..]);
        }

        if (text.StartsWith("iface:", StringComparison.Ordinal) && text.Length > 6)
        {
            return new FlowSource(true, text[6..]);
        }

        throw new ArgumentException($"source '{text}' must be pcap:FILE or iface:NAME.", nameof(text));
    }

    /// <inheritdoc/>
    public override string ToString() => (IsLive ? "iface:" : "pcap:") + Target;
}

/// <summary>Options of a flow feed, on top of the meter's own.</summary>
public sealed record FlowFeedOptions
{
    /// <summary>The meter's options (mode, timeouts, table bound, interim reports of long flows).</summary>
    public Flows.FlowMeterOptions Meter { get; init; } = new();

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; init; } = 1024;

    /// <summary>A partial batch is handed over after this long without filling (live sources), so flows are scored promptly.</summary>
    public TimeSpan MaxBatchDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Batches buffered between the capture thread and the consumer; when full the capture waits (a file) or the kernel drops (live, counted).</summary>
    public int ChannelCapacity { get; init; } = 16;

    /// <summary>Live only: a BPF filter, e.g. <c>tcp port 80</c>.</summary>
    public string? CaptureFilter { get; init; }

    /// <summary>Live only: bytes kept per packet (headers are enough for flow features).</summary>
    public int SnapLength { get; init; } = 262144;

    /// <summary>Throws with the option's name when a value is out of range.</summary>
    public void Validate()
    {
        Meter.Validate();
        if (BatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        }

        if (MaxBatchDelay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchDelay), MaxBatchDelay, "MaxBatchDelay must be positive.");
        }

        if (ChannelCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ChannelCapacity), ChannelCapacity, "ChannelCapacity must be at least 1.");
        }

        if (SnapLength < 96)
        {
            throw new ArgumentOutOfRangeException(nameof(SnapLength), SnapLength, "SnapLength must be at least 96 bytes to hold the headers.");
        }
    }
}
