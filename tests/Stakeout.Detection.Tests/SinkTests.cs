using Microsoft.Extensions.Time.Testing;
using Stakeout.Core;

namespace Stakeout.Detection.Tests;

public sealed class SinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-sinks-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Alert Make(int i, bool withIp = true) => new()
    {
        Timestamp = DateTimeOffset.UnixEpoch,
        FlowId = i,
        Identity = withIp ? FlowIdentity.Empty with { SourceIp = IpAddressValue.FromIPv4((uint)(0x0A000000 + (i % 3))) } : FlowIdentity.Empty,
        Signature = "DDoS",
        Category = "DDoS",
        Severity = 2,
        Score = 0.9,
        FirstSeen = DateTime.UnixEpoch,
        LastSeen = DateTime.UnixEpoch,
        Stream = "s",
        Line = i,
    };

    [Fact]
    public async Task EveFileSink_OverSizeLimit_RotatesAndKeepsEveryLineValid()
    {
        string path = Path.Combine(_dir, "alerts.json");
        var sink = new EveFileSink(path, maxBytes: 4096, keep: 2);
        for (int i = 0; i < 60; i++)
        {
            await sink.WriteAsync([Make(i)], CancellationToken.None);
        }

        await sink.DisposeAsync();

        Assert.True(sink.Rotations >= 2);
        Assert.True(File.Exists(path + ".1"));
        Assert.True(File.Exists(path + ".2"));
        Assert.False(File.Exists(path + ".3"));
        Assert.All(new[] { path, path + ".1", path + ".2" }, p => Assert.True(new FileInfo(p).Length <= 4096));
        foreach (var line in File.ReadLines(path).Concat(File.ReadLines(path + ".1")))
        {
            AlertSchema.AssertValid(line);
        }

        // The newest file ends with the last alert.
        Assert.Contains("\"line\":59", File.ReadLines(path).Last(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeedLogSink_RealAddresses_EachListedOnceInFirstSeenOrder()
    {
        string path = Path.Combine(_dir, "malicious_ips.log");
        var sink = new SeedLogSink(path, TimeProvider.System);
        await sink.WriteAsync([.. Enumerable.Range(0, 9).Select(i => Make(i))], CancellationToken.None);
        await sink.DisposeAsync();

        var ips = File.ReadLines(path).Where(l => !l.StartsWith('#')).ToList();

        Assert.Equal(["10.0.0.0", "10.0.0.1", "10.0.0.2"], ips);
    }

    [Fact]
    public async Task SeedLogSink_DataWithoutAddresses_SaysSoAndInventsNone()
    {
        string path = Path.Combine(_dir, "malicious_ips.log");
        var sink = new SeedLogSink(path, TimeProvider.System);
        await sink.WriteAsync([Make(1, withIp: false), Make(2, withIp: false)], CancellationToken.None);
        await sink.DisposeAsync();

        var lines = File.ReadAllLines(path);

        Assert.All(lines, l => Assert.StartsWith("#", l, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("no IP columns", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Registry_UnknownSink_ErrorListsKnownOnes()
    {
        var registry = AlertSinkRegistry.CreateDefault();

        var ex = Assert.Throws<ArgumentException>(() => registry.Create(["eve", "slack"], new SinkSettings { OutputDirectory = _dir }));

        Assert.Contains("'slack'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("console, eve, seed-logs", ex.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task RunAsync_SinkThatThrows_RetriedAlertsKeptAndDetectionGoesOn()
    {
        var failing = new CollectingSink(failFirst: 3);
        var healthy = new CollectingSink();
        var options = Pipelines.Options(o => o with { SinkInitialBackoff = TimeSpan.FromMilliseconds(1), SinkMaxBackoff = TimeSpan.FromMilliseconds(4) });
        var pipeline = Pipelines.Create(new RuleScorer(), options, failing, healthy);
        var rows = Enumerable.Range(0, 20).Select(i => Csv.Row(i, 150)).Prepend(Csv.Header()).ToArray();

        await pipeline.RunAsync([PiecesSource.FromText("s", Csv.Lines(rows))]);

        Assert.Equal(20, healthy.Alerts.Count);
        Assert.Equal(healthy.Alerts.Select(a => a.Line), failing.Alerts.Select(a => a.Line));
        var status = pipeline.SinkStatuses[0];
        Assert.Equal(3, status.Failures);
        Assert.Equal(20, status.Written);
        Assert.Equal(0, status.Lost);
        Assert.Null(status.LastError);
    }

    [Fact]
    public async Task RunAsync_SinkThatNeverRecovers_OverflowAndLossCountedNotSilent()
    {
        var broken = new CollectingSink(failFirst: int.MaxValue);
        var options = Pipelines.Options(o => o with
        {
            SinkBufferCapacity = 4,
            SinkInitialBackoff = TimeSpan.FromMilliseconds(1),
            SinkMaxBackoff = TimeSpan.FromMilliseconds(2),
            DrainTimeout = TimeSpan.FromMilliseconds(200),
        });
        var pipeline = Pipelines.Create(new RuleScorer(), options, broken);
        var rows = Enumerable.Range(0, 30).Select(i => Csv.Row(i, 150)).Prepend(Csv.Header()).ToArray();

        await pipeline.RunAsync([PiecesSource.FromText("s", Csv.Lines(rows))]);

        var status = pipeline.SinkStatuses[0];
        Assert.Equal(30, pipeline.Counters.FlowsScored);
        Assert.Equal(30, status.Overflow + status.Lost);
        Assert.True(status.Lost > 0);
        Assert.NotNull(status.LastError);
    }

    [Fact]
    public async Task SinkRunner_FailingSink_BacksOffOnTheInjectedClock()
    {
        var time = new FakeTimeProvider();
        var sink = new CollectingSink(failFirst: 2);
        var options = new DetectionOptions { SinkInitialBackoff = TimeSpan.FromSeconds(1), SinkMaxBackoff = TimeSpan.FromSeconds(8) };
        var runner = new SinkRunner(sink, options, time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        runner.Enqueue(Make(1));
        runner.Complete();

        var run = runner.RunAsync(CancellationToken.None);
        await WaitUntil(() => sink.Attempts == 1);
        time.Advance(TimeSpan.FromMilliseconds(999));
        await Task.Delay(20);
        Assert.Equal(1, sink.Attempts);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await WaitUntil(() => sink.Attempts == 2);
        time.Advance(TimeSpan.FromSeconds(2));
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, sink.Attempts);
        Assert.Single(sink.Alerts);
    }

    [Fact]
    public async Task AlertHub_Subscriber_ReceivesAlertsInOrderUntilTheEnd()
    {
        var hub = new AlertHub();
        using var subscription = hub.Subscribe();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), hub);
        var rows = Enumerable.Range(0, 5).Select(i => Csv.Row(i, 150 + i)).Prepend(Csv.Header()).ToArray();
        var received = new List<long>();
        var reader = Task.Run(async () =>
        {
            await foreach (var alert in subscription.ReadAllAsync())
            {
                received.Add(alert.Line);
            }
        });

        await pipeline.RunAsync([PiecesSource.FromText("s", Csv.Lines(rows))]);
        await reader.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([2L, 3L, 4L, 5L, 6L], received);
        Assert.Equal(0, subscription.Overflow);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(5);
        }

        Assert.True(condition());
    }
}
