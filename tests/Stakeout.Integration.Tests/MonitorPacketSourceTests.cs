using System.Globalization;
using System.Text.Json;

namespace Stakeout.Integration.Tests;

/// <summary>A model trained once by `stakeout train` on the shared CIC-IDS2017 samples, for the packet source tests.</summary>
public sealed class TrainedModelFixture : IDisposable
{
    private readonly Lazy<string> _model;

    public TrainedModelFixture() => _model = new Lazy<string>(Train);

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("stakeout-pcap-monitor-").FullName;

    /// <summary>The artifact's path (trained on first use, so a skipped test trains nothing).</summary>
    public string Model => _model.Value;

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private string Train()
    {
        // The default model, rounds included: with benign-half weights a 20-round model still called 37 of the 39 HULK
        // flows benign (the benign prior dominates the first rounds), the 60-round default 7.
        string model = Path.Combine(Directory, "trained.stakeout");
        var train = CliInspectTests.Run(
            "train", SharedData.Path("cicids2017-families"), SharedData.Path("cicids2017"), "--labels", "family", "--seed", "1",
            "--output-dir", Path.Combine(Directory, "train"), "--model-out", model);
        Assert.True(train.Code == 0, train.Stderr + train.Stdout);
        return model;
    }
}

/// <summary>
/// `stakeout monitor --source pcap:FILE` on real captures with a model trained here: every flow `stakeout flows` meters
/// from the capture is scored, once, and the alerts carry the capture's own addresses, ports and Flow IDs.
/// </summary>
public sealed class MonitorPacketSourceTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    [SkippableTheory]
    [InlineData("cicflowmeter-pairs/hulk.pcap", "cicflowmeter")]
    [InlineData("pcap/zeek_ftp-bruteforce.pcap", "corrected")]
    public void MonitorPcap_ThresholdZero_ScoresEveryFlowOfStakeoutFlowsWithItsIdentity(string capture, string mode)
    {
        string pcap = SharedData.Path(capture.Split('/'));
        var expected = FlowsOf(pcap, mode);
        Assert.NotEmpty(expected);

        // Threshold 0 makes every scored flow an alert, so the alerts list the flows detection saw with their identity.
        var (summary, alerts, stderr) = Monitor(pcap, "--meter-mode", mode, "--threshold", "0");

        Assert.Equal(expected.Count, summary.GetProperty("flows_in").GetInt64());
        Assert.Equal(expected.Count, summary.GetProperty("flows_scored").GetInt64());
        Assert.Equal(0, summary.GetProperty("flows_rejected").GetInt64());
        Assert.Equal(0, summary.GetProperty("flows_dropped").GetInt64());
        Assert.True(summary.GetProperty("balanced").GetBoolean());
        Assert.True(summary.GetProperty("data_has_addresses").GetBoolean());
        Assert.Equal(expected.Order(StringComparer.Ordinal), alerts.Select(a => a.Key).Order(StringComparer.Ordinal));
        Assert.All(alerts, a => Assert.Equal(a.Key, a.SourceFlowId));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{expected.Count} flows metered"), stderr, StringComparison.Ordinal);
        Assert.Contains("weird", stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void MonitorPcap_HulkCaptureWithModelThreshold_AlertsDoSFromTheRealAttacker()
    {
        string pcap = SharedData.Path("cicflowmeter-pairs", "hulk.pcap");
        var flows = FlowsOf(pcap, "cicflowmeter");

        var (summary, alerts, _) = Monitor(pcap);

        Assert.Equal(flows.Count, summary.GetProperty("flows_scored").GetInt64());
        Assert.NotEmpty(alerts);
        Assert.All(alerts, a => Assert.Contains(a.Key, flows));
        // The capture is a HULK HTTP flood from 10.128.0.2 against 10.0.0.2:80; a model trained on CIC-IDS2017's DoS
        // flows must recognise it from the metered packets.
        var dos = alerts.Where(a => a.Signature == "DoS").ToList();
        Assert.True(dos.Count > flows.Count / 2, $"only {dos.Count} of {flows.Count} flows alerted as DoS");
        // A connection already open when the capture started is metered from its first captured packet, the server's,
        // so its flow reads 10.0.0.2 -> 10.128.0.2 (as CICFlowMeter does); either way it is attacker and victim.
        Assert.All(dos, a => Assert.True(
            a.Key.StartsWith("10.128.0.2-10.0.0.2-", StringComparison.Ordinal) || a.Key.StartsWith("10.0.0.2-10.128.0.2-80-", StringComparison.Ordinal),
            a.Key));
        var ips = File.ReadLines(Path.Combine(fixture.Directory, "hulk-out", "malicious_ips.log")).Where(l => !l.StartsWith('#')).ToList();
        Assert.Contains("10.128.0.2", ips);
    }

    [SkippableFact]
    public void MonitorPcap_EmitInterval_LongFlowsAlsoScoredWhileOpenAndAccountingCountsEachReport()
    {
        string pcap = SharedData.Path("cicflowmeter-pairs", "ftp.pcap");
        var flows = FlowsOf(pcap, "cicflowmeter");

        var (summary, alerts, stderr) = Monitor(pcap, "--emit-interval", "1", "--threshold", "0");

        var interim = System.Text.RegularExpressions.Regex.Match(stderr, @"\(\+(\d+) interim reports\)");
        Assert.True(interim.Success, stderr);
        long reports = long.Parse(interim.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(reports > 0, "the FTP sessions last minutes; one-second reports must occur");
        Assert.Equal(flows.Count + reports, summary.GetProperty("flows_scored").GetInt64());
        Assert.True(summary.GetProperty("balanced").GetBoolean());
        // Interim reports are of flows that also end later: every alert names a flow `stakeout flows` writes.
        Assert.All(alerts, a => Assert.Contains(a.Key, flows));
    }

    [SkippableFact]
    public void MonitorPcap_NoSuchFile_FailsNamingIt()
    {
        string missing = Path.Combine(fixture.Directory, "absent.pcap");

        var (code, _, stderr) = CliInspectTests.Run("monitor", "-m", fixture.Model, "--source", "pcap:" + missing, "-q", "-o", Path.Combine(fixture.Directory, "absent-out"));

        Assert.Equal(1, code);
        Assert.Contains("no such capture file", stderr, StringComparison.Ordinal);
        Assert.Contains(missing, stderr, StringComparison.Ordinal);
    }

    /// <summary>The flows `stakeout flows` writes for the capture, as "SRC-DST-SPORT-DPORT-PROTO" (CICFlowMeter's Flow ID).</summary>
    private List<string> FlowsOf(string pcap, string mode)
    {
        string csv = Path.Combine(fixture.Directory, Path.GetFileNameWithoutExtension(pcap) + "-" + mode + ".csv");
        var run = CliInspectTests.Run("flows", pcap, "-o", csv, "--mode", mode);
        Assert.True(run.Code == 0, run.Stderr + run.Stdout);
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        int src = Array.IndexOf(header, "Src IP"), dst = Array.IndexOf(header, "Dst IP");
        int sport = Array.IndexOf(header, "Src Port"), dport = Array.IndexOf(header, "Dst Port"), proto = Array.IndexOf(header, "Protocol");
        Assert.True(src >= 0 && dst >= 0 && sport >= 0 && dport >= 0 && proto >= 0, lines[0]);
        return [.. lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).Select(f => $"{f[src]}-{f[dst]}-{f[sport]}-{f[dport]}-{f[proto]}")];
    }

    private (JsonElement Summary, List<AlertRow> Alerts, string Stderr) Monitor(string pcap, params string[] extra)
    {
        string output = Path.Combine(fixture.Directory, Path.GetFileNameWithoutExtension(pcap) + (extra.Length == 0 ? "-out" : "-out0"));
        var run = CliInspectTests.Run(["monitor", "-m", fixture.Model, "--source", "pcap:" + pcap, "--aggregate-window", "0", "-q", "-o", output, .. extra]);
        Assert.True(run.Code == 0, run.Stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var alerts = File.ReadLines(Path.Combine(output, "alerts.json")).Select(line =>
        {
            using var a = JsonDocument.Parse(line);
            var r = a.RootElement;
            int proto = r.GetProperty("proto").GetString() switch { "TCP" => 6, "UDP" => 17, "ICMP" => 1, var p => int.Parse(p!, CultureInfo.InvariantCulture) };
            string key = string.Create(CultureInfo.InvariantCulture, $"{r.GetProperty("src_ip").GetString()}-{r.GetProperty("dest_ip").GetString()}-{r.GetProperty("src_port").GetInt32()}-{r.GetProperty("dest_port").GetInt32()}-{proto}");
            return new AlertRow(key, r.GetProperty("stakeout").GetProperty("source_flow_id").GetString()!, r.GetProperty("alert").GetProperty("signature").GetString()!);
        }).ToList();
        return (doc.RootElement.Clone(), alerts, run.Stderr);
    }

    private sealed record AlertRow(string Key, string SourceFlowId, string Signature);
}

/// <summary>`stakeout monitor --source iface:lo` on traffic the test makes itself (live capture needs root on Linux).</summary>
public sealed class MonitorLiveSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-live-monitor-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task MonitorIface_LoopbackConnection_ScoredWithItsEndpointsAndStopsAtMaxFlows()
    {
        using var listener = StartListener(out int port);
        string output = Path.Combine(_dir, "out");
        var (started, stderr) = StartMonitor(port, output, "--max-flows", "1");
        using var monitor = started;
        try
        {
            // Talk until the monitor has taken its one flow and exited (bounded: the capture needs a moment to attach).
            for (int attempt = 0; attempt < 60 && !monitor.HasExited; attempt++)
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
                using var server = await listener.AcceptTcpClientAsync();
                await client.GetStream().WriteAsync("hello stakeout"u8.ToArray());
                _ = await server.GetStream().ReadAsync(new byte[64]);
                client.Close();
                server.Close();
                await Task.WhenAny(monitor.WaitForExitAsync(), Task.Delay(500));
            }

            Assert.True(monitor.HasExited, "monitor did not stop after --max-flows 1");
            Assert.True(monitor.ExitCode == 0, await stderr);
        }
        finally
        {
            StakeoutProcess.KillIfRunning(monitor);
        }

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(1, summary.RootElement.GetProperty("flows_in").GetInt64());
        Assert.Equal(1, summary.RootElement.GetProperty("flows_scored").GetInt64());
        Assert.True(summary.RootElement.GetProperty("balanced").GetBoolean());
        using var alert = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(output, "alerts.json"))));
        var root = alert.RootElement;
        Assert.Equal("127.0.0.1", root.GetProperty("src_ip").GetString());
        Assert.Equal("127.0.0.1", root.GetProperty("dest_ip").GetString());
        Assert.Contains(port, new[] { root.GetProperty("src_port").GetInt32(), root.GetProperty("dest_port").GetInt32() });
        Assert.Equal("TCP", root.GetProperty("proto").GetString());
        Assert.Equal("iface:lo", root.GetProperty("stakeout").GetProperty("stream").GetString());
    }

    [SkippableFact]
    public async Task MonitorIface_ConnectionStillOpenAtStop_FlushedAndScored()
    {
        using var listener = StartListener(out int port);
        string output = Path.Combine(_dir, "open");
        var (started, stderr) = StartMonitor(port, output, "--duration", "6");
        using var monitor = started;
        try
        {
            // One connection, never closed while the monitor runs: it has no FIN and no timeout before the stop, so only
            // the flush at the stop can report it. Bytes go both ways every 200 ms until the monitor's 6 s are over.
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            using var server = await listener.AcceptTcpClientAsync();
            var buffer = new byte[64];
            // Bounded by wall time, not ticks: start-up, the 6 s and the drain may take long on a busy machine.
            var talking = System.Diagnostics.Stopwatch.StartNew();
            while (!monitor.HasExited && talking.Elapsed < TimeSpan.FromSeconds(60))
            {
                await client.GetStream().WriteAsync("still here"u8.ToArray());
                _ = await server.GetStream().ReadAsync(buffer);
                await server.GetStream().WriteAsync("ok"u8.ToArray());
                _ = await client.GetStream().ReadAsync(buffer);
                await Task.WhenAny(monitor.WaitForExitAsync(), Task.Delay(200));
            }

            Assert.True(monitor.HasExited, "monitor did not stop after --duration 6");
            Assert.True(monitor.ExitCode == 0, await stderr);
        }
        finally
        {
            StakeoutProcess.KillIfRunning(monitor);
        }

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.True(summary.RootElement.GetProperty("balanced").GetBoolean());
        long scored = summary.RootElement.GetProperty("flows_scored").GetInt64();
        Assert.True(scored >= 1, $"no flow scored; stderr: {await stderr}");
        var alerts = File.ReadAllLines(Path.Combine(output, "alerts.json")).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Contains(alerts, a => a.GetProperty("proto").GetString() == "TCP"
            && (a.GetProperty("src_port").GetInt32() == port || a.GetProperty("dest_port").GetInt32() == port));
    }

    /// <summary>A loopback listener on a free port; skips the test where live capture on 'lo' is impossible.</summary>
    private static System.Net.Sockets.TcpListener StartListener(out int port)
    {
        Skip.IfNot(OperatingSystem.IsLinux() && Environment.UserName == "root", "live capture needs root on Linux");
        Skip.IfNot(File.Exists("/sys/class/net/lo/operstate"), "no loopback interface 'lo'");
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }

    /// <summary>`stakeout monitor` on iface:lo for TCP port <paramref name="port"/>, threshold 0 (every flow alerts), with its own stop option.</summary>
    private (System.Diagnostics.Process Process, Task<string> Stderr) StartMonitor(int port, string output, params string[] stop)
    {
        string model = Path.Combine(_dir, "m.stakeout");
        if (!File.Exists(model))
        {
            Stakeout.Testing.TinyModel.Save(model);
        }

        return StakeoutProcess.Start([
            "monitor", "-m", model, "--source", "iface:lo",
            "--capture-filter", string.Create(CultureInfo.InvariantCulture, $"tcp port {port}"), "--threshold", "0",
            "--aggregate-window", "0", "-q", "-o", output, .. stop]);
    }
}
