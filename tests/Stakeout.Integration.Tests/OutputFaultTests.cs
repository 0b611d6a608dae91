using System.Diagnostics;
using System.Text.Json;
using Stakeout.Testing;

namespace Stakeout.Integration.Tests;

/// <summary>
/// The CLI's outputs on a hostile filesystem: a read-only output directory and a full disk. Root ignores file modes, so
/// the faults are real mounts (a read-only tmpfs, a 64 KiB tmpfs); where mounting is not permitted the tests skip.
/// </summary>
public sealed class OutputFaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-faults-").FullName;
    private readonly List<string> _mounts = [];

    public void Dispose()
    {
        foreach (string mount in _mounts)
        {
            RunTool("umount", mount);
        }

        Directory.Delete(_dir, recursive: true);
    }

    [SkippableFact]
    public void Detect_ReadOnlyOutputDir_FailsWithOneLineNamingIt()
    {
        string data = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        string model = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(model);
        string output = Mount("ro", "size=1m,ro");

        var (code, stdout, stderr) = CliInspectTests.Run("detect", "-m", model, data, "-o", output);

        Assert.NotEqual(0, code);
        AssertOneClearError(stderr, output);
        Assert.DoesNotContain(" at Stakeout.", stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
        // Nothing half-written beside it either: the temp folder holds only the model and the mount point.
        Assert.Equal(["m.stakeout", "ro"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public void Train_ReadOnlyOutputDir_FailsWithOneLineNamingIt()
    {
        string data = SharedData.Path("cicids2017");
        string output = Mount("ro", "size=1m,ro");
        string modelOut = Path.Combine(_dir, "m.stakeout");

        var (code, _, stderr) = CliInspectTests.Run("train", data, "--output-dir", output, "--rounds", "3", "--seed", "1", "--model-out", modelOut);

        Assert.NotEqual(0, code);
        AssertOneClearError(stderr, output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
        Assert.False(File.Exists(modelOut), "train wrote a model although its logs could not be written");
    }

    [SkippableFact]
    public void Detect_DiskFull_SaysNoSpaceNamingTheFileAndLeavesNoTornLine()
    {
        string data = SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv");
        string model = Path.Combine(_dir, "m.stakeout");
        TinyModel.Save(model);
        string output = Mount("full", "size=64k");

        // One alert per flow (no aggregation): about 800 alerts of ~1 KB, far more than the 64 KiB disk holds.
        var (code, stdout, stderr) = CliInspectTests.Run("detect", "-m", model, data, "-o", output, "--aggregate-window", "0");

        string alerts = Path.Combine(output, "alerts.json");
        string summaryPath = Path.Combine(output, "summary.json");
        Assert.DoesNotContain(" at Stakeout.", stderr + stdout, StringComparison.Ordinal);
        Assert.True(stderr.Contains("No space left", StringComparison.Ordinal), $"exit {code}, alerts.json {new FileInfo(Path.Combine(output, "alerts.json")).Length} bytes:\n{stderr}");
        Assert.Contains("alerts.json", stderr, StringComparison.Ordinal);
        if (code == 0)
        {
            // Exit 0 is only honest when the summary exists and counts the alerts the sink could not write.
            Assert.True(File.Exists(summaryPath), "exit 0 without summary.json: " + stderr);
        }

        Assert.True(File.Exists(alerts), "the disk filled without alerts.json being written: " + stderr);
        string text = File.ReadAllText(alerts);
        Assert.True(text.Length == 0 || text.EndsWith('\n'), "the last line of alerts.json is torn");
        int lines = 0;
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            lines++;
        }

        // The disk filled in the middle of a batch (the kernel took part of it): what is left is whole lines only.
        Assert.True(lines < 800, $"{lines} alerts on a 64 KiB disk: it never filled, so nothing was exercised");
        Assert.False(File.Exists(summaryPath + ".partial"), "a partial summary was left behind");
        if (File.Exists(summaryPath))
        {
            using var summary = JsonDocument.Parse(File.ReadAllText(summaryPath));
            var root = summary.RootElement;
            Assert.Equal(1000, root.GetProperty("flows_scored").GetInt64());
            var eve = root.GetProperty("sinks").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "eve");
            long written = eve.GetProperty("written").GetInt64();
            long unwritten = eve.GetProperty("lost").GetInt64() + eve.GetProperty("overflow").GetInt64();
            // Every alert is accounted for: the lines on disk are exactly those counted written, the rest counted lost.
            Assert.Equal(lines, written);
            Assert.True(unwritten > 0, "the disk was full, yet the summary counts no alert unwritten");
            Assert.Equal(root.GetProperty("alerts_emitted").GetInt64(), written + unwritten);
        }
        else
        {
            Assert.NotEqual(0, code);
            Assert.Contains("summary.json", stderr, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public void LedgerAppend_DiskFull_GivesUpWithOneClearError_AndTheLogVerifiesWithEveryAcknowledgedRecord()
    {
        string alerts = LedgerCliTests.AlertsIn(_dir);
        var keys = CliInspectTests.Run("keys", "new", "--out", Path.Combine(_dir, "keys"), "--name", "s");
        Assert.True(keys.Code == 0, keys.Stderr);
        string ledger = Mount("ledger", "size=256k");

        // About 1.5 KB a record: the 256 KiB disk fills after a few checkpoints of 64; before this, append retried for ever.
        var (code, stdout, stderr) = CliInspectTests.Run("ledger", "append", ledger, alerts,
            "--key", Path.Combine(_dir, "keys", "s.key"), "--checkpoint-every", "64", "--give-up-after", "2");

        Assert.Equal(1, code);
        AssertOneClearError(stderr, ledger);
        Assert.Contains("No space left", stderr, StringComparison.Ordinal);
        long acknowledged = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("ack ", StringComparison.Ordinal))
            .Sum(l => long.Parse(l.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture) - long.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) + 1);
        Assert.True(acknowledged is > 0 and < 1000, $"{acknowledged} records acknowledged: the disk never filled or never took one");
        var verify = CliInspectTests.Run("ledger", "verify", ledger, "--trusted-key", Path.Combine(_dir, "keys", "s.pub"), "--json");
        Assert.True(verify.Code == 0, verify.Stdout + verify.Stderr);
        using var report = JsonDocument.Parse(verify.Stdout);
        Assert.Equal(acknowledged, report.RootElement.GetProperty("records_verified").GetInt64());
    }

    [SkippableFact]
    public void LedgerAppend_ReadOnlyLedgerDir_FailsWithOneLineNamingIt()
    {
        var keys = CliInspectTests.Run("keys", "new", "--out", Path.Combine(_dir, "keys"), "--name", "s");
        Assert.True(keys.Code == 0, keys.Stderr);
        string alerts = Path.Combine(_dir, "alerts.json");
        File.WriteAllText(alerts, "");
        string ledger = Mount("ro-ledger", "size=1m,ro");

        var (code, _, stderr) = CliInspectTests.Run("ledger", "append", ledger, alerts, "--key", Path.Combine(_dir, "keys", "s.key"));

        Assert.NotEqual(0, code);
        AssertOneClearError(stderr, ledger);
        Assert.Empty(Directory.EnumerateFileSystemEntries(ledger));
    }

    private static void AssertOneClearError(string stderr, string directory)
    {
        Assert.DoesNotContain(" at Stakeout.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
        var errors = stderr.Split('\n').Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(errors.Count == 1, "expected one error line, got:\n" + stderr);
        Assert.Contains(directory, errors[0], StringComparison.Ordinal);
    }

    private string Mount(string name, string options)
    {
        string point = Path.Combine(_dir, name);
        Directory.CreateDirectory(point);
        var (code, stderr) = RunTool("mount", "-t", "tmpfs", "-o", options, "tmpfs", point);
        Skip.If(code != 0, $"mount -t tmpfs is not permitted here ({stderr.Trim()}); the filesystem fault tests need it.");
        _mounts.Add(point);
        return point;
    }

    private static (int Code, string Stderr) RunTool(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            using var p = Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, stderr);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{tool}: {e.Message}");
        }
    }
}
