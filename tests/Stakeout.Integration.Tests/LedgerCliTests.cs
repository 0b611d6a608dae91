using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Stakeout.Testing;

namespace Stakeout.Integration.Tests;

/// <summary>`stakeout ledger` as a user runs it on alerts `detect` wrote from the shared data, including kill -9 mid-append.</summary>
public sealed partial class LedgerCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-cli-ledger-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Alerts() => AlertsIn(_dir);

    /// <summary>Real alerts in DIR/detect/alerts.json: the tiny model over the DDoS TrafficLabelling extract, one alert per flow.</summary>
    internal static string AlertsIn(string dir)
    {
        string data = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        string model = Path.Combine(dir, "m.stakeout");
        TinyModel.Save(model);
        var detect = CliInspectTests.Run("detect", "--model", model, data, "--output-dir", Path.Combine(dir, "detect"), "--aggregate-window", "0");
        Assert.True(detect.Code == 0, detect.Stderr);
        string alerts = Path.Combine(dir, "detect", "alerts.json");
        Assert.True(File.ReadLines(alerts).Count() > 100, "the tiny model should flag many of the DDoS flows");
        return alerts;
    }

    private (string Key, string Pub) Keys()
    {
        var keys = CliInspectTests.Run("keys", "new", "--out", Path.Combine(_dir, "keys"), "--name", "sensor");
        Assert.True(keys.Code == 0, keys.Stderr);
        return (Path.Combine(_dir, "keys", "sensor.key"), Path.Combine(_dir, "keys", "sensor.pub"));
    }

    [SkippableFact]
    public void AppendThenVerify_RealAlerts_AcknowledgesAndVerifiesEveryOne()
    {
        string alerts = Alerts();
        var (key, pub) = Keys();
        string ledger = Path.Combine(_dir, "ledger");
        int lines = File.ReadLines(alerts).Count();

        var append = CliInspectTests.Run("ledger", "append", ledger, alerts, "--key", key, "--sensor", "edge-1", "--checkpoint-every", "100");
        var verify = CliInspectTests.Run("ledger", "verify", ledger, "--trusted-key", pub, "--json");
        var export = CliInspectTests.Run("ledger", "export", ledger, "--trusted-key", pub, "--stix", Path.Combine(_dir, "bundle.json"));

        Assert.True(append.Code == 0, append.Stderr);
        Assert.Equal(lines, Acknowledged(append.Stdout).Sum(a => a.Last - a.First + 1));
        Assert.True(verify.Code == 0, verify.Stderr);
        using var report = JsonDocument.Parse(verify.Stdout);
        Assert.True(report.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(lines, report.RootElement.GetProperty("records_verified").GetInt64());
        Assert.True(export.Code == 0, export.Stderr);
        using var bundle = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "bundle.json")));
        Assert.Equal(lines, bundle.RootElement.GetProperty("objects").EnumerateArray().Count(o => o.GetProperty("type").GetString() == "sighting"));
    }

    [SkippableFact]
    public void Verify_RecordBlockFlippedOnDisk_ExitsThreeNamingTheRecord()
    {
        string alerts = Alerts();
        var (key, pub) = Keys();
        string ledger = Path.Combine(_dir, "ledger");
        Assert.Equal(0, CliInspectTests.Run("ledger", "append", ledger, alerts, "--key", key, "--sensor", "edge-1").Code);
        // The largest block holds records; flip one byte in its fourth line.
        string block = Directory.EnumerateFiles(Path.Combine(ledger, "blocks"), "b*", SearchOption.AllDirectories).OrderByDescending(f => new FileInfo(f).Length).First();
        byte[] bytes = File.ReadAllBytes(block);
        int at = 0;
        for (int newlines = 0; newlines < 3; at++)
        {
            newlines += bytes[at] == '\n' ? 1 : 0;
        }

        bytes[at + 10] ^= 0x01;
        File.WriteAllBytes(block, bytes);

        var verify = CliInspectTests.Run("ledger", "verify", ledger, "--trusted-key", pub);

        Assert.Equal(3, verify.Code);
        // Record 3 of that block: its index in the log depends on where the block starts.
        Assert.Matches(@"FAILED: record \d+: check 'record-hash' failed: the record does not match its signed leaf hash", verify.Stderr);
    }

    [SkippableFact]
    public void Append_WhileAnotherProcessWritesTheLedger_RefusedBeforeWritingAnything()
    {
        // Two writers would each sign a checkpoint over their own records and fork the log.
        string alerts = Alerts();
        var (key, _) = Keys();
        string ledger = Path.Combine(_dir, "ledger");
        Directory.CreateDirectory(ledger);
        using (new FileStream(Path.Combine(ledger, "writer.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var append = CliInspectTests.Run("ledger", "append", ledger, alerts, "--key", key, "--sensor", "edge-1");

            Assert.NotEqual(0, append.Code);
            Assert.Contains("another process is writing this ledger", append.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(ledger, "head")));
        }

        Assert.Equal(0, CliInspectTests.Run("ledger", "append", ledger, alerts, "--key", key, "--sensor", "edge-1").Code);
    }

    [SkippableFact]
    public void Append_KilledAtSeededRandomMoments_KeepsEveryAcknowledgedRecord()
    {
        string alerts = Alerts();
        var (key, pub) = Keys();
        string ledger = Path.Combine(_dir, "ledger");
        // A longer input (the alerts eight times over, flow ids made unique) so a kill lands mid-append.
        string input = Path.Combine(_dir, "many.json");
        var source = File.ReadAllLines(alerts);
        var lines = Enumerable.Range(0, 8).SelectMany(r => source.Select((l, i) => FlowIdPattern().Replace(l, $"\"flow_id\":{(r * 100000) + i}", 1))).ToList();
        File.WriteAllLines(input, lines);
        var random = new Random(20261203);
        var expected = new Dictionary<long, string>(); // acknowledged index -> the flow id its record must carry
        long size = 0;
        for (int round = 0; round < 10; round++)
        {
            var (process, stdout, stderr) = StakeoutProcess.StartCapturing("ledger", "append", ledger, input, "--key", key, "--sensor", "edge-1", "--checkpoint-every", "64", "--checkpoint-ms", "10");
            using (process)
            {
                // Under load the CLI can take seconds to start: the random moment counts from when it has opened the log.
                var opened = Stopwatch.StartNew();
                while (!File.Exists(Path.Combine(ledger, "ledger.json")) && !process.HasExited && opened.Elapsed < TimeSpan.FromMinutes(1))
                {
                    Thread.Sleep(20);
                }

                Thread.Sleep(random.Next(2500));
                StakeoutProcess.Signal(process, "-KILL");
                Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)));
            }

            foreach (var (first, last) in Acknowledged(stdout.Result))
            {
                for (long i = first; i <= last; i++)
                {
                    expected[i] = FlowId(lines[(int)(i - size)]);
                }
            }

            if (!File.Exists(Path.Combine(ledger, "head")))
            {
                // Killed before the first checkpoint: nothing may have been acknowledged.
                Assert.Empty(expected);
                continue;
            }

            var show = CliInspectTests.Run("ledger", "show", ledger, "--trusted-key", pub, "--json");
            Assert.True(show.Code == 0, $"round {round}: {show.Stderr}\n{stderr.Result}");
            var present = show.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            foreach (var (index, flowId) in expected)
            {
                Assert.True(index < present.Count, $"round {round}: acknowledged record {index} is gone (log has {present.Count})");
                var sighting = present[(int)index].GetProperty("record").GetProperty("objects").EnumerateArray().Last();
                Assert.Equal(flowId, sighting.GetProperty("x_stakeout_flow_id").GetInt64().ToString(CultureInfo.InvariantCulture));
            }

            size = present.Count;
        }

        var verify = CliInspectTests.Run("ledger", "verify", ledger, "--trusted-key", pub);
        Assert.True(verify.Code == 0, verify.Stderr);
        Assert.True(expected.Count > 0, "no round acknowledged anything: the kills came too early");
    }

    [System.Text.RegularExpressions.GeneratedRegex("\"flow_id\":[0-9]+")]
    private static partial System.Text.RegularExpressions.Regex FlowIdPattern();

    private static string FlowId(string eveLine)
    {
        using var doc = JsonDocument.Parse(eveLine);
        return doc.RootElement.GetProperty("flow_id").GetInt64().ToString(CultureInfo.InvariantCulture);
    }

    private static List<(long First, long Last)> Acknowledged(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("ack ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .Select(f => (long.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture)))
            .ToList();
}
