using System.Collections.Frozen;
using System.Text;

namespace Stakeout.Core;

/// <summary>The unit a feature is measured in, as CICFlowMeter computes it.</summary>
public enum FeatureUnit
{
    /// <summary>A TCP/UDP port number.</summary>
    Port,
    /// <summary>Microseconds.</summary>
    Microseconds,
    /// <summary>A packet count.</summary>
    Packets,
    /// <summary>Bytes (payload or header, as the description says).</summary>
    Bytes,
    /// <summary>Bytes per second.</summary>
    BytesPerSecond,
    /// <summary>Packets per second.</summary>
    PacketsPerSecond,
    /// <summary>A count of TCP flags or events.</summary>
    Count,
    /// <summary>A dimensionless ratio.</summary>
    Ratio,
}

/// <summary>One of the 78 CICFlowMeter features: its fixed index, canonical name, unit and the other spellings seen in the wild.</summary>
/// <param name="Index">Position in every <see cref="FlowBatch"/> row and in every model's input.</param>
/// <param name="Name">Canonical name: the CIC-IDS2017 MachineLearningCVE header, trimmed.</param>
/// <param name="Unit">Unit of measure.</param>
/// <param name="Description">What the feature measures.</param>
/// <param name="Aliases">Other header spellings (CICFlowMeter-V4 output, CSE-CIC-IDS2018).</param>
public sealed record FeatureDefinition(int Index, string Name, FeatureUnit Unit, string Description, IReadOnlyList<string> Aliases);

/// <summary>
/// The canonical CICFlowMeter feature table. Every flow row in Stakeout has exactly <see cref="Count"/> floats in this order,
/// whatever the layout of the file it came from; a feature a file lacks is NaN and is marked absent in that file's column map.
/// </summary>
public static class FeatureSchema
{
    /// <summary>Number of features: 78, as in CIC-IDS2017 (the duplicated "Fwd Header Length" column included).</summary>
    public const int Count = 78;

    /// <summary>Index of "Destination Port": a feature in CIC-IDS2017, but it names the service more than the behaviour.</summary>
    public const int DestinationPort = 0;

    /// <summary>Index of "Flow Duration" (µs).</summary>
    public const int FlowDuration = 1;

    /// <summary>Index of "Total Fwd Packets".</summary>
    public const int TotalFwdPackets = 2;

    /// <summary>Index of "Total Backward Packets".</summary>
    public const int TotalBackwardPackets = 3;

    /// <summary>Index of "Fwd Header Length".</summary>
    public const int FwdHeaderLength = 34;

    /// <summary>Index of the duplicated "Fwd Header Length" column ("Fwd Header Length.1" after a pandas re-save).</summary>
    public const int FwdHeaderLengthDuplicate = 55;

    /// <summary>Index of "Init_Win_bytes_forward".</summary>
    public const int InitWinBytesForward = 66;

    /// <summary>Index of "Init_Win_bytes_backward".</summary>
    public const int InitWinBytesBackward = 67;

    private static readonly FeatureDefinition[] Table =
    [
        F(0, "Destination Port", FeatureUnit.Port, "Destination (responder) port of the flow's first packet.", "Dst Port"),
        F(1, "Flow Duration", FeatureUnit.Microseconds, "Time from the first to the last packet of the flow."),
        F(2, "Total Fwd Packets", FeatureUnit.Packets, "Packets in the forward direction.", "Total Fwd Packet", "Tot Fwd Pkts"),
        F(3, "Total Backward Packets", FeatureUnit.Packets, "Packets in the backward direction.", "Total Bwd packets", "Tot Bwd Pkts"),
        F(4, "Total Length of Fwd Packets", FeatureUnit.Bytes, "Payload bytes in the forward direction.", "Total Length of Fwd Packet", "TotLen Fwd Pkts"),
        F(5, "Total Length of Bwd Packets", FeatureUnit.Bytes, "Payload bytes in the backward direction.", "Total Length of Bwd Packet", "TotLen Bwd Pkts"),
        F(6, "Fwd Packet Length Max", FeatureUnit.Bytes, "Largest forward payload.", "Fwd Pkt Len Max"),
        F(7, "Fwd Packet Length Min", FeatureUnit.Bytes, "Smallest forward payload.", "Fwd Pkt Len Min"),
        F(8, "Fwd Packet Length Mean", FeatureUnit.Bytes, "Mean forward payload.", "Fwd Pkt Len Mean"),
        F(9, "Fwd Packet Length Std", FeatureUnit.Bytes, "Standard deviation of forward payloads.", "Fwd Pkt Len Std"),
        F(10, "Bwd Packet Length Max", FeatureUnit.Bytes, "Largest backward payload.", "Bwd Pkt Len Max"),
        F(11, "Bwd Packet Length Min", FeatureUnit.Bytes, "Smallest backward payload.", "Bwd Pkt Len Min"),
        F(12, "Bwd Packet Length Mean", FeatureUnit.Bytes, "Mean backward payload.", "Bwd Pkt Len Mean"),
        F(13, "Bwd Packet Length Std", FeatureUnit.Bytes, "Standard deviation of backward payloads.", "Bwd Pkt Len Std"),
        F(14, "Flow Bytes/s", FeatureUnit.BytesPerSecond, "Payload bytes per second; Infinity or NaN when the duration is 0 (CICFlowMeter divides unguarded).", "Flow Byts/s"),
        F(15, "Flow Packets/s", FeatureUnit.PacketsPerSecond, "Packets per second; Infinity when the duration is 0.", "Flow Pkts/s"),
        F(16, "Flow IAT Mean", FeatureUnit.Microseconds, "Mean inter-arrival time, both directions."),
        F(17, "Flow IAT Std", FeatureUnit.Microseconds, "Standard deviation of inter-arrival times."),
        F(18, "Flow IAT Max", FeatureUnit.Microseconds, "Largest inter-arrival time."),
        F(19, "Flow IAT Min", FeatureUnit.Microseconds, "Smallest inter-arrival time."),
        F(20, "Fwd IAT Total", FeatureUnit.Microseconds, "Sum of forward inter-arrival times.", "Fwd IAT Tot"),
        F(21, "Fwd IAT Mean", FeatureUnit.Microseconds, "Mean forward inter-arrival time."),
        F(22, "Fwd IAT Std", FeatureUnit.Microseconds, "Standard deviation of forward inter-arrival times."),
        F(23, "Fwd IAT Max", FeatureUnit.Microseconds, "Largest forward inter-arrival time."),
        F(24, "Fwd IAT Min", FeatureUnit.Microseconds, "Smallest forward inter-arrival time."),
        F(25, "Bwd IAT Total", FeatureUnit.Microseconds, "Sum of backward inter-arrival times.", "Bwd IAT Tot"),
        F(26, "Bwd IAT Mean", FeatureUnit.Microseconds, "Mean backward inter-arrival time."),
        F(27, "Bwd IAT Std", FeatureUnit.Microseconds, "Standard deviation of backward inter-arrival times."),
        F(28, "Bwd IAT Max", FeatureUnit.Microseconds, "Largest backward inter-arrival time."),
        F(29, "Bwd IAT Min", FeatureUnit.Microseconds, "Smallest backward inter-arrival time."),
        F(30, "Fwd PSH Flags", FeatureUnit.Count, "Forward packets with PSH set."),
        F(31, "Bwd PSH Flags", FeatureUnit.Count, "Backward packets with PSH set."),
        F(32, "Fwd URG Flags", FeatureUnit.Count, "Forward packets with URG set."),
        F(33, "Bwd URG Flags", FeatureUnit.Count, "Backward packets with URG set."),
        F(34, "Fwd Header Length", FeatureUnit.Bytes, "Sum of forward L4 header lengths.", "Fwd Header Len"),
        F(35, "Bwd Header Length", FeatureUnit.Bytes, "Sum of backward L4 header lengths.", "Bwd Header Len"),
        F(36, "Fwd Packets/s", FeatureUnit.PacketsPerSecond, "Forward packets per second.", "Fwd Pkts/s"),
        F(37, "Bwd Packets/s", FeatureUnit.PacketsPerSecond, "Backward packets per second.", "Bwd Pkts/s"),
        F(38, "Min Packet Length", FeatureUnit.Bytes, "Smallest payload, both directions.", "Packet Length Min", "Pkt Len Min"),
        F(39, "Max Packet Length", FeatureUnit.Bytes, "Largest payload, both directions.", "Packet Length Max", "Pkt Len Max"),
        F(40, "Packet Length Mean", FeatureUnit.Bytes, "Mean payload, both directions.", "Pkt Len Mean"),
        F(41, "Packet Length Std", FeatureUnit.Bytes, "Standard deviation of payloads.", "Pkt Len Std"),
        F(42, "Packet Length Variance", FeatureUnit.Bytes, "Variance of payloads (bytes squared).", "Pkt Len Var"),
        F(43, "FIN Flag Count", FeatureUnit.Count, "Packets with FIN set.", "FIN Flag Cnt"),
        F(44, "SYN Flag Count", FeatureUnit.Count, "Packets with SYN set.", "SYN Flag Cnt"),
        F(45, "RST Flag Count", FeatureUnit.Count, "Packets with RST set.", "RST Flag Cnt"),
        F(46, "PSH Flag Count", FeatureUnit.Count, "Packets with PSH set.", "PSH Flag Cnt"),
        F(47, "ACK Flag Count", FeatureUnit.Count, "Packets with ACK set.", "ACK Flag Cnt"),
        F(48, "URG Flag Count", FeatureUnit.Count, "Packets with URG set.", "URG Flag Cnt"),
        F(49, "CWE Flag Count", FeatureUnit.Count, "Packets with CWR set (CICFlowMeter spells it CWE).", "CWR Flag Count"),
        F(50, "ECE Flag Count", FeatureUnit.Count, "Packets with ECE set.", "ECE Flag Cnt"),
        F(51, "Down/Up Ratio", FeatureUnit.Ratio, "Backward over forward packets, an integer division in CICFlowMeter-V4."),
        F(52, "Average Packet Size", FeatureUnit.Bytes, "Mean payload per packet.", "Pkt Size Avg"),
        F(53, "Avg Fwd Segment Size", FeatureUnit.Bytes, "Mean forward payload.", "Fwd Segment Size Avg", "Fwd Seg Size Avg"),
        F(54, "Avg Bwd Segment Size", FeatureUnit.Bytes, "Mean backward payload.", "Bwd Segment Size Avg", "Bwd Seg Size Avg"),
        F(55, "Fwd Header Length.1", FeatureUnit.Bytes, "The CSV writer's second copy of Fwd Header Length; equal to it whenever both are present."),
        F(56, "Fwd Avg Bytes/Bulk", FeatureUnit.Bytes, "Forward bulk bytes (always 0 in CICFlowMeter-V4).", "Fwd Bytes/Bulk Avg", "Fwd Byts/b Avg"),
        F(57, "Fwd Avg Packets/Bulk", FeatureUnit.Packets, "Forward bulk packets (always 0 in CICFlowMeter-V4).", "Fwd Packet/Bulk Avg", "Fwd Pkts/b Avg"),
        F(58, "Fwd Avg Bulk Rate", FeatureUnit.BytesPerSecond, "Forward bulk rate (always 0 in CICFlowMeter-V4).", "Fwd Bulk Rate Avg", "Fwd Blk Rate Avg"),
        F(59, "Bwd Avg Bytes/Bulk", FeatureUnit.Bytes, "Backward bulk bytes.", "Bwd Bytes/Bulk Avg", "Bwd Byts/b Avg"),
        F(60, "Bwd Avg Packets/Bulk", FeatureUnit.Packets, "Backward bulk packets.", "Bwd Packet/Bulk Avg", "Bwd Pkts/b Avg"),
        F(61, "Bwd Avg Bulk Rate", FeatureUnit.BytesPerSecond, "Backward bulk rate.", "Bwd Bulk Rate Avg", "Bwd Blk Rate Avg"),
        F(62, "Subflow Fwd Packets", FeatureUnit.Packets, "Forward packets per subflow.", "Subflow Fwd Pkts"),
        F(63, "Subflow Fwd Bytes", FeatureUnit.Bytes, "Forward bytes per subflow.", "Subflow Fwd Byts"),
        F(64, "Subflow Bwd Packets", FeatureUnit.Packets, "Backward packets per subflow.", "Subflow Bwd Pkts"),
        F(65, "Subflow Bwd Bytes", FeatureUnit.Bytes, "Backward bytes per subflow.", "Subflow Bwd Byts"),
        F(66, "Init_Win_bytes_forward", FeatureUnit.Bytes, "TCP window of the first forward packet; -1 when none was seen.", "FWD Init Win Bytes", "Init Fwd Win Byts"),
        F(67, "Init_Win_bytes_backward", FeatureUnit.Bytes, "TCP window of the backward direction (the last one seen, in CICFlowMeter-V4); -1 when none.", "Bwd Init Win Bytes", "Init Bwd Win Byts"),
        F(68, "act_data_pkt_fwd", FeatureUnit.Packets, "Forward packets with payload (the first packet not counted).", "Fwd Act Data Pkts", "Fwd Act Data Pkt"),
        F(69, "min_seg_size_forward", FeatureUnit.Bytes, "Smallest forward TCP header length.", "Fwd Seg Size Min"),
        F(70, "Active Mean", FeatureUnit.Microseconds, "Mean time a flow was active before going idle."),
        F(71, "Active Std", FeatureUnit.Microseconds, "Standard deviation of active times."),
        F(72, "Active Max", FeatureUnit.Microseconds, "Longest active time."),
        F(73, "Active Min", FeatureUnit.Microseconds, "Shortest active time."),
        F(74, "Idle Mean", FeatureUnit.Microseconds, "Mean idle time."),
        F(75, "Idle Std", FeatureUnit.Microseconds, "Standard deviation of idle times."),
        F(76, "Idle Max", FeatureUnit.Microseconds, "Longest idle time."),
        F(77, "Idle Min", FeatureUnit.Microseconds, "Shortest idle time."),
    ];

    private static readonly FrozenDictionary<string, int> ByKey = BuildKeyIndex();

    /// <summary>All features in canonical order.</summary>
    public static IReadOnlyList<FeatureDefinition> Features => Table;

    /// <summary>The feature at <paramref name="index"/>.</summary>
    public static FeatureDefinition Get(int index) => Table[Guard.InRange(index, 0, Count - 1)];

    /// <summary>Canonical names in order.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Table, f => f.Name);

    /// <summary>
    /// Finds a feature by any known spelling. Case, spaces, underscores and punctuation are ignored, so
    /// " Flow Bytes/s", "flow_bytes_s" and "Flow Bytes/s" all resolve. The pandas suffix ".1" is not stripped here:
    /// "Fwd Header Length.1" is a name of its own.
    /// </summary>
    public static bool TryResolve(ReadOnlySpan<char> name, out int index) => ByKey.TryGetValue(NormalizeKey(name), out index);

    /// <summary>The lookup key of a header name: lower-case letters and digits only.</summary>
    public static string NormalizeKey(ReadOnlySpan<char> name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                sb.Append(char.ToLowerInvariant(c));
            }
        }

        return sb.ToString();
    }

    private static FeatureDefinition F(int index, string name, FeatureUnit unit, string description, params string[] aliases)
        => new(index, name, unit, description, aliases);

    private static FrozenDictionary<string, int> BuildKeyIndex()
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Table.Length; i++)
        {
            if (Table[i].Index != i)
            {
                throw new InvalidOperationException($"Feature table is out of order at {i}: {Table[i].Name} says {Table[i].Index}.");
            }

            foreach (string spelling in Table[i].Aliases.Prepend(Table[i].Name))
            {
                string key = NormalizeKey(spelling);
                if (map.TryGetValue(key, out int other) && other != i)
                {
                    throw new InvalidOperationException($"Feature spelling '{spelling}' is ambiguous: {Table[other].Name} and {Table[i].Name}.");
                }

                map[key] = i;
            }
        }

        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
