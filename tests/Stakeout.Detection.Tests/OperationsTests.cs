using System.Net;
using System.Net.Sockets;
using System.Text;
using Stakeout.Core;
using Stakeout.TestSupport;
using Stakeout.Testing;

namespace Stakeout.Detection.Tests;

public sealed class OperationsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-ops-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TcpSource_ConcurrentSendersEachWithOwnHeader_AllParsedAndMidRowDisconnectCounted()
    {
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), sink);
        var source = new TcpFlowSource(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        var run = pipeline.RunAsync([source], stop.Token);
        var endpoint = await source.Bound.WaitAsync(TimeSpan.FromSeconds(10));

        string reordered = Csv.Header(rename: n => n == "Total Fwd Packets" ? "Tot Fwd Pkts" : n);
        await Task.WhenAll(
            Send(endpoint, Csv.Lines(Csv.Header(), Csv.Row(1, 150), Csv.Row(2, 1), Csv.Row(3, 2000))),
            Send(endpoint, Csv.Lines(reordered, Csv.Row(4, 300), Csv.Row(5, 2))),
            Send(endpoint, Csv.Lines(Csv.Header(identity: false), Csv.Row(6, 400, identity: false)) + Csv.Row(7, 500, identity: false)[..30]),
            Send(endpoint, Csv.Lines(Csv.Header(without: RuleScorer.Feature), Csv.Row(8, 5, without: RuleScorer.Feature))));

        // Every sender has been served to its end (the monitor closed each connection); now shut down.
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30));

        var s = pipeline.Counters.Snapshot();
        Assert.Equal(7, s.FlowsIn);
        Assert.Equal(6, s.FlowsScored);
        Assert.Equal(1, s.RejectedByReason[PipelineRejectReasons.IncompleteLine]);
        Assert.Equal(1, pipeline.Counters.StreamsFailed);
        Assert.Equal(3, pipeline.Counters.StreamsOpened);
        Assert.Equal(4, sink.Alerts.Count);
        Assert.Equal(4, sink.Alerts.Select(a => a.Stream).Distinct().Count() + 1);
        Assert.True(s.Balanced);
    }

    [Fact]
    public async Task TcpSource_OpenedBeforeRun_BindsAtOnceAndTheRunServesThatPort()
    {
        using var source = new TcpFlowSource(new IPEndPoint(IPAddress.Loopback, 0));
        source.Open();
        Assert.True(source.Bound.IsCompletedSuccessfully, "Open returned before the port was bound");
        var endpoint = await source.Bound;
        source.Open();

        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), new CollectingSink());
        using var stop = new CancellationTokenSource();
        var run = pipeline.RunAsync([source], stop.Token);
        await Send(endpoint, Csv.Lines(Csv.Header(), Csv.Row(1, 150), Csv.Row(2, 1)));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, pipeline.Counters.Snapshot().FlowsScored);
    }

    [Fact]
    public void TcpSource_PortInUse_OpenFailsNamingTheSourceAndThePort()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var source = new TcpFlowSource(new IPEndPoint(IPAddress.Loopback, port));

        var ex = Assert.Throws<IOException>(source.Open);

        Assert.StartsWith($"tcp://127.0.0.1:{port}: the port is in use", ex.Message, StringComparison.Ordinal);
        Assert.IsType<SocketException>(ex.InnerException);
        Assert.True(source.Bound.IsFaulted);
    }

    [Fact]
    public void TcpSource_NonLoopbackAddress_Refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TcpFlowSource(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 5000)));

        Assert.Contains("loopback", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SourceRegistry_UnknownScheme_ListsKnownOnes()
    {
        var registry = FlowSourceRegistry.CreateDefault();

        var ex = Assert.Throws<ArgumentException>(() => registry.Create("nats://127.0.0.1:4222"));

        Assert.Contains("file:, iface:, pcap:, stdin:, tcp:", ex.Message, StringComparison.Ordinal);
        Assert.IsType<TcpFlowSource>(registry.Create("tcp://127.0.0.1:0"));
        Assert.IsType<FileTailSource>(registry.Create("file:/tmp/flows.csv"));
        Assert.IsType<StreamFlowSource>(registry.Create("stdin"));
    }

    [Fact]
    public async Task SourceRegistry_NewScheme_PlugsInWithoutTouchingThePipeline()
    {
        var registry = FlowSourceRegistry.CreateDefault();
        registry.Register("fake", (rest, _) => PiecesSource.FromText("fake:" + rest, Csv.Lines(Csv.Header(), Csv.Row(1, 150))));
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), sink);

        await pipeline.RunAsync([registry.Create("fake:x")]);

        Assert.Equal("fake:x", Assert.Single(sink.Alerts).Stream);
    }

    [Fact]
    public async Task FileTailSource_GrowthRotationAndTruncation_EveryRowReadOnce()
    {
        string path = Path.Combine(_dir, "flows.csv");
        File.WriteAllText(path, Csv.Lines(Csv.Header(), Csv.Row(1, 150)));
        var options = Pipelines.Options(o => o with { MaxFlows = 6 });
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), options, sink);
        var run = pipeline.RunAsync([new FileTailSource(path, TimeSpan.FromMilliseconds(10))]);

        await WaitFor(() => pipeline.Counters.FlowsScored == 1);
        File.AppendAllText(path, Csv.Row(2, 160) + "\n" + Csv.Row(3, 170)[..50]); // a row still being written
        await WaitFor(() => pipeline.Counters.FlowsScored == 2);
        File.AppendAllText(path, Csv.Row(3, 170)[50..] + "\n");
        await WaitFor(() => pipeline.Counters.FlowsScored == 3);

        // Rotation (logrotate's default): rename, then a new file with a header.
        File.Move(path, path + ".1");
        File.WriteAllText(path, Csv.Lines(Csv.Header(), Csv.Row(4, 180)));
        await WaitFor(() => pipeline.Counters.FlowsScored == 4);

        // Truncation (copytruncate): the file shrinks and starts again with its header.
        File.WriteAllText(path, Csv.Lines(Csv.Header(), Csv.Row(5, 190), Csv.Row(6, 200)));
        await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal([150f, 160f, 170f, 180f, 190f, 200f], sink.Alerts.Select(a => a.Explanation[0].Value).Order());
        Pipelines.AssertBalanced(pipeline);
        Assert.Equal(0, pipeline.Counters.FlowsRejected);
    }

    [Fact]
    public async Task HotReload_UnderLoad_SwapsWithoutDroppingAFlow()
    {
        string v1 = Path.Combine(_dir, "v1.stakeout");
        string v2 = Path.Combine(_dir, "v2.stakeout");
        TinyModel.Save(v1, ddosLeaf: 2.0);
        TinyModel.Save(v2, ddosLeaf: 3.0);
        var options = Pipelines.Options(o => o with { BatchSize = 16, MaxLinesPerItem = 16, QueueCapacity = 4 });
        var first = ModelLoader.Load(v1, options);
        var sink = new CollectingSink();
        var pipeline = new DetectionPipeline(new ModelHolder(first), options, [sink]);
        const int total = 20_000;
        var reloader = new ModelReloader(pipeline, v2, () => ModelLoader.Load(v2, options), watch: false);
        bool? reloaded = null;
        var source = new CallbackSource(async feed =>
        {
            await feed.WriteAsync(Encoding.UTF8.GetBytes(Csv.Header() + "\n"));
            for (int i = 0; i < total; i++)
            {
                if (i == total / 2)
                {
                    reloaded = reloader.TryReload();
                }

                // Port 80 rows alert as DDoS under both versions, with different scores.
                await feed.WriteAsync(Encoding.UTF8.GetBytes(Csv.Row(i, 3) + "\n"));
            }
        });

        await pipeline.RunAsync([source]);

        Assert.True(reloaded);
        var s = pipeline.Counters.Snapshot();
        Assert.Equal(total, s.FlowsIn);
        Assert.Equal(total, s.FlowsScored);
        Assert.Equal(0, s.FlowsDropped);
        Assert.Equal(1, pipeline.Counters.Reloads);
        Assert.Equal(total, sink.Alerts.Count);
        var shas = sink.Alerts.Select(a => a.ModelSha256).Distinct().ToList();
        Assert.Equal(2, shas.Count);
        Assert.Equal(pipeline.Model.Current.Sha256, sink.Alerts[^1].ModelSha256);
    }

    [Fact]
    public async Task HotReload_BadArtifactOrMissingFeature_RefusedAndCurrentModelStays()
    {
        string good = Path.Combine(_dir, "good.stakeout");
        string bad = Path.Combine(_dir, "bad.stakeout");
        TinyModel.Save(good);
        File.WriteAllText(bad, "not an artifact");
        var options = Pipelines.Options();
        var pipeline = new DetectionPipeline(new ModelHolder(ModelHandle.Create(new RuleScorer(), options, "rule")), options, []);
        string? problemBad = null;
        string? problemFeature = null;
        var source = new CallbackSource(async feed =>
        {
            // This stream lacks Flow Duration, which the tiny model reads: swapping it in would blind the model.
            await feed.WriteAsync(Encoding.UTF8.GetBytes(Csv.Lines(Csv.Header(without: FeatureSchema.FlowDuration), Csv.Row(1, 5, without: FeatureSchema.FlowDuration))));
            var r1 = new ModelReloader(pipeline, bad, () => ModelLoader.Load(bad, options), watch: false);
            r1.TryReload();
            problemBad = r1.LastProblem;
            var r2 = new ModelReloader(pipeline, good, () => ModelLoader.Load(good, options), watch: false);
            r2.TryReload();
            problemFeature = r2.LastProblem;
            r1.Dispose();
            r2.Dispose();
        });

        await pipeline.RunAsync([source]);

        Assert.NotNull(problemBad);
        Assert.Contains("'Flow Duration'", problemFeature, StringComparison.Ordinal);
        Assert.Equal("rule", pipeline.Model.Current.Source);
        Assert.Equal(2, pipeline.Counters.ReloadFailures);
    }

    [Fact]
    public async Task ModelReloader_FileReplaced_ReloadsAfterVerifying()
    {
        string path = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(path, ddosLeaf: 2.0);
        var options = Pipelines.Options();
        var first = ModelLoader.Load(path, options);
        var pipeline = new DetectionPipeline(new ModelHolder(first), options, []);
        using var reloader = new ModelReloader(pipeline, path, () => ModelLoader.Load(path, options), watch: true);
        using var stop = new CancellationTokenSource();
        var loop = reloader.RunAsync(TimeSpan.FromMilliseconds(50), TimeProvider.System, stop.Token);

        string temp = Path.Combine(_dir, "m.tmp");
        TinyModel.Save(temp, ddosLeaf: 3.0);
        File.Move(temp, path, overwrite: true);
        await WaitFor(() => reloader.Succeeded == 1);
        await stop.CancelAsync();
        await loop;

        Assert.NotEqual(first.Sha256, pipeline.Model.Current.Sha256);
    }

    [Fact]
    public async Task Shutdown_WithFlowsInFlight_DrainsEveryOneBeforeReturning()
    {
        using var gate = new SemaphoreSlim(0);
        var scorer = new RuleScorer { Gate = gate };
        var options = Pipelines.Options(o => o with { BatchSize = 4, MaxLinesPerItem = 4 });
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(scorer, options, sink);
        using var stop = new CancellationTokenSource();
        var source = new CallbackSource(async feed =>
        {
            await feed.WriteAsync(Encoding.UTF8.GetBytes(Csv.Lines([Csv.Header(), .. Enumerable.Range(0, 40).Select(i => Csv.Row(i, 150))])));
        }, waitForStop: true);

        var run = pipeline.RunAsync([source], stop.Token);
        await WaitFor(() => pipeline.Counters.FlowsIn == 40);
        Assert.True(pipeline.Counters.InFlight > 0);
        await stop.CancelAsync();        // Ctrl-C while the scorer still holds everything
        gate.Release(1000);
        await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(40, pipeline.Counters.FlowsScored);
        Assert.Equal(40, sink.Alerts.Count);
        Assert.Equal(0, pipeline.Counters.InFlight);
    }

    [Fact]
    public async Task MetricsServer_WhileRunning_ServesPrometheusTextAndHealth()
    {
        var options = Pipelines.Options();
        var pipeline = Pipelines.Create(new RuleScorer(), options, new CollectingSink());
        int port = LoopbackPort.Free();
        await using var server = new MetricsServer(pipeline, port);
        server.Start();
        using var http = new HttpClient();
        string? metrics = null;
        string? health = null;
        var source = new CallbackSource(async feed =>
        {
            await feed.WriteAsync(Encoding.UTF8.GetBytes(Csv.Lines(Csv.Header(), Csv.Row(1, 150), Csv.Row(2, 1), "x,10.0.0.1,5")));
            await WaitFor(() => pipeline.Counters.FlowsScored == 2 && pipeline.Counters.AlertsEmitted == 1);
            metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
            health = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/health"));
        });

        await pipeline.RunAsync([source]);

        Assert.Contains("stakeout_flows_in_total 3\n", metrics, StringComparison.Ordinal);
        Assert.Contains("stakeout_flows_scored_total 2\n", metrics, StringComparison.Ordinal);
        Assert.Contains("stakeout_flows_rejected_total{reason=\"field_count\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("stakeout_alert_flows_total{class=\"DDoS\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("stakeout_batch_score_seconds_count ", metrics, StringComparison.Ordinal);
        Assert.Contains("stakeout_queue_depth{queue=\"ingress\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE stakeout_alert_latency_seconds histogram", metrics, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"ok\"", health, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsServer_StartedWhileAScraperIsAlreadyKnocking_StartsEveryTimeAndServes()
    {
        // A scraper (or `stakeout demo` waiting for /health) that keeps connecting to the port while the monitor starts
        // must not crash the start: .NET's managed HttpListener threw ArgumentNullException from Start() when a
        // connection was already waiting at its first accept (dotnet/corefx#35191).
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(), new CollectingSink());
        int port = LoopbackPort.Free();
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        long knocks = 0;
        var knockers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await client.ConnectAsync(endpoint, stop.Token);
                    Interlocked.Increment(ref knocks);
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    // Refused between two starts, or the test is over: knock again.
                }
            }
        })).ToArray();

        using var http = new HttpClient();
        for (int round = 0; round < 2000; round++)
        {
            await using var server = new MetricsServer(pipeline, port);
            server.Start();
            if (round % 25 == 0)
            {
                string metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
                Assert.Contains("stakeout_flows_in_total 0\n", metrics, StringComparison.Ordinal);
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(knockers);
        Assert.True(Interlocked.Read(ref knocks) > 0, "the knocker never got a connection in");
    }

    [Fact]
    public void LatencyHistogram_Quantiles_WithinBucketPrecision()
    {
        var h = new LatencyHistogram();
        for (int i = 1; i <= 1000; i++)
        {
            h.Record(TimeSpan.FromMicroseconds(i * 10));
        }

        Assert.InRange(h.Quantile(0.5).TotalMicroseconds, 5000 * 0.97, 5000 * 1.03);
        Assert.InRange(h.Quantile(0.99).TotalMicroseconds, 9900 * 0.97, 9900 * 1.03);
        Assert.Equal(1000, h.Cumulative()[^1]);
    }

    private static async Task Send(IPEndPoint endpoint, string text)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint);
        var stream = client.GetStream();
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        foreach (var piece in bytes.Chunk(97))
        {
            await stream.WriteAsync(piece);
        }

        client.Client.Shutdown(SocketShutdown.Send);
        var buffer = new byte[16];
        try
        {
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        }
        catch (IOException)
        {
            // A refused stream is closed by the monitor with data unread: the sender sees a reset.
        }
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        for (int i = 0; i < 3000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "condition not reached in 30 s");
    }

    private sealed class CallbackSource(Func<FlowTextFeed, Task> body, bool waitForStop = false) : IFlowSource
    {
        public string Name => "callback";

        public async Task RunAsync(FlowSourceContext context)
        {
            var feed = context.OpenTextStream(Name);
            await body(feed);
            if (waitForStop)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, context.Stopping);
                }
                catch (OperationCanceledException)
                {
                }
            }

            await feed.CompleteAsync();
        }
    }
}

public sealed class ReplayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-replay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task FlowReplayer_LoopWithLimit_SendsExactlyThatManyRealRowsHeaderFirst()
    {
        string file = Path.Combine(_dir, "flows.csv");
        File.WriteAllText(file, Csv.Lines([Csv.Header(), .. Enumerable.Range(0, 7).Select(i => Csv.Row(i, 150 + i))]));
        var sink = new CollectingSink();
        var pipeline = Pipelines.Create(new RuleScorer(), Pipelines.Options(o => o with { MaxFlows = 17 }), sink);
        var source = new TcpFlowSource(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var run = pipeline.RunAsync([source]);
        var endpoint = await source.Bound.WaitAsync(TimeSpan.FromSeconds(10));

        var result = await new FlowReplayer(endpoint, rowsPerSecond: 1000, loop: true, maxRows: 17).RunAsync([file]);
        await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(17, result.Rows);
        Assert.Equal(17, pipeline.Counters.FlowsScored);
        Assert.Equal(0, pipeline.Counters.FlowsRejected);
        // Three connections (7 + 7 + 3 rows), each starting with the header: lines 2..8, 2..8, 2..4.
        Assert.Equal(3, sink.Alerts.Select(a => a.Stream).Distinct().Count());
        Assert.Equal(17, sink.Alerts.Count(a => a.Line is >= 2 and <= 8));
    }
}
