using Stakeout.Core;
using Stakeout.Detection;

namespace Stakeout.Dashboard.Tests;

internal static class Fixtures
{
    public static readonly DateTimeOffset T0 = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    public static DashboardAlert Alert(string signature = "DDoS", string src = "10.0.0.1", int severity = 1, DateTimeOffset? at = null, long count = 1, string dst = "192.168.10.50", int dstPort = 80) => new()
    {
        Timestamp = at ?? T0,
        Signature = signature,
        Category = LabelTaxonomy.TryResolveKnown(signature, out var d) ? d.Family : signature,
        Severity = severity,
        Score = 0.9,
        Count = count,
        SourceIp = src,
        SourcePort = 40000,
        DestinationIp = dst,
        DestinationPort = dstPort,
        Protocol = "TCP",
        FirstSeen = "2017-07-07T15:56:00.000000",
        LastSeen = "2017-07-07T15:56:00.000000",
        Explanation = [new DashboardContribution("Flow Duration", "120", 1.25)],
    };

    public static Alert DetectionAlert(string signature = "DDoS") => new()
    {
        Timestamp = T0,
        FlowId = 12345,
        Identity = new FlowIdentity(IpAddressValue.From(System.Net.IPAddress.Parse("172.16.0.1")), 49650, IpAddressValue.From(System.Net.IPAddress.Parse("192.168.10.50")), 80, 6, new DateTime(2017, 7, 7, 15, 56, 0, DateTimeKind.Unspecified)),
        SourceFlowId = "172.16.0.1-192.168.10.50-49650-80-6",
        Signature = signature,
        Category = "DDoS",
        Severity = 1,
        Score = 0.987654,
        Explanation = [new FeatureContribution("Flow Duration", 1.5f, 0.75), new FeatureContribution("Flow Bytes/s", float.PositiveInfinity, -0.25)],
        Count = 3,
        FirstSeen = new DateTime(2017, 7, 7, 15, 56, 0, DateTimeKind.Unspecified),
        LastSeen = new DateTime(2017, 7, 7, 15, 57, 0, DateTimeKind.Unspecified),
        Stream = "tcp://127.0.0.1:5140#1",
        Line = 42,
        ModelSha256 = new string('a', 64),
    };
}
