using System.Globalization;
using System.Text.RegularExpressions;
using Stakeout.Integration.Tests;
using Stakeout.TestSupport;

namespace Stakeout.Cluster.Tests;

/// <summary>
/// The acceptance test of issue #20 with real processes: a 3-node nats-server cluster (JetStream, replicas 3), the CLI's
/// sensor fed by `stakeout replay` of real CIC-IDS2017 flows, two worker processes and a ledger writer. Mid-stream the
/// flow stream's leader is killed, then one worker is SIGKILLed; at the end every flow was scored exactly once in the
/// results and the ledger holds every alert once, seq 1..n. Time-outs are generous (shared, loaded machine); nothing
/// is asserted on timing.
/// </summary>
[Collection("nats")]
public sealed partial class ClusterFailoverTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-cluster-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A process still closing a file: left to the OS.
        }
    }

    [SkippableFact]
    public async Task Cluster_StreamLeaderAndWorkerKilledMidStream_EveryFlowScoredOnceLedgerWithoutDuplicateOrGap()
    {
        string[] files =
        [
            SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv"),
            SharedData.Path("cicids2017", "trafficlabelling_friday-ddos_head299.csv"),
            SharedData.Path("cicids2017", "trafficlabelling_webattack-xss_652.csv"),
        ];
        long rows = files.Sum(f => File.ReadLines(f).LongCount() - 1);
        await using var nats = await NatsCluster.StartAsync(3);
        var (modelPath, model) = ClusterTestKit.Model(_dir);
        string ledger = Path.Combine(_dir, "ledger");
        var (ledgerKey, ledgerPub) = ClusterTestKit.LedgerKey(Path.Combine(_dir, "keys"));
        int port = LoopbackPort.Free();
        string[] common = ["--nats", nats.Urls, "--replicas", "3", "--give-up-after", "180"];

        var ledgerWriter = StakeoutProcess.Start(["ledger-writer", "--ledger", ledger, "--ledger-key", ledgerKey, .. common]);
        var worker1 = StakeoutProcess.Start(["worker", "-m", modelPath, "--worker-id", "w1", "--ack-wait", "5", .. common]);
        var worker2 = StakeoutProcess.Start(["worker", "-m", modelPath, "--worker-id", "w2", "--ack-wait", "5", .. common]);
        var sensor = StakeoutProcess.Start(["sensor", "--sensor", "dmz", "--source", $"tcp://127.0.0.1:{port}", "--batch-size", "32", "--max-flows", rows.ToString(CultureInfo.InvariantCulture), .. common]);
        var all = new[] { ledgerWriter, worker1, worker2, sensor };
        try
        {
            // The sensor listens once its stream exists; replay at a rate that spreads the stream over several seconds.
            await ClusterTestKit.WaitUntilAsync(async () => await ClusterTestKit.CountAsync(nats.Urls, "STAKEOUT_FLOWS") >= 0, TimeSpan.FromSeconds(120), () => ClusterTestKit.Text(sensor.Process, sensor.Stderr));
            await Task.Delay(1500);
            var replay = StakeoutProcess.Start(["replay", .. files, "--to", $"tcp://127.0.0.1:{port}", "--rate", "150"]);

            // Kill the flow stream's leader while batches are still arriving and being scored.
            await ClusterTestKit.WaitUntilAsync(async () => await ClusterTestKit.CountAsync(nats.Urls, "STAKEOUT_RESULTS") >= 5, TimeSpan.FromSeconds(180), () => ClusterTestKit.Text(worker1.Process, worker1.Stderr));
            string leader;
            await using (var inspector = await ClusterInspector.ConnectAsync(nats.Urls))
            {
                leader = (await inspector.StreamLeaderAsync("STAKEOUT_FLOWS"))!;
            }

            Assert.False(sensor.Process.HasExited, "the stream ended before the leader could be killed mid-stream; replay slower");
            nats.Get(leader).Kill();

            // Then a worker dies without warning (SIGKILL) while the stream goes on.
            await ClusterTestKit.WaitUntilAsync(async () => await ClusterTestKit.CountAsync(nats.LiveUrls, "STAKEOUT_RESULTS") >= 15, TimeSpan.FromSeconds(180), () => ClusterTestKit.Text(worker2.Process, worker2.Stderr));
            worker1.Process.Kill();

            Assert.True(replay.Process.WaitForExit(300_000), "replay did not end");
            Assert.True(sensor.Process.WaitForExit(300_000), "the sensor did not end after the replayed stream");
            string sensorLog = await sensor.Stderr;
            Assert.True(sensor.Process.ExitCode == 0, sensorLog);
            var m = SensorLine().Match(sensorLog);
            Assert.True(m.Success, sensorLog);
            long flowsIn = long.Parse(m.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
            long published = long.Parse(m.Groups[2].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
            Assert.Equal(rows, flowsIn);
            Assert.Contains("(balanced)", sensorLog, StringComparison.Ordinal);

            // Wait until the surviving worker has scored everything and the ledger writer has caught up.
            await ClusterTestKit.WaitUntilAsync(
                async () => (await ClusterTestKit.ResultsAsync(nats.LiveUrls)).Sum(r => (long)r.Flows) >= published,
                TimeSpan.FromSeconds(300),
                () => ClusterTestKit.Text(worker2.Process, worker2.Stderr));
            long alerts = (await ClusterTestKit.ResultsAsync(nats.LiveUrls)).Sum(r => (long)r.AlertIds.Count);
            await ClusterTestKit.WaitUntilAsync(
                () => Task.FromResult(ClusterTestKit.LedgerCount(ledger) >= alerts),
                TimeSpan.FromSeconds(300),
                () => ClusterTestKit.Text(ledgerWriter.Process, ledgerWriter.Stderr));

            ClusterTestKit.Term(worker2.Process);
            ClusterTestKit.Term(ledgerWriter.Process);
            Assert.True(worker2.Process.WaitForExit(60_000) && ledgerWriter.Process.WaitForExit(60_000), "worker or ledger writer did not stop on SIGTERM");

            await ClusterTestKit.AssertExactlyOnceAsync(nats.LiveUrls, published, model.Sha256!, (ledger, ledgerPub));
            await using (var inspector = await ClusterInspector.ConnectAsync(nats.LiveUrls))
            {
                string? newLeader = await inspector.StreamLeaderAsync("STAKEOUT_FLOWS");
                Assert.NotNull(newLeader);
                Assert.NotEqual(leader, newLeader);
            }
        }
        finally
        {
            foreach (var (process, _) in all)
            {
                StakeoutProcess.KillIfRunning(process);
            }
        }
    }

    [GeneratedRegex(@"flows in ([\d,]+) = published ([\d,]+)")]
    private static partial Regex SensorLine();
}
