using System.Globalization;
using System.Text.Json;
using Stakeout.TestSupport;

namespace Stakeout.Integration.Tests;

/// <summary>
/// Drift warnings end to end with the default model trained on all shared data: captures of other networks, turned into
/// flows by Stakeout's own flow meter (`monitor --source pcap:`), warn and name the features; a replay of the
/// CIC-IDS2017 files the model was trained on, streamed into a monitor over TCP, does not.
/// </summary>
public sealed class DriftWarningTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    [SkippableTheory]
    [InlineData("cicflowmeter-pairs/ftp.pcap")]
    [InlineData("cicflowmeter-pairs/hulk.pcap")]
    [InlineData("cicflowmeter-pairs/testing2.pcap")]
    [InlineData("pcap/zeek_ftp-bruteforce.pcap")]
    public void MonitorPcap_CaptureOfAnotherNetwork_WarnsNamingTheDriftedFeatures(string capture)
    {
        string pcap = SharedData.Path(capture.Split('/'));
        string output = Path.Combine(fixture.Directory, "drift-" + Path.GetFileNameWithoutExtension(pcap));

        var run = CliInspectTests.Run("monitor", "-m", fixture.Model, "--source", "pcap:" + pcap, "-q", "-o", output);

        Assert.True(run.Code == 0, run.Stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var drift = doc.RootElement.GetProperty("drift");
        Assert.Equal(1, drift.GetProperty("windows").GetInt64());
        Assert.Equal(1, drift.GetProperty("drifted_windows").GetInt64());
        var features = drift.GetProperty("drifted_features").EnumerateArray().Select(f => f.GetProperty("feature").GetString()!).ToList();
        Assert.NotEmpty(features);
        Assert.Contains("Drift: window 1", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(features[0], run.Stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task MonitorReplay_TrainingLikeFlows_NoDriftWarning()
    {
        string[] files =
        [
            SharedData.Path("cicids2017", "mlcve_friday-ddos_head9998.csv"),
            SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv"),
            SharedData.Path("cicids2017-families", "cicids2017_sample_families.csv"),
        ];
        const long rows = 9998 + 1000 + 6311;
        int port = LoopbackPort.Free();
        string output = Path.Combine(fixture.Directory, "drift-replay");
        var (monitor, stderr) = StakeoutProcess.Start(
            "monitor", "--model", fixture.Model, "--source", $"tcp://127.0.0.1:{port}", "--max-flows", rows.ToString(CultureInfo.InvariantCulture),
            "--quiet", "--output-dir", output);
        try
        {
            var replay = CliInspectTests.Run(["replay", .. files, "--to", $"tcp://127.0.0.1:{port}"]);
            Assert.True(replay.Code == 0, replay.Stderr);
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await monitor.WaitForExitAsync(cts.Token);
            Assert.True(monitor.ExitCode == 0, await stderr);
        }
        finally
        {
            StakeoutProcess.KillIfRunning(monitor);
            monitor.Dispose();
        }

        string log = await stderr;
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var drift = doc.RootElement.GetProperty("drift");
        Assert.Equal(rows, doc.RootElement.GetProperty("flows_scored").GetInt64());
        Assert.True(drift.GetProperty("windows").GetInt64() >= 17, drift.ToString());
        Assert.Equal(0, drift.GetProperty("drifted_windows").GetInt64());
        Assert.DoesNotContain("Drift:", log, StringComparison.Ordinal);
    }
}
