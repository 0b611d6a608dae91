using System.Text;
using Stakeout.Core;

namespace Stakeout.Detection.Tests;

public sealed class AlertTests
{
    private static Alert Sample(FlowIdentity? identity = null, float value = 150f) => new()
    {
        Timestamp = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero),
        FlowId = FlowIds.Compute(identity ?? FlowIdentity.Empty, new float[FeatureSchema.Count]),
        Identity = identity ?? FlowIdentity.Empty,
        Signature = "DDoS",
        Category = "DDoS",
        Severity = 2,
        Score = 0.97,
        Explanation = [new FeatureContribution("Total Fwd Packets", value, 2.5), new FeatureContribution("Flow Bytes/s", float.PositiveInfinity, -0.1)],
        FirstSeen = new DateTime(2017, 7, 7, 15, 30, 0, DateTimeKind.Unspecified),
        LastSeen = new DateTime(2017, 7, 7, 15, 31, 0, DateTimeKind.Unspecified),
        Stream = "test",
        Line = 2,
    };

    [Fact]
    public void ToJson_FullIdentity_HeaderFieldsInSuricataOrderAndSchemaValid()
    {
        var identity = new FlowIdentity(IpAddressValue.FromIPv4(0xAC100001), 4242, IpAddressValue.FromIPv4(0xC0A80A32), 80, 6, new DateTime(2017, 7, 7, 15, 30, 0));

        string json = EveWriter.ToJson(Sample(identity));

        var obj = AlertSchema.AssertValid(json);
        Assert.Equal(
            ["timestamp", "flow_id", "event_type", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "alert", "explanation", "count", "first_seen", "last_seen", "stakeout"],
            obj.Select(kv => kv.Key));
        Assert.Equal("2026-11-25T10:00:00.000000+0000", (string)obj["timestamp"]!);
        Assert.Equal("172.16.0.1", (string)obj["src_ip"]!);
        Assert.Equal("TCP", (string)obj["proto"]!);
        Assert.Equal("Infinity", (string)obj["explanation"]![1]!["value"]!);
        Assert.Equal("2017-07-07T15:30:00.000000", (string)obj["stakeout"]!["flow_start"]!);
    }

    [Fact]
    public void ToJson_NoIdentity_OmitsTupleAndStaysSchemaValid()
    {
        var obj = AlertSchema.AssertValid(EveWriter.ToJson(Sample()));

        Assert.False(obj.ContainsKey("src_ip"));
        Assert.False(obj.ContainsKey("proto"));
    }

    [Fact]
    public void SchemaValidation_UnknownField_IsRejected()
    {
        string json = EveWriter.ToJson(Sample());
        string extended = json[..^1] + ",\"extra\":1}";

        Assert.ThrowsAny<Exception>(() => AlertSchema.AssertValid(extended));
    }

    [Fact]
    public void FlowIdsCompute_SameFlow_SameIdWithin51Bits()
    {
        var identity = new FlowIdentity(IpAddressValue.FromIPv4(1), 1, IpAddressValue.FromIPv4(2), 2, 6, new DateTime(2017, 7, 7, 15, 30, 0));
        var features = Enumerable.Range(0, FeatureSchema.Count).Select(i => (float)i).ToArray();
        var other = (float[])features.Clone();
        other[5] = 999;

        long a = FlowIds.Compute(identity, features);
        long b = FlowIds.Compute(identity, features);
        long c = FlowIds.Compute(identity with { SourcePort = 3 }, features);
        long d = FlowIds.Compute(identity, other);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, d);
        Assert.InRange(a, 0, FlowIds.Mask);
        Assert.InRange(c, 0, FlowIds.Mask);
    }

    [Fact]
    public async Task RunAsync_RepeatedAlertsFromOneSource_AggregatedWithCountsThatSumToFlows()
    {
        var sink = new CollectingSink();
        var options = Pipelines.Options(o => o with { AggregationWindow = TimeSpan.FromMinutes(1) });
        var pipeline = new DetectionPipeline(new ModelHolder(ModelHandle.Create(new RuleScorer(), options, "m")), options, [sink], closeAggregatesOnClock: false);
        var rows = new List<string> { Csv.Header() };
        rows.AddRange(Enumerable.Range(0, 50).Select(i => Csv.Row(i, 150, source: "172.16.0.1", time: "7/7/2017 3:30")));
        rows.AddRange(Enumerable.Range(0, 5).Select(i => Csv.Row(100 + i, 150, source: "172.16.0.1", time: "7/7/2017 3:35")));
        rows.Add(Csv.Row(200, 150, source: "10.1.1.1", time: "7/7/2017 3:35"));
        rows.Add(Csv.Row(201, 5000, source: "172.16.0.1", time: "7/7/2017 3:35"));

        await pipeline.RunAsync([PiecesSource.FromText("ddos", Csv.Lines([.. rows]))]);

        var fromAttacker = sink.Alerts.Where(a => a.Identity.SourceIp.ToString() == "172.16.0.1" && a.Signature == "DDoS").ToList();
        // Window 1 (3:30): the first flow at once, 49 held; window 2 (3:35): first at once, 4 held.
        Assert.Equal([1L, 49L, 1L, 4L], fromAttacker.Select(a => a.Count));
        Assert.Equal(new DateTime(2017, 7, 7, 15, 30, 0), fromAttacker[1].FirstSeen);
        Assert.Equal(57, sink.Alerts.Sum(a => a.Count));
        Assert.Equal(57, pipeline.Counters.AlertFlows);
        Assert.Equal(sink.Alerts.Count, pipeline.Counters.AlertsEmitted);
        Assert.All(sink.Alerts, a => AlertSchema.AssertValid(EveWriter.ToJson(a)));
    }

    [Fact]
    public async Task RunAsync_AlertsWithoutSourceAddress_NeverAggregated()
    {
        var sink = new CollectingSink();
        var options = Pipelines.Options(o => o with { AggregationWindow = TimeSpan.FromMinutes(1) });
        var pipeline = Pipelines.Create(new RuleScorer(), options, sink);
        var rows = Enumerable.Range(0, 10).Select(i => Csv.Row(i, 150, identity: false)).Prepend(Csv.Header(identity: false)).ToArray();

        await pipeline.RunAsync([PiecesSource.FromText("mlcve", Csv.Lines(rows))]);

        Assert.Equal(10, sink.Alerts.Count);
        Assert.All(sink.Alerts, a => Assert.Equal(1, a.Count));
    }

    [Fact]
    public void ConsoleFormat_Alert_NamesClassScoreAndTuple()
    {
        var identity = new FlowIdentity(IpAddressValue.FromIPv4(0xAC100001), 4242, IpAddressValue.FromIPv4(0xC0A80A32), 80, 6, DateTime.MinValue);

        string line = ConsoleAlertSink.Format(Sample(identity) with { Count = 3 });

        Assert.Equal("ALERT sev 2 DDoS (DDoS) score 0.970 172.16.0.1:4242 -> 192.168.10.50:80 TCP x3", line);
    }

    [Fact]
    public void EveWriter_Lines_OneObjectPerLine()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        EveWriter.WriteLine(buffer, Sample());
        EveWriter.WriteLine(buffer, Sample(value: 3));

        var lines = Encoding.UTF8.GetString(buffer.WrittenSpan).Split('\n');

        Assert.Equal(3, lines.Length);
        Assert.Equal("", lines[2]);
        AlertSchema.AssertValid(lines[0]);
        AlertSchema.AssertValid(lines[1]);
    }
}
