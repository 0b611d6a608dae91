
namespace Stakeout.FlowMeter.Decoding;

/// <summary>
/// Why a packet or a capture record could not be used, named like Zeek's weird.log entries. Every packet that is not
/// turned into flow input is counted under exactly one of these names; nothing is dropped silently.
/// </summary>
public enum WeirdReason
{
    /// <summary>The capture ended in the middle of a record header or its data.</summary>
    TruncatedCaptureRecord,
    /// <summary>A pcap record claims more bytes than any capture can hold (corrupt length); reading stops there.</summary>
    CaptureRecordTooLong,
    /// <summary>A pcapng block is shorter than its header or its trailing length does not match.</summary>
    BadPcapngBlock,
    /// <summary>An enhanced packet block names an interface that no interface description block declared.</summary>
    PcapngUnknownInterface,
    /// <summary>The file's link type (DLT) has no decoder.</summary>
    UnsupportedLinkType,
    /// <summary>Fewer than 14 bytes of Ethernet header.</summary>
    TruncatedEthernetFrame,
    /// <summary>An 802.1Q/802.1ad tag cut short.</summary>
    TruncatedVlanHeader,
    /// <summary>A Linux cooked (SLL or SLL2) header cut short.</summary>
    TruncatedSllHeader,
    /// <summary>A BSD loopback (DLT_NULL) header cut short or with an unknown family.</summary>
    TruncatedNullHeader,
    /// <summary>An EtherType (or SLL protocol) that is neither IPv4, IPv6 nor a VLAN tag (ARP, LLDP, ...): not IP, not a flow.</summary>
    NonIpPacket,
    /// <summary>Fewer bytes than the fixed IPv4 header.</summary>
    TruncatedIPv4Header,
    /// <summary>The IP version nibble does not match the layer that was dispatched to.</summary>
    BadIPVersion,
    /// <summary>IPv4 header length below 20 bytes or beyond the captured bytes.</summary>
    BadIPv4HeaderLength,
    /// <summary>IPv4 total length smaller than its own header.</summary>
    BadIPv4TotalLength,
    /// <summary>Fewer bytes than the fixed 40-byte IPv6 header.</summary>
    TruncatedIPv6Header,
    /// <summary>An IPv6 extension header runs past the captured bytes.</summary>
    TruncatedIPv6ExtensionHeader,
    /// <summary>The TCP header is cut short by the capture.</summary>
    TruncatedTcpHeader,
    /// <summary>TCP data offset below 5 words or beyond the IP payload.</summary>
    BadTcpHeaderLength,
    /// <summary>The UDP header is cut short.</summary>
    TruncatedUdpHeader,
    /// <summary>The ICMP/ICMPv6 header is cut short.</summary>
    TruncatedIcmpHeader,
    /// <summary>IPv6 was seen but the mode leaves it out (CICFlowMeter-V4 reads IPv4 only).</summary>
    IPv6Ignored,
    /// <summary>A non-first IP fragment in corrected mode: no ports, and fragments are not reassembled.</summary>
    IPFragmentNotReassembled,
    /// <summary>An IP protocol other than TCP, UDP and ICMP in corrected mode, or over IPv6 in general: counted, not metered.</summary>
    UnsupportedIPProtocol,
    /// <summary>
    /// CICFlowMeter mode: a non-IPv4 Ethernet frame that V4 misreads as IPv4 from its first byte, metered as V4 does
    /// (counted here so the reader knows such flows exist).
    /// </summary>
    CicFlowMeterMisreadFrame,
}

/// <summary>Counts of <see cref="WeirdReason"/> plus the packet totals they are part of. One per pipeline: <see cref="Add"/> is atomic (the decoder and the flow table of a pipelined meter count from two threads); the totals belong to the reader side.</summary>
public sealed class WeirdCounters
{
    private static readonly WeirdReason[] AllReasons = Enum.GetValues<WeirdReason>();
    private static readonly string[] Names = AllReasons.Select(ToSnakeCase).ToArray(); // indexed by value, as the counts are
    private readonly long[] _counts = new long[AllReasons.Length];

    /// <summary>Capture records read (packets in the file or from the interface).</summary>
    public long Records { get; internal set; }

    /// <summary>Packets decoded into flow input.</summary>
    public long Decoded { get; internal set; }

    /// <summary>IPv4 packets that were fragments (first or later); they are still counted as decoded when used.</summary>
    public long IPv4Fragments { get; internal set; }

    /// <summary>Adds one to <paramref name="reason"/>.</summary>
    public void Add(WeirdReason reason) => Interlocked.Increment(ref _counts[(int)reason]);

    /// <summary>The count of <paramref name="reason"/>.</summary>
    public long this[WeirdReason reason] => _counts[(int)reason];

    /// <summary>Sum of all weird counts.</summary>
    public long Total => _counts.Sum();

    /// <summary>The Zeek-style name of a reason, e.g. <c>truncated_tcp_header</c>.</summary>
    public static string NameOf(WeirdReason reason) => Names[(int)reason];

    /// <summary>Non-zero counts by name, most frequent first.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Summary()
        => AllReasons.Where(r => _counts[(int)r] > 0)
            .OrderByDescending(r => _counts[(int)r])
            .Select(r => new KeyValuePair<string, long>(Names[(int)r], _counts[(int)r]))
            .ToList();

    /// <summary>Adds every count of <paramref name="other"/> to this one.</summary>
    public void Merge(WeirdCounters other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Records += other.Records;
        Decoded += other.Decoded;
        IPv4Fragments += other.IPv4Fragments;
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    private static string ToSnakeCase(WeirdReason reason)
    {
        string name = reason.ToString();
        var sb = new System.Text.StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool boundary = i > 0 && char.IsUpper(c) && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])));
            if (boundary)
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString().Replace("i_pv", "ipv", StringComparison.Ordinal).Replace("_i_p_", "_ip_", StringComparison.Ordinal);
    }
}
