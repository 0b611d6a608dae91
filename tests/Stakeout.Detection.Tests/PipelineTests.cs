using System.Net;
using System.Text;
using Stakeout.Core;

namespace Stakeout.Detection.Tests;

public sealed class PipelineTests
{
    [Fact]
    public async Task RunAsync_CsvStream_AlertsExactlyTheRowsTheRuleFlags()
    {
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), sink);
        string text = Csv.Lines(Csv.Header(), Csv.Row(1, 5), Csv.Row(2, 150), Csv.Row(3, 2000), Csv.Row(4, 7));

        await pipeline.RunAsync([PiecesSource.FromText("s", text)]);

        Assert.Equal(4, pipeline.Counters.FlowsScored);
        Assert.Equal(["DDoS", "PortScan"], sink.Alerts.OrderBy(a => a.Line).Select(a => a.Signature));
        Assert.Equal([3L, 4L], sink.Alerts.Select(a => a.Line).Order());
        var ddos = sink.Alerts.Single(a => a.Signature == "DDoS");
        Assert.Equal("10.0.0.1", ddos.Identity.SourceIp.ToString());
        Assert.Equal(80, ddos.Identity.DestinationPort);
        Assert.Equal("DDoS", ddos.Category);
        Assert.Equal(0.97, ddos.Score, 3);
        Assert.Equal("Total Fwd Packets", ddos.Explanation[0].Feature);
        Assert.Equal(150f, ddos.Explanation[0].Value);
        Pipelines.AssertBalanced(pipeline);
    }

    [Fact]
    public async Task RunAsync_HeaderWithAliasesAndPadding_MapsToCanonicalFeatures()
    {
        // CSE-CIC-IDS2018 spelling of the rule's feature and CIC's leading spaces: the reader's mapping resolves both.
        string header = Csv.Header(rename: n => n == "Total Fwd Packets" ? "Tot Fwd Pkts" : " " + n);
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), sink);

        await pipeline.RunAsync([PiecesSource.FromText("aliases", Csv.Lines(header, Csv.Row(1, 500)))]);

        Assert.Equal("DDoS", Assert.Single(sink.Alerts).Signature);
    }

    [Fact]
    public async Task RunAsync_StreamLackingModelFeature_FailsAtOnceNamingIt()
    {
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options());
        string text = Csv.Lines(Csv.Header(without: RuleScorer.Feature), Csv.Row(1, 500, without: RuleScorer.Feature));

        var ex = await Assert.ThrowsAsync<StreamSchemaException>(() => pipeline.RunAsync([PiecesSource.FromText("short", text)]));

        Assert.Equal(["Total Fwd Packets"], ex.MissingFeatures);
        Assert.Contains("'Total Fwd Packets'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, pipeline.Counters.FlowsIn);
        Assert.Equal(1, pipeline.Counters.StreamsFailed);
    }

    [Fact]
    public async Task RunAsync_BadRowsMidStream_CountedByReasonAndStreamContinues()
    {
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), sink);
        string good = Csv.Row(1, 200);
        string text = Csv.Lines(
            Csv.Header(),
            Csv.Row(2, 1),
            good.Replace(",200,", ",lots,", StringComparison.Ordinal),       // not a number
            "x,10.0.0.1,5",                                                  // field count
            "",                                                              // blank line: not a row
            good.Replace("10.0.0.1,", "10.0.0.999,", StringComparison.Ordinal), // invalid address
            Csv.Row(3, 300));

        await pipeline.RunAsync([PiecesSource.FromText("bad", text)]);

        var s = pipeline.Counters.Snapshot();
        Assert.Equal(5, s.FlowsIn);
        Assert.Equal(2, s.FlowsScored);
        Assert.True(s.RejectedByReason.Count == 3, string.Join(";", s.RejectedByReason));
        Assert.Equal(1, s.RejectedByReason["not_a_number"]);
        Assert.Equal(1, s.RejectedByReason["field_count"]);
        Assert.Equal(1, s.RejectedByReason["invalid_address"]);
        Assert.Empty(s.DroppedByReason);
        Assert.Equal(7L, Assert.Single(sink.Alerts).Line);
        Assert.True(s.Balanced);
    }

    [Fact]
    public async Task RunAsync_LinesSplitAcrossWrites_ReassembledAndPartialLastLineCounted()
    {
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), sink);
        byte[] all = Encoding.UTF8.GetBytes(Csv.Lines(Csv.Header(), Csv.Row(1, 150), Csv.Row(2, 3)) + Csv.Row(3, 400)[..40]);
        var pieces = all.Chunk(7).ToList(); // a sender that disconnects in the middle of its last row

        await pipeline.RunAsync([new PiecesSource("split", pieces)]);

        var s = pipeline.Counters.Snapshot();
        Assert.Equal(3, s.FlowsIn);
        Assert.Equal(2, s.FlowsScored);
        Assert.Equal(1, s.RejectedByReason[PipelineRejectReasons.IncompleteLine]);
        Assert.Equal(2L, Assert.Single(sink.Alerts).Line);
        Assert.True(s.Balanced);
    }

    [Fact]
    public async Task RunAsync_JsonLines_ParsedLikeCsv()
    {
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), sink);
        string Json(int seed, float fwd) => "{" + string.Join(',', FeatureSchema.Names.Select((n, f) =>
            $"\"{n}\":{(f == RuleScorer.Feature ? fwd : seed + f).ToString(System.Globalization.CultureInfo.InvariantCulture)}")) + ",\"Source IP\":\"172.16.0.1\"}";
        string text = Csv.Lines(Json(1, 5), Json(2, 250), "{\"Flow Duration\": [1]}", "not json", Json(3, 3000));

        await pipeline.RunAsync([PiecesSource.FromText("json", text)]);

        var s = pipeline.Counters.Snapshot();
        Assert.Equal(5, s.FlowsIn);
        Assert.Equal(3, s.FlowsScored);
        Assert.Equal(2, s.RejectedByReason[PipelineRejectReasons.InvalidJson]);
        Assert.Equal(["DDoS", "PortScan"], sink.Alerts.OrderBy(a => a.Line).Select(a => a.Signature));
        Assert.All(sink.Alerts, a => Assert.Equal("172.16.0.1", a.Identity.SourceIp.ToString()));
    }

    [Fact]
    public async Task RunAsync_PerClassThresholdAndAllowList_SuppressWhatTheyShould()
    {
        var sink = new CollectingSink();
        var options = Pipelines.Options(o => o with
        {
            // PortScan scores 0.9 attack; a per-class threshold of 0.95 silences it while DDoS (0.97) still alerts.
            ClassThresholds = new Dictionary<string, double> { ["PortScan"] = 0.95 },
            AllowSources = [IPNetwork.Parse("10.9.0.0/16")],
            AllowDestinations = [IPNetwork.Parse("192.168.99.0/24")],
        });
        var pipeline = Pipelines.Create(new RuleScorer(), options, sink);
        string text = Csv.Lines(
            Csv.Header(),
            Csv.Row(1, 150),
            Csv.Row(2, 5000),
            Csv.Row(3, 150, source: "10.9.3.4"),
            Csv.Row(4, 150, destination: "192.168.99.7"));

        await pipeline.RunAsync([PiecesSource.FromText("policy", text)]);

        Assert.Equal(2L, Assert.Single(sink.Alerts).Line);
        Assert.Equal(2, pipeline.Counters.SuppressedByAllowList);
    }

    [Fact]
    public void ModelHandleCreate_ThresholdForUnknownClass_IsRefusedNamingIt()
    {
        var options = new DetectionOptions { ClassThresholds = new Dictionary<string, double> { ["Nope"] = 0.2 } };

        var ex = Assert.Throws<ArgumentException>(() => ModelHandle.Create(new RuleScorer(), options, "m"));

        Assert.Contains("'Nope'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_PartialBatchAndOpenStream_ScoredAfterMaxWait()
    {
        var hub = new AlertHub();
        using var subscription = hub.Subscribe();
        var options = Pipelines.Options(o => o with { BatchSize = 1000, MaxBatchWait = TimeSpan.FromMilliseconds(20) });
        var pipeline = Pipelines.Create(new RuleScorer(), options, hub);
        var seen = new TaskCompletionSource<Alert>();
        async Task WaitForAlert()
        {
            // The stream stays open until the alert arrives: only the batcher's max wait can have released it.
            await foreach (var alert in subscription.ReadAllAsync())
            {
                seen.TrySetResult(alert);
                return;
            }
        }

        var source = PiecesSource.FromText("slow", Csv.Lines(Csv.Header(), Csv.Row(1, 150)), () => WaitForAlert().WaitAsync(TimeSpan.FromSeconds(30)));

        await pipeline.RunAsync([source]);

        Assert.Equal("DDoS", (await seen.Task).Signature);
    }

    [Fact]
    public async Task RunAsync_DropOldestUnderPressure_EveryDroppedFlowCounted()
    {
        using var gate = new SemaphoreSlim(0);
        var scorer = new RuleScorer { Gate = gate };
        var options = Pipelines.Options(o => o with { Backpressure = BackpressurePolicy.DropOldest, QueueCapacity = 1, BatchSize = 1, MaxLinesPerItem = 1 });
        var pipeline = Pipelines.Create(scorer, options);
        var lines = Enumerable.Range(0, 200).Select(i => Csv.Row(i, i)).ToArray();
        var pieces = new List<byte[]> { Encoding.UTF8.GetBytes(Csv.Header() + "\n") };
        pieces.AddRange(lines.Select(l => Encoding.UTF8.GetBytes(l + "\n")));

        var run = pipeline.RunAsync([new PiecesSource("flood", pieces)]);
        while (pipeline.Counters.FlowsIn < 200)
        {
            await Task.Delay(5);
        }

        gate.Release(10_000);
        await run;

        var s = pipeline.Counters.Snapshot();
        Assert.Equal(200, s.FlowsIn);
        Assert.True(s.DroppedByReason.GetValueOrDefault(DropReasons.Backpressure) > 0, "a blocked scorer with queues of 1 must force drops");
        Assert.Equal(200, s.FlowsScored + s.DroppedByReason[DropReasons.Backpressure]);
        Assert.True(s.Balanced);
    }

    [Fact]
    public async Task RunAsync_BlockPolicyUnderPressure_NothingDropped()
    {
        using var gate = new SemaphoreSlim(0);
        var scorer = new RuleScorer { Gate = gate };
        var options = Pipelines.Options(o => o with { QueueCapacity = 1, BatchSize = 1, MaxLinesPerItem = 1 });
        var pipeline = Pipelines.Create(scorer, options);
        var pieces = new List<byte[]> { Encoding.UTF8.GetBytes(Csv.Header() + "\n") };
        pieces.AddRange(Enumerable.Range(0, 50).Select(i => Encoding.UTF8.GetBytes(Csv.Row(i, i) + "\n")));

        var run = pipeline.RunAsync([new PiecesSource("blocked", pieces)]);
        await Task.Delay(50);
        Assert.True(pipeline.Counters.FlowsIn < 50, "with the scorer blocked, the source must be held back");
        gate.Release(10_000);
        await run;

        Assert.Equal(50, pipeline.Counters.FlowsScored);
        Assert.Equal(0, pipeline.Counters.FlowsDropped);
    }

    [Fact]
    public async Task RunAsync_MaxFlows_StopsSourcesAtExactlyTheLimit()
    {
        var options = Pipelines.Options(o => o with { MaxFlows = 7 });
        var pipeline = Pipelines.Create(new RuleScorer(), options);
        var rows = Enumerable.Range(0, 20).Select(i => Csv.Row(i, i)).Prepend(Csv.Header()).ToArray();

        await pipeline.RunAsync([PiecesSource.FromText("many", Csv.Lines(rows))]);

        Assert.Equal(7, pipeline.Counters.FlowsIn);
        Assert.Equal(7, pipeline.Counters.FlowsScored);
    }

    [Fact]
    public async Task RunAsync_ScorerThrowsOnOneBatch_CountedAndDetectionGoesOn()
    {
        var scorer = new RuleScorer { FailWhen = call => call == 1 };
        var options = Pipelines.Options(o => o with { BatchSize = 2, MaxLinesPerItem = 2 });
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(scorer, options, sink);
        var rows = Enumerable.Range(0, 6).Select(i => Csv.Row(i, 150)).Prepend(Csv.Header()).ToArray();

        await pipeline.RunAsync([PiecesSource.FromText("s", Csv.Lines(rows))]);

        var s = pipeline.Counters.Snapshot();
        Assert.Equal(2, s.DroppedByReason["scoring_error"]);
        Assert.Equal(4, s.FlowsScored);
        Assert.Equal(4, sink.Alerts.Count);
        Assert.True(s.Balanced);
    }
}
