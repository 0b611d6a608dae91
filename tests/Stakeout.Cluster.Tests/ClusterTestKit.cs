using System.Diagnostics;
using System.Text.Json;
using Stakeout.Detection;
using Stakeout.Integration.Tests;
using Stakeout.Testing;

namespace Stakeout.Cluster.Tests;

/// <summary>What the tests read back from a cluster: results, alerts, and checks shared by the tests.</summary>
internal static class ClusterTestKit
{
    public static readonly ClusterOptions Defaults = new();

    /// <summary>A tiny real artifact (DDoS for port 80 flows) in <paramref name="dir"/>, loaded as detection loads it.</summary>
    public static (string Path, ModelHandle Model) Model(string dir, double ddosLeaf = 2.0)
    {
        string path = System.IO.Path.Combine(dir, $"model-{ddosLeaf}.stakeout");
        TinyModel.Save(path, ddosLeaf);
        return (path, ModelLoader.Load(path, new DetectionOptions()));
    }

    /// <summary>Polls <paramref name="condition"/> every 500 ms until true or <paramref name="limit"/> passes (then fails with <paramref name="what"/>).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!await Safely(condition))
        {
            Assert.True(clock.Elapsed < limit, $"not reached within {limit.TotalSeconds:0} s: {what()}");
            await Task.Delay(500);
        }
    }

    /// <summary>A condition that throws (a leader election in progress: no API response) counts as not yet true.</summary>
    private static async Task<bool> Safely(Func<Task<bool>> condition)
    {
        try
        {
            return await condition();
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            return false;
        }
    }

    public static async Task<IReadOnlyList<BatchResult>> ResultsAsync(string urls)
    {
        await using var inspector = await ClusterInspector.ConnectAsync(urls);
        if (await inspector.MessageCountAsync(Defaults.ResultStream) <= 0)
        {
            return [];
        }

        return [.. (await inspector.ReadAllAsync(Defaults.ResultStream)).Select(m => BatchResult.Parse(m.Data))];
    }

    public static async Task<long> CountAsync(string urls, string stream)
    {
        try
        {
            await using var inspector = await ClusterInspector.ConnectAsync(urls);
            return await inspector.MessageCountAsync(stream);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            return -1;
        }
    }

    /// <summary>
    /// The exactly-once checks: every batch result once, every (stream, line) once, flows summing to
    /// <paramref name="published"/>; every alert id once in the alert stream and equal to the results' ids, each alert
    /// naming <paramref name="sha"/>; and, when given, the signed ledger verifying and holding exactly those ids once.
    /// </summary>
    public static async Task AssertExactlyOnceAsync(string urls, long published, string sha, (string Dir, string PublicKey)? ledger)
    {
        var results = await ResultsAsync(urls);
        Assert.Equal(results.Count, results.Select(r => r.BatchId).Distinct().Count());
        Assert.Equal(published, results.Sum(r => (long)r.Flows));
        var flows = results.SelectMany(r => r.Lines.Select(l => (r.Stream, l))).ToList();
        Assert.Equal(flows.Count, flows.Distinct().Count());
        var expectedIds = results.SelectMany(r => r.AlertIds).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(expectedIds);
        Assert.All(results, r => Assert.Equal(sha, r.ModelSha256));

        await using var inspector = await ClusterInspector.ConnectAsync(urls);
        var alerts = await inspector.ReadAllAsync(Defaults.AlertStream);
        var alertIds = alerts.Select(a => a.Headers["Stakeout-Alert-Id"]).ToList();
        Assert.Equal(alertIds.Count, alertIds.Distinct().Count());
        Assert.True(expectedIds.SetEquals(alertIds), $"alert stream holds {alertIds.Count} ids, the results name {expectedIds.Count}");
        foreach (var a in alerts)
        {
            using var doc = JsonDocument.Parse(a.Data);
            Assert.Equal(sha, doc.RootElement.GetProperty("stakeout").GetProperty("model_sha256").GetString());
        }

        if (ledger is not null)
        {
            await AssertLedgerAsync(ledger.Value.Dir, ledger.Value.PublicKey, expectedIds);
        }
    }

    /// <summary>An Ed25519 key pair for the ledger writer in <paramref name="dir"/>: (private key file, public key file).</summary>
    public static (string Key, string PublicKey) LedgerKey(string dir)
    {
        Directory.CreateDirectory(dir);
        string key = System.IO.Path.Combine(dir, "ledger.key"), pub = System.IO.Path.Combine(dir, "ledger.pub");
        using var k = Stakeout.Models.ModelSigningKey.Create();
        k.SavePrivateKey(key);
        k.SavePublicKey(pub);
        return (key, pub);
    }

    /// <summary>Records in the ledger's index (its alert ids), 0 while it has none.</summary>
    public static long LedgerCount(string dir)
    {
        string index = System.IO.Path.Combine(dir, LedgerAlertStore.IndexFile);
        return File.Exists(index) ? LedgerAlertStore.ReadIndex(index).LongCount() : 0;
    }

    /// <summary>
    /// The threat ledger's checks: `ledger verify --trusted-key` passes (every signature, consistency and inclusion
    /// proof), it holds exactly one record per expected alert id (index 0..n-1 without gap), no id twice.
    /// </summary>
    public static async Task AssertLedgerAsync(string dir, string publicKey, IReadOnlySet<string> expectedIds)
    {
        var verify = StakeoutProcess.StartCapturing("ledger", "verify", dir, "--trusted-key", publicKey, "--json");
        Assert.True(verify.Process.WaitForExit(120_000), "ledger verify did not end");
        string stdout = await verify.Stdout, stderr = await verify.Stderr;
        Assert.True(verify.Process.ExitCode == 0, $"ledger verify exit {verify.Process.ExitCode}: {stderr}{stdout}");
        using var report = JsonDocument.Parse(stdout);
        long verified = report.RootElement.GetProperty("records_verified").GetInt64();

        var index = LedgerAlertStore.ReadIndex(System.IO.Path.Combine(dir, LedgerAlertStore.IndexFile)).ToList();
        Assert.Equal(Enumerable.Range(0, index.Count).Select(i => (long)i), index.Select(r => r.Index));
        Assert.Equal(index.Count, index.Select(r => r.AlertId).Distinct().Count());
        Assert.Equal(index.Count, verified);
        Assert.True(expectedIds.SetEquals(index.Select(r => r.AlertId)), $"the ledger holds {index.Count} alerts, the results name {expectedIds.Count}");
    }

    public static string Text(Process p, Task<string> stderr) => p.HasExited ? stderr.Result : "(running)";

    public static void Term(Process p) => StakeoutProcess.Signal(p, "-TERM");
}
