using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Stakeout.TestSupport;
using Stakeout.Testing;
using Xunit.Abstractions;

namespace Stakeout.Integration.Tests;

/// <summary>
/// `monitor --ledger` killed with SIGKILL at seeded moments while real flows stream in (issue 22, crash safety): after
/// every kill the ledger verifies with the public key only and extends the head seen after the kill before (so no
/// record that was under a signed checkpoint is lost or changed), the next monitor reopens it (the OS drops the writer
/// lock), and a last run stopped by SIGTERM appends exactly one record per alert it wrote.
/// </summary>
public sealed class MonitorLedgerCrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-monitor-crash-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task MonitorWithLedger_KilledAtSeededMoments_KeepsEverySignedRecord_AndResumes()
    {
        string flows = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        string model = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(model);
        var keys = CliInspectTests.Run("keys", "new", "--out", Path.Combine(_dir, "keys"), "--name", "sensor");
        Assert.True(keys.Code == 0, keys.Stderr);
        string key = Path.Combine(_dir, "keys", "sensor.key"), pub = Path.Combine(_dir, "keys", "sensor.pub");
        string ledger = Path.Combine(_dir, "ledger"), seen = Path.Combine(_dir, "seen.checkpoint");
        var random = new Random(20261204);
        var sizes = new List<long>();
        List<string> before = [];
        const int rounds = 4;
        for (int round = 0; round <= rounds; round++)
        {
            bool last = round == rounds;
            int port = LoopbackPort.Free();
            string runDir = Path.Combine(_dir, $"out-{round}");
            var (monitor, monitorErr) = StakeoutProcess.Start(
                "monitor", "--model", model, "--source", $"tcp://127.0.0.1:{port}", "--ledger", ledger, "--ledger-key", key,
                "--ledger-sensor", "edge-1", "--aggregate-window", "0", "--quiet", "--duration", "300", "--output-dir", runDir);
            using (monitor)
            {
                if (!await StakeoutProcess.WaitForListenerAsync(port, monitor, TimeSpan.FromMinutes(1)))
                {
                    // (stderr is awaited only here: it completes when the process ends)
                    Assert.Fail($"round {round}: the monitor did not listen: {await monitorErr}");
                }

                var (replay, _) = StakeoutProcess.Start("replay", flows, "--to", $"tcp://127.0.0.1:{port}", "--rate", "1000");
                using (replay)
                {
                    if (last)
                    {
                        Assert.True(replay.WaitForExit(TimeSpan.FromMinutes(2)), "the last replay did not finish");
                        Assert.Equal(0, replay.ExitCode);
                        await WaitForLinesAsync(Path.Combine(runDir, "alerts.json"), monitor);
                        StakeoutProcess.Signal(monitor, "-TERM");
                    }
                    else
                    {
                        // Once alerts flow (the replay takes about a second), at a seeded moment: mid-append or mid-commit.
                        var started = Stopwatch.StartNew();
                        string alerts = Path.Combine(runDir, "alerts.json");
                        while ((!File.Exists(alerts) || new FileInfo(alerts).Length == 0) && started.Elapsed < TimeSpan.FromMinutes(1) && !monitor.HasExited)
                        {
                            Thread.Sleep(5);
                        }

                        Thread.Sleep(random.Next(0, 800));
                        StakeoutProcess.Signal(monitor, "-KILL");
                    }

                    Assert.True(monitor.WaitForExit(TimeSpan.FromMinutes(1)), $"round {round}: the monitor did not exit");
                    StakeoutProcess.KillIfRunning(replay);
                }

                if (last && monitor.ExitCode != 0)
                {
                    Assert.Fail($"the last monitor exited {monitor.ExitCode}: {await monitorErr}");
                }
            }

            if (!File.Exists(Path.Combine(ledger, "head")))
            {
                // Killed before its first checkpoint: nothing was signed, and nothing may be claimed.
                Assert.Empty(sizes);
                continue;
            }

            // Public key only; --state: the head must extend the one seen after the previous kill (consistency proof).
            var verify = CliInspectTests.Run("ledger", "verify", ledger, "--trusted-key", pub, "--state", seen, "--json");
            Assert.True(verify.Code == 0, $"round {round}: {verify.Stdout}\n{verify.Stderr}");
            long size = JsonDocument.Parse(verify.Stdout).RootElement.GetProperty("records_verified").GetInt64();
            Assert.True(sizes.Count == 0 || size >= sizes[^1], $"round {round}: the log shrank from {sizes.LastOrDefault()} to {size}");
            var ids = RecordIds(ledger, pub);
            Assert.Equal(size, ids.Count);
            Assert.Equal(before, ids.Take(before.Count));
            if (last)
            {
                // Stopped by a signal after the replay: every alert the run wrote is in the ledger, once, after the rest.
                long alerts = File.ReadLines(Path.Combine(runDir, "alerts.json")).Count(l => l.Length > 0);
                Assert.True(alerts > 100, $"only {alerts} alerts");
                Assert.Equal(sizes[^1] + alerts, size);
                Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
            }

            string written = Path.Combine(runDir, "alerts.json");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {(File.Exists(written) ? File.ReadLines(written).Count() : 0)} alert line(s) written, {size} signed record(s)"));
            sizes.Add(size);
            before = ids;
        }

        output.WriteLine($"signed records after each round (kills, then SIGTERM): {string.Join(", ", sizes)}");
        Assert.True(sizes.Count >= 3, $"too few rounds reached a checkpoint: {string.Join(", ", sizes)}");
        Assert.True(sizes[^2] > 0, "no kill round left any signed record");
        Assert.True(sizes.Any(s => s % 1000 != 0), "no kill landed mid-stream: " + string.Join(", ", sizes));
    }

    private static List<string> RecordIds(string ledger, string pub)
    {
        var show = CliInspectTests.Run("ledger", "show", ledger, "--trusted-key", pub, "--json");
        Assert.True(show.Code == 0, show.Stderr);
        return [.. show.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("record").GetProperty("id").GetString()!)];
    }

    private static async Task WaitForLinesAsync(string alerts, Process monitor)
    {
        // The replay has ended; give the monitor a moment to score what is in its socket before the signal.
        var clock = Stopwatch.StartNew();
        long previous = -1;
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && !monitor.HasExited)
        {
            long now = File.Exists(alerts) ? new FileInfo(alerts).Length : 0;
            if (now > 0 && now == previous)
            {
                return;
            }

            previous = now;
            await Task.Delay(500);
        }

        Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"{alerts} did not settle within 30 s"));
    }
}
