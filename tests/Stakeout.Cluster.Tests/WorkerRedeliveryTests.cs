using System.Globalization;
using System.Text.Json;
using Stakeout.Detection;
using Stakeout.Integration.Tests;
using Stakeout.TestSupport;

namespace Stakeout.Cluster.Tests;

/// <summary>Delivery with a real nats-server: a worker dying mid-batch, a model rolled on one worker, the monitor's nats:// source, NATS unreachable.</summary>
[Collection("nats")]
public sealed class WorkerRedeliveryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-worker-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ClusterOptions Options(NatsCluster nats) => new()
    {
        Servers = ClusterOptions.ParseServers(nats.Urls),
        AckWait = TimeSpan.FromSeconds(3),
        FetchBatch = 1,
        BatchSize = 100,
        StatusInterval = TimeSpan.FromSeconds(1),
        GiveUpAfter = TimeSpan.FromMinutes(3),
    };

    private static async Task<long> PublishAsync(ClusterOptions options, string file)
    {
        var report = await new ClusterSensor(options, "s1").RunAsync([new FlowFilesSource([file])]);
        Assert.True(report.Balanced);
        return report.FlowsPublished;
    }

    [SkippableFact]
    public async Task Worker_KilledMidBatch_ItsUnacknowledgedBatchIsRedeliveredToAnotherWorker()
    {
        string file = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        await using var nats = await NatsCluster.StartAsync(1);
        var options = Options(nats);
        var (_, model) = ClusterTestKit.Model(_dir);
        long published = await PublishAsync(options, file);
        Assert.Equal(1000, published);

        // Worker A takes one batch, scores it, and dies before publishing or acknowledging anything.
        var taken = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var killA = new CancellationTokenSource();
        var workerA = new ClusterWorker(options, "A", new ModelHolder(model))
        {
            AfterScore = async (batch, ct) =>
            {
                taken.TrySetResult(batch.BatchId);
                await Task.Delay(Timeout.Infinite, ct);
            },
        };
        var runA = workerA.RunAsync(killA.Token);
        string victim = await taken.Task.WaitAsync(TimeSpan.FromSeconds(120));
        await killA.CancelAsync();
        await runA.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, workerA.Counters.Batches);

        using var stopB = new CancellationTokenSource();
        var workerB = new ClusterWorker(options, "B", new ModelHolder(model));
        var runB = workerB.RunAsync(stopB.Token);
        await ClusterTestKit.WaitUntilAsync(async () => (await ClusterTestKit.ResultsAsync(nats.Urls)).Sum(r => (long)r.Flows) >= published, TimeSpan.FromSeconds(180), () => $"B acked {workerB.Counters.Batches}");
        await stopB.CancelAsync();
        await runB.WaitAsync(TimeSpan.FromSeconds(60));

        var results = await ClusterTestKit.ResultsAsync(nats.Urls);
        var redone = Assert.Single(results, r => r.BatchId == victim);
        Assert.Equal("B", redone.Worker);
        Assert.True(redone.Delivery >= 2, $"delivery {redone.Delivery}");
        Assert.True(workerB.Counters.Redelivered >= 1);
        await ClusterTestKit.AssertExactlyOnceAsync(nats.Urls, published, model.Sha256!, ledger: null);
        Assert.Equal(published, workerB.Flows.FlowsScored);
    }

    [SkippableFact]
    public async Task Worker_ModelRolledBetweenBatches_LaterBatchesAndTheirAlertsNameTheNewModel()
    {
        string file = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        await using var nats = await NatsCluster.StartAsync(1);
        var options = Options(nats);
        var (_, first) = ClusterTestKit.Model(_dir, ddosLeaf: 2.0);
        var (_, second) = ClusterTestKit.Model(_dir, ddosLeaf: 3.0);
        Assert.NotEqual(first.Sha256, second.Sha256);
        long published = await PublishAsync(options, file);

        int seen = 0;
        ClusterWorker? worker = null;
        worker = new ClusterWorker(options, "roll", new ModelHolder(first))
        {
            AfterScore = (_, _) =>
            {
                // After the third batch is scored, roll to the second artifact: from the next batch on it scores.
                if (Interlocked.Increment(ref seen) == 3)
                {
                    worker!.Reload(second);
                }

                return Task.CompletedTask;
            },
        };
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await ClusterTestKit.WaitUntilAsync(async () => (await ClusterTestKit.ResultsAsync(nats.Urls)).Sum(r => (long)r.Flows) >= published, TimeSpan.FromSeconds(180), () => $"acked {worker.Counters.Batches}");
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(60));

        var results = await ClusterTestKit.ResultsAsync(nats.Urls);
        Assert.Equal(3, results.Count(r => r.ModelSha256 == first.Sha256));
        Assert.Equal(results.Count - 3, results.Count(r => r.ModelSha256 == second.Sha256));
        await using var inspector = await ClusterInspector.ConnectAsync(nats.Urls);
        var byBatch = results.ToDictionary(r => r.BatchId, r => r.ModelSha256);
        foreach (var alert in await inspector.ReadAllAsync(ClusterTestKit.Defaults.AlertStream))
        {
            using var doc = JsonDocument.Parse(alert.Data);
            Assert.Equal(byBatch[alert.Headers["Stakeout-Batch"]], doc.RootElement.GetProperty("stakeout").GetProperty("model_sha256").GetString());
        }
    }

    [SkippableFact]
    public async Task Monitor_NatsSource_ScoresThePublishedFlowsLikeAWorker()
    {
        string file = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        await using var nats = await NatsCluster.StartAsync(1);
        var (modelPath, _) = ClusterTestKit.Model(_dir);
        long published = await PublishAsync(Options(nats), file);
        string output = Path.Combine(_dir, "monitor");

        var (process, stderr) = StakeoutProcess.Start("monitor", "-m", modelPath, "--source", nats.Urls, "--max-flows", published.ToString(CultureInfo.InvariantCulture), "--aggregate-window", "0", "--quiet", "-o", output);
        try
        {
            Assert.True(process.WaitForExit(240_000), "monitor did not stop at --max-flows");
            Assert.True(process.ExitCode == 0, await stderr);
        }
        finally
        {
            StakeoutProcess.KillIfRunning(process);
        }

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(published, summary.RootElement.GetProperty("flows_scored").GetInt64());
        Assert.True(summary.RootElement.GetProperty("balanced").GetBoolean());
        Assert.True(summary.RootElement.GetProperty("alert_flows").GetInt64() > 0);
    }

    [SkippableFact]
    public void Sensor_NatsUnreachable_RetriesWithBackoffThenFailsNamingTheServer()
    {
        Skip.If(NatsCluster.Binary is null, "nats-server is not installed (./test.sh installs it).");
        string file = SharedData.Path("cicids2017", "trafficlabelling_webattack-sqli_21.csv");
        int port = LoopbackPort.Free();

        var (process, stderr) = StakeoutProcess.Start("sensor", "--sensor", "s1", "--nats", $"nats://127.0.0.1:{port}", "--give-up-after", "3", file);
        try
        {
            Assert.True(process.WaitForExit(120_000), "the sensor kept waiting for NATS");
        }
        finally
        {
            StakeoutProcess.KillIfRunning(process);
        }

        string log = stderr.Result;
        Assert.Equal(1, process.ExitCode);
        Assert.Contains($"127.0.0.1:{port} unreachable (attempt 1)", log, StringComparison.Ordinal);
        Assert.Contains("retrying in", log, StringComparison.Ordinal);
        Assert.Contains($"error: NATS at nats://127.0.0.1:{port} is unreachable after", log, StringComparison.Ordinal);
    }
}

[CollectionDefinition("nats", DisableParallelization = true)]
public sealed class NatsServersDefinition;
