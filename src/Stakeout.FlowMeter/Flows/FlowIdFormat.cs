using System.Globalization;
using Stakeout.Core;

namespace Stakeout.FlowMeter.Flows;

/// <summary>
/// CICFlowMeter's Flow ID, <c>src-dst-srcport-dstport-protocol</c> with the flow's forward endpoints, made from a
/// flow's identity: as text for the sinks that keep it, or as bytes straight into a CSV row.
/// </summary>
internal static class FlowIdFormat
{
    /// <summary>The longest Flow ID: two IPv6 addresses of 45 characters, two ports of 5, a protocol of 3, four dashes.</summary>
    public const int MaxBytes = 45 + 45 + 5 + 5 + 3 + 4;

    /// <summary>The Flow ID as text.</summary>
    public static string Text(in FlowIdentity id)
        => string.Create(CultureInfo.InvariantCulture, $"{id.SourceIp}-{id.DestinationIp}-{id.SourcePort}-{id.DestinationPort}-{id.Protocol}");

    /// <summary>
    /// Writes the Flow ID as ASCII into <paramref name="to"/> (at least <see cref="MaxBytes"/> long) and returns its
    /// length; <paramref name="sourceLength"/>, <paramref name="destinationStart"/> and <paramref name="destinationLength"/>
    /// locate the two addresses in it, which the CSV writer copies into its Src IP and Dst IP columns.
    /// </summary>
    public static int Write(Span<byte> to, in FlowIdentity id, out int sourceLength, out int destinationStart, out int destinationLength)
    {
        if (to.Length < MaxBytes)
        {
            throw new ArgumentException($"needs {MaxBytes} bytes, got {to.Length}", nameof(to));
        }

        id.SourceIp.TryFormat(to, out sourceLength);
        int n = sourceLength;
        to[n++] = (byte)'-';
        destinationStart = n;
        id.DestinationIp.TryFormat(to[n..], out destinationLength);
        n += destinationLength;
        to[n++] = (byte)'-';
        n += Int(to[n..], id.SourcePort);
        to[n++] = (byte)'-';
        n += Int(to[n..], id.DestinationPort);
        to[n++] = (byte)'-';
        n += Int(to[n..], id.Protocol);
        return n;
    }

    private static int Int(Span<byte> to, int v)
    {
        v.TryFormat(to, out int n, default, CultureInfo.InvariantCulture);
        return n;
    }
}
