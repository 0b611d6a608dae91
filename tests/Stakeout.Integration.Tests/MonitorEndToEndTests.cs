using System.Diagnostics;
using System.Text.Json;
using Stakeout.TestSupport;
using Stakeout.Testing;

namespace Stakeout.Integration.Tests;

/// <summary>
/// The detection runtime end to end, as a user runs it: `monitor` listening on a free loopback port, `replay` streaming
/// real shared rows into it, and `detect` on the same files; the alerts must be the same flows with the same classes,
/// and the monitor's accounting must balance exactly.
/// </summary>
public sealed class MonitorEndToEndTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task MonitorFedByReplay_TinyModel_SameAlertsAsDetectAndFlowsBalance()
    {
        _ = SharedData.Path("cicids2017");
        string model = Path.Combine(_dir, "model.stakeout");
        TinyModel.Save(model);
        await AssertMonitorMatchesDetect(model);
    }

    [SkippableFact]
    public async Task MonitorFedByReplay_ModelTrainedByStakeout_SameAlertsAsDetectAndFlowsBalance()
    {
        // A real model, trained here by `stakeout train` on the shared data (20 rounds keep the test short).
        string model = Path.Combine(_dir, "trained.stakeout");
        var train = CliInspectTests.Run(
            "train", SharedData.Path("cicids2017-families"), SharedData.Path("cicids2017"), "--labels", "family", "--seed", "1",
            "--rounds", "20", "--output-dir", Path.Combine(_dir, "train"), "--model-out", model);
        Assert.True(train.Code == 0, train.Stderr + train.Stdout);
        await AssertMonitorMatchesDetect(model);
    }

    private async Task AssertMonitorMatchesDetect(string model)
    {
        string[] files =
        [
            SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv"),
            SharedData.Path("cicids2017", "trafficlabelling_friday-ddos_head299.csv"),
            SharedData.Path("cicids2017", "trafficlabelling_webattack-xss_652.csv"),
        ];
        const long rows = 1000 + 299 + 652;
        int port = LoopbackPort.Free();
        string name = Path.GetFileNameWithoutExtension(model);
        string monitorOut = Path.Combine(_dir, name + "-monitor");
        string detectOut = Path.Combine(_dir, name + "-detect");

        var (monitor, monitorErr) = StakeoutProcess.Start(
            "monitor", "--model", model, "--source", $"tcp://127.0.0.1:{port}", "--max-flows", rows.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--aggregate-window", "0", "--quiet", "--output-dir", monitorOut);
        try
        {
            // On a loaded machine the monitor can take seconds to listen; a replay started before would be refused.
            Assert.True(await StakeoutProcess.WaitForListenerAsync(port, monitor, TimeSpan.FromMinutes(1)), "the monitor never listened");
            var replay = CliInspectTests.Run(["replay", .. files, "--to", $"tcp://127.0.0.1:{port}"]);
            Assert.True(replay.Code == 0, replay.Stderr);
            Assert.True(await WaitForExitAsync(monitor, TimeSpan.FromMinutes(2)), "monitor did not stop after --max-flows");
            Assert.True(monitor.ExitCode == 0, await monitorErr);
        }
        finally
        {
            StakeoutProcess.KillIfRunning(monitor);

            monitor.Dispose();
        }

        var detect = CliInspectTests.Run(["detect", "--model", model, .. files, "--aggregate-window", "0", "--output-dir", detectOut]);
        Assert.True(detect.Code == 0, detect.Stderr);

        using var monitorSummary = JsonDocument.Parse(File.ReadAllText(Path.Combine(monitorOut, "summary.json")));
        var m = monitorSummary.RootElement;
        Assert.Equal(rows, m.GetProperty("flows_in").GetInt64());
        Assert.Equal(rows, m.GetProperty("flows_scored").GetInt64() + m.GetProperty("flows_dropped").GetInt64());
        Assert.Equal(0, m.GetProperty("flows_rejected").GetInt64());
        Assert.True(m.GetProperty("balanced").GetBoolean());

        var fromMonitor = Alerts(Path.Combine(monitorOut, "alerts.json"));
        var fromDetect = Alerts(Path.Combine(detectOut, "alerts.json"));
        Assert.NotEmpty(fromDetect);
        Assert.Equal(fromDetect, fromMonitor);

        // Both wrote the same real attacker addresses, and only addresses that occur in the data.
        var ipsMonitor = Ips(Path.Combine(monitorOut, "malicious_ips.log"));
        Assert.Equal(Ips(Path.Combine(detectOut, "malicious_ips.log")).Order(), ipsMonitor.Order());
        Assert.Contains("172.16.0.1", ipsMonitor);
        string allData = string.Concat(files.Select(File.ReadAllText));
        Assert.All(ipsMonitor, ip => Assert.Contains("," + ip + ",", allData, StringComparison.Ordinal));
    }

    private static List<string> Alerts(string path) =>
        [.. File.ReadLines(path).Select(line =>
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            return $"{root.GetProperty("flow_id").GetInt64()} {root.GetProperty("alert").GetProperty("signature").GetString()} {root.GetProperty("stakeout").GetProperty("line").GetInt64()}";
        }).Order(StringComparer.Ordinal)];

    private static List<string> Ips(string path) => [.. File.ReadLines(path).Where(l => !l.StartsWith('#'))];

    private static async Task<bool> WaitForExitAsync(Process process, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
