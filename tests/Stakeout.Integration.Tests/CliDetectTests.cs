using System.Text.Json;
using Stakeout.TestSupport;
using Stakeout.Testing;

namespace Stakeout.Integration.Tests;

/// <summary>`stakeout detect`, `monitor` and `replay` as a user runs them, on the shared data.</summary>
public sealed class CliDetectTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-cli-detect-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void Detect_DataWithoutIpColumns_SaysSoAndListsNoAddress()
    {
        string data = SharedData.Path("cicids2017", "mlcve_ddos-benign_10rows.csv");
        string model = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(model);
        string output = Path.Combine(_dir, "out");

        var (code, _, stderr) = CliInspectTests.Run("detect", "--model", model, data, "--output-dir", output);

        Assert.True(code == 0, stderr);
        var log = File.ReadAllLines(Path.Combine(output, "malicious_ips.log"));
        Assert.All(log, l => Assert.StartsWith("#", l, StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("no IP columns", StringComparison.Ordinal));
        Assert.Contains("no IP columns", stderr, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(10, summary.RootElement.GetProperty("flows_scored").GetInt64());
        Assert.True(summary.RootElement.GetProperty("alert_flows").GetInt64() > 0);
        Assert.False(summary.RootElement.GetProperty("data_has_addresses").GetBoolean());
    }

    [SkippableFact]
    public void Detect_FileLackingAModelFeature_FailsNamingIt()
    {
        // The families sample has no Destination Port column; the tiny model reads it.
        string data = SharedData.Path("cicids2017-families");
        string model = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(model);

        var (code, _, stderr) = CliInspectTests.Run("detect", "--model", model, data, "--output-dir", Path.Combine(_dir, "o"));

        Assert.Equal(2, code); // bad input data (docs/user-guide.md, exit codes)
        Assert.Contains("'Destination Port'", stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Monitor_Sigterm_DrainsAndWritesBalancedSummary()
    {
        string data = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        string model = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(model);
        int port = LoopbackPort.Free();
        int metricsPort = LoopbackPort.Free();
        string output = Path.Combine(_dir, "mon");
        var (started, stderr) = StakeoutProcess.Start("monitor", "-m", model, "-s", $"tcp://127.0.0.1:{port}", "-q", "-o", output, "--metrics-port", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var monitor = started;
        try
        {
            var replay = CliInspectTests.Run("replay", data, "--to", $"tcp://127.0.0.1:{port}");
            Assert.True(replay.Code == 0, replay.Stderr);
            using var http = new HttpClient();
            string metrics = "";
            for (int i = 0; i < 600 && !metrics.Contains("stakeout_flows_in_total 1000\n", StringComparison.Ordinal); i++)
            {
                await Task.Delay(50);
                metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics"));
            }

            Assert.Contains("stakeout_flows_in_total 1000\n", metrics, StringComparison.Ordinal);
            StakeoutProcess.Signal(monitor, "-TERM");
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await monitor.WaitForExitAsync(cts.Token);
        }
        finally
        {
            StakeoutProcess.KillIfRunning(monitor);
        }

        Assert.True(monitor.ExitCode == 0, await stderr);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var root = summary.RootElement;
        Assert.Equal(1000, root.GetProperty("flows_in").GetInt64());
        Assert.Equal(1000, root.GetProperty("flows_scored").GetInt64());
        Assert.True(root.GetProperty("balanced").GetBoolean());
        Assert.Equal("172.16.0.1", root.GetProperty("top_sources")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Help_DetectMonitorReplay_HaveExamples()
    {
        foreach (var command in new[] { "detect", "monitor", "replay" })
        {
            var (code, stdout, _) = CliInspectTests.Run(command, "--help");

            Assert.Equal(0, code);
            Assert.Contains("Examples:", stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Monitor_UnknownSourceScheme_FailsListingKnownOnes()
    {
        string model = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(model);

        // nats:// is a source since scale-out landed; kafka:// is not.
        var (code, _, stderr) = CliInspectTests.Run("monitor", "-m", model, "-s", "kafka://127.0.0.1:9092", "-o", Path.Combine(_dir, "o"));

        Assert.Equal(1, code);
        foreach (string scheme in new[] { "file:", "iface:", "nats:", "pcap:", "stdin:", "tcp:" })
        {
            Assert.Contains(scheme, stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Monitor_TcpPortInUse_FailsNamingItBeforeTheDashboardIsAnnounced()
    {
        string model = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(model);
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

        var (code, _, stderr) = CliInspectTests.Run(
            "monitor", "-m", model, "-s", $"tcp://127.0.0.1:{port}", "-o", Path.Combine(_dir, "o"), "--dashboard", "127.0.0.1:0", "--metrics-port", LoopbackPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(1, code);
        Assert.Contains($"error: tcp://127.0.0.1:{port}: the port is in use by another process", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("dashboard on", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("metrics on", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Sensor_TcpPortInUse_FailsNamingItBeforeConnectingToNats()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

        // Nothing listens on the NATS port: the start fails on the flow port before it tries to connect.
        var (code, _, stderr) = CliInspectTests.Run(
            "sensor", "--sensor", "s1", "--source", $"tcp://127.0.0.1:{port}", "--nats", $"nats://127.0.0.1:{LoopbackPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture)}");

        Assert.Equal(1, code);
        Assert.Contains($"error: tcp://127.0.0.1:{port}: the port is in use by another process", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("NATS", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("flows", "--mode")]
    [InlineData("monitor", "--meter-mode")]
    public void MeterMode_UnknownValue_IsAUsageErrorNamingTheOption(string command, string option)
    {
        string[] args = command == "flows"
            ? ["flows", "capture.pcap", "-o", Path.Combine(_dir, "f.csv"), option, "bogus"]
            : ["monitor", "-m", "m.stakeout", "-s", "pcap:capture.pcap", option, "bogus"];

        var (code, _, stderr) = CliInspectTests.Run(args);

        Assert.NotEqual(0, code);
        Assert.Contains($"{option} must be cicflowmeter or corrected, not 'bogus'.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
    }
}

/// <summary>`monitor` reloads its model on SIGHUP, verified, without dropping a flow.</summary>
public sealed class CliMonitorReloadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-cli-reload-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Under nohup the monitor inherits SIGHUP as ignored, and .NET keeps an ignored signal ignored: kill -HUP did
    // nothing until the CLI put the disposition back before registering its reload handler (Signals.OnHangup).
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Monitor_Sighup_ReloadsReplacedArtifactAndKeepsEveryFlow(bool underNohup)
    {
        string data = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        string model = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(model, ddosLeaf: 2.0);
        int port = LoopbackPort.Free();
        int metricsPort = LoopbackPort.Free();
        string output = Path.Combine(_dir, "mon");
        string[] args =
        [
            "monitor", "-m", model, "-s", $"tcp://127.0.0.1:{port}", "-q", "--no-watch",
            "--aggregate-window", "0", "-o", output, "--metrics-port", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ];
        var (started, stderr) = underNohup ? StakeoutProcess.StartUnderNohup(args) : StakeoutProcess.Start(args);
        using var monitor = started;
        using var http = new HttpClient();
        try
        {
            var first = CliInspectTests.Run("replay", data, "--to", $"tcp://127.0.0.1:{port}");
            Assert.True(first.Code == 0, first.Stderr);
            await WaitForMetric(http, metricsPort, "stakeout_flows_scored_total 1000\n");

            TinyModel.Save(Path.Combine(_dir, "next.tmp"), ddosLeaf: 3.0);
            File.Move(Path.Combine(_dir, "next.tmp"), model, overwrite: true);
            StakeoutProcess.Signal(monitor, "-HUP");
            await WaitForMetric(http, metricsPort, "stakeout_model_reloads_total{result=\"ok\"} 1\n");

            var second = CliInspectTests.Run("replay", data, "--to", $"tcp://127.0.0.1:{port}");
            Assert.True(second.Code == 0, second.Stderr);
            await WaitForMetric(http, metricsPort, "stakeout_flows_scored_total 2000\n");
            StakeoutProcess.Signal(monitor, "-TERM");
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await monitor.WaitForExitAsync(cts.Token);
        }
        finally
        {
            StakeoutProcess.KillIfRunning(monitor);
        }

        Assert.True(monitor.ExitCode == 0, await stderr);
        var shas = File.ReadLines(Path.Combine(output, "alerts.json"))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("stakeout").GetProperty("model_sha256").GetString())
            .ToList();
        Assert.Equal(2, shas.Distinct().Count());
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(2000, summary.RootElement.GetProperty("flows_scored").GetInt64());
        Assert.Equal(0, summary.RootElement.GetProperty("flows_dropped").GetInt64());
    }

    private static async Task WaitForMetric(HttpClient http, int port, string line)
    {
        string metrics = "";
        for (int i = 0; i < 600 && !metrics.Contains(line, StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
            try
            {
                metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
            }
            catch (HttpRequestException)
            {
                // The monitor may still be starting.
            }
        }

        Assert.True(metrics.Contains(line, StringComparison.Ordinal), $"no line '{line.TrimEnd()}' within 30 s; the last scrape:\n{metrics}");
    }
}
