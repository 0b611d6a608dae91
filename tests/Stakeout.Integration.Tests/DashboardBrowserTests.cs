using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using Stakeout.TestSupport;

namespace Stakeout.Integration.Tests;

/// <summary>
/// The dashboard in a real browser: Debian's Chromium through Playwright, against a real `stakeout monitor --dashboard`
/// process fed by `stakeout replay` of real CIC-IDS2017 rows, and against `stakeout dashboard` serving a stored run with
/// hostile strings in it. Screenshots go to artifacts/test-results/dashboard/.
/// </summary>
public sealed class DashboardBrowserTests : IDisposable
{
    private static readonly string Model = Path.Combine(SharedData.RepoRoot, "tests", "Stakeout.Models.Tests", "TestData", "format-v1", "families-lightgbm.stakeout");

    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-dash-browser-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task LiveMonitor_ReplayedSharedFlows_AlertsAppearLiveFilterWorksDetailExplains()
    {
        string[] files =
        [
            SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv"),
            SharedData.Path("cicids2017", "trafficlabelling_webattack-xss_652.csv"),
        ];
        await using var chromium = await Chromium.LaunchAsync();
        int flowPort = LoopbackPort.Free(), webPort = LoopbackPort.Free();
        var (monitor, monitorErr) = StakeoutProcess.Start(
            "monitor", "--model", Model, "--source", $"tcp://127.0.0.1:{flowPort}", "--dashboard", $"127.0.0.1:{webPort}",
            "--aggregate-window", "0", "--quiet", "--duration", "300", "--output-dir", Path.Combine(_dir, "monitor"));
        Process? replay = null;
        try
        {
            var url = new Uri($"http://127.0.0.1:{webPort}/");
            await WaitUntilServingAsync(url, monitor, monitorErr);
            var problems = new List<string>();
            var page = await chromium.NewPageAsync(problems);
            var response = await page.GotoAsync(url.ToString());
            Assert.NotNull(response);
            var headers = await response!.AllHeadersAsync();
            Assert.True(headers.TryGetValue("content-security-policy", out string? csp), "no Content-Security-Policy header on the page");
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
            await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("live");
            Assert.Equal(0, await page.Locator("#alerts tbody tr").CountAsync());

            // The replay starts only now: every row that appears came over the event stream, with no reload.
            (replay, _) = StakeoutProcess.Start(["replay", .. files, "--to", $"tcp://127.0.0.1:{flowPort}", "--rate", "400"]);
            await page.Locator("#alerts tbody tr[data-signature='DoS']").First.WaitForAsync();
            await page.Locator("#alerts tbody tr[data-signature='WebAttack']").First.WaitForAsync(new() { Timeout = 90_000 });
            Assert.True(await WaitForExitAsync(replay, TimeSpan.FromMinutes(2)), "replay did not finish");
            Assert.Equal(0, replay.ExitCode);
            await Assertions.Expect(page.Locator("#t-in")).ToHaveTextAsync("1,652", new() { Timeout = 30_000 });
            Assert.True(await page.Locator("#chart-alerts canvas").CountAsync() > 0, "the alerts chart drew nothing");
            await Task.Delay(1500); // one more stats push so the charts show the whole replay in the screenshot
            await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "live-monitor.png"), FullPage = true });

            // Class filter: only WebAttack rows remain, and there are some.
            await page.Locator("#f-class").SelectOptionAsync("WebAttack");
            await Assertions.Expect(page.Locator("#alerts tbody tr[data-signature='DoS']")).ToHaveCountAsync(0);
            await page.Locator("#alerts tbody tr").First.WaitForAsync();
            var signatures = await page.Locator("#alerts tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.signature)");
            Assert.NotEmpty(signatures);
            Assert.All(signatures, s => Assert.Equal("WebAttack", s));

            // Alert detail: its explanation (features with contributions) and its ledger status.
            await page.Locator("#alerts tbody tr").First.ClickAsync();
            await Assertions.Expect(page.Locator("#detail")).ToBeVisibleAsync();
            var features = await page.Locator("#d-explain tbody tr td:first-child").AllTextContentsAsync();
            Assert.NotEmpty(features);
            Assert.All(features, f => Assert.False(string.IsNullOrWhiteSpace(f)));
            var contribution = await page.Locator("#d-explain tbody tr td:nth-child(3)").First.TextContentAsync();
            Assert.True(double.TryParse(contribution, NumberStyles.Float, CultureInfo.InvariantCulture, out _), $"contribution '{contribution}' is not a number");
            await Assertions.Expect(page.Locator("#d-fields")).ToContainTextAsync("WebAttack");
            await Assertions.Expect(page.Locator("#d-ledger")).ToContainTextAsync("not recorded");
            await Assertions.Expect(page.Locator("#model-body")).ToContainTextAsync("lightgbm");
            await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "live-detail.png"), FullPage = true });

            Assert.True(problems.Count == 0, "console errors (CSP violations among them): " + string.Join(" | ", problems));
        }
        catch (Exception ex) when (monitor.HasExited)
        {
            throw new Xunit.Sdk.XunitException($"the monitor exited with {monitor.ExitCode} while the test ran; its stderr: {await monitorErr}\n{ex}");
        }
        finally
        {
            await StopAsync(replay, monitor);
        }
    }

    [SkippableFact]
    public async Task LiveMonitorWithLedger_DetailShowsVerifiedRecord_AlteredBlockShowsFailed_StoredRunVerifiesAgain()
    {
        string keys = Path.Combine(_dir, "keys"), ledger = Path.Combine(_dir, "ledger"), output = Path.Combine(_dir, "monitor");
        var keyResult = CliInspectTests.Run("keys", "new", "--out", keys, "--name", "sensor");
        Assert.True(keyResult.Code == 0, keyResult.Stderr);
        await using var chromium = await Chromium.LaunchAsync();
        int flowPort = LoopbackPort.Free(), webPort = LoopbackPort.Free();
        var (monitor, monitorErr) = StakeoutProcess.Start(
            "monitor", "--model", Model, "--source", $"tcp://127.0.0.1:{flowPort}", "--dashboard", $"127.0.0.1:{webPort}",
            "--ledger", ledger, "--ledger-key", Path.Combine(keys, "sensor.key"), "--ledger-sensor", "browser-test",
            "--aggregate-window", "0", "--quiet", "--duration", "300", "--output-dir", output);
        Process? replay = null;
        string recordId;
        try
        {
            var url = new Uri($"http://127.0.0.1:{webPort}/");
            await WaitUntilServingAsync(url, monitor, monitorErr);
            var problems = new List<string>();
            var page = await chromium.NewPageAsync(problems);
            await page.GotoAsync(url.ToString());
            await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("live");
            (replay, _) = StakeoutProcess.Start("replay", SharedData.Path("cicids2017", "trafficlabelling_ddos_1000.csv"), "--to", $"tcp://127.0.0.1:{flowPort}", "--rate", "2000");
            Assert.True(await WaitForExitAsync(replay, TimeSpan.FromMinutes(2)), "replay did not finish");
            Assert.Equal(0, replay.ExitCode);
            await Assertions.Expect(page.Locator("#t-in")).ToHaveTextAsync("1,000", new() { Timeout = 30_000 });

            // The newest alert's record: appended by the monitor's ledger sink, checked by a full walk with the sensor's
            // public key. The sink commits within 200 ms; the detail is fetched again on each click until it is signed.
            var row = page.Locator("#alerts tbody tr").First;
            await OpenUntilAsync(page, row, "verified");
            await Assertions.Expect(page.Locator("#d-ledger")).ToContainTextAsync("included in the signed tree of checkpoint");
            await Assertions.Expect(page.Locator("#d-ledger-facts")).ToContainTextAsync("bundle--");
            await Assertions.Expect(page.Locator("#d-ledger-facts")).ToContainTextAsync("sealed");
            await page.Locator("#d-record-box summary").ClickAsync();
            await Assertions.Expect(page.Locator("#d-record")).ToContainTextAsync("\"x_stakeout_sensor\": \"browser-test\"");
            await Assertions.Expect(page.Locator("#d-record")).ToContainTextAsync("\"type\": \"sighting\"");
            recordId = (await page.Locator("#d-ledger-facts dd").Nth(1).TextContentAsync())!;
            Assert.StartsWith("bundle--", recordId, StringComparison.Ordinal);
            await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "ledger-verified.png"), FullPage = true });

            // Someone with write access to the sensor's disk changes one byte of the record: the next look says so.
            string block = AlterBlockHolding(ledger, recordId);
            await OpenUntilAsync(page, row, "failed");
            await Assertions.Expect(page.Locator("#d-ledger")).ToContainTextAsync("this record fails verification");
            await Assertions.Expect(page.Locator("#d-ledger")).ToContainTextAsync("record-hash");
            Assert.False(await page.Locator("#d-record-box").IsVisibleAsync(), "the altered record's bytes are shown as if they were the record");
            await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "ledger-tampered.png"), FullPage = true });
            File.Move(block + ".orig", block, overwrite: true);
            Assert.True(problems.Count == 0, "console errors: " + string.Join(" | ", problems));
        }
        catch (Exception ex) when (monitor.HasExited)
        {
            throw new Xunit.Sdk.XunitException($"the monitor exited with {monitor.ExitCode} while the test ran; its stderr: {await monitorErr}\n{ex}");
        }
        finally
        {
            await StopAsync(replay, monitor);
        }

        // The finished run, served by `stakeout dashboard` with the ledger and the public key only: verified again.
        int storedPort = LoopbackPort.Free();
        var (server, serverErr) = StakeoutProcess.Start("dashboard", output, "--listen", $"127.0.0.1:{storedPort}", "--ledger", ledger, "--trusted-key", Path.Combine(keys, "sensor.pub"));
        try
        {
            var url = new Uri($"http://127.0.0.1:{storedPort}/");
            await WaitUntilServingAsync(url, server, serverErr);
            var page = await chromium.NewPageAsync([]);
            await page.GotoAsync(url.ToString());
            await OpenUntilAsync(page, page.Locator("#alerts tbody tr").First, "verified");
            await Assertions.Expect(page.Locator("#d-ledger-facts")).ToContainTextAsync("bundle--");
        }
        finally
        {
            StakeoutProcess.Signal(server, "-TERM");
            await WaitForExitAsync(server, TimeSpan.FromSeconds(20));
            StakeoutProcess.KillIfRunning(server);
            server.Dispose();
        }
    }

    // Ends the test's own replay, then stops its monitor with SIGTERM (killed only if it does not stop within 30 s).
    private static async Task StopAsync(Process? replay, Process monitor)
    {
        if (replay is not null)
        {
            StakeoutProcess.KillIfRunning(replay);
            replay.Dispose();
        }

        if (!monitor.HasExited)
        {
            StakeoutProcess.Signal(monitor, "-TERM");
            await WaitForExitAsync(monitor, TimeSpan.FromSeconds(30));
        }

        StakeoutProcess.KillIfRunning(monitor);
        monitor.Dispose();
    }

    // Opens the alert's detail (fetched anew on every click) until its ledger status starts with the expected word.
    private static async Task OpenUntilAsync(IPage page, ILocator row, string status)
    {
        string? text = null;
        for (int attempt = 0; attempt < 40; attempt++)
        {
            await row.ClickAsync();
            await Assertions.Expect(page.Locator("#detail")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#d-ledger")).Not.ToBeEmptyAsync();
            text = await page.Locator("#d-ledger span").First.TextContentAsync();
            if (text is not null && text.StartsWith(status, StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"the alert's ledger status stayed '{text}', never '{status}': {await page.Locator("#d-ledger").TextContentAsync()}");
    }

    // Changes one byte of the records block that holds the record; the original is kept beside it as .orig.
    private static string AlterBlockHolding(string ledger, string recordId)
    {
        byte[] id = System.Text.Encoding.UTF8.GetBytes(recordId);
        foreach (string file in Directory.EnumerateFiles(Path.Combine(ledger, "blocks"), "*", SearchOption.AllDirectories))
        {
            byte[] bytes = File.ReadAllBytes(file);
            int at = bytes.AsSpan().IndexOf(id);
            if (at >= 0)
            {
                File.Copy(file, file + ".orig");
                bytes[at + id.Length - 1] ^= 0x01;
                File.WriteAllBytes(file, bytes);
                return file;
            }
        }

        throw new InvalidOperationException($"no block in {ledger} holds {recordId}");
    }

    [SkippableFact]
    public async Task StoredRun_MarkupInLabelsAndFields_ShownAsTextAndRunsNothing()
    {
        const string payload = "<img src=x onerror=\"window.__xss=1\">";
        const string token = "browser-test-token-0123456789";
        string run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        string json = System.Text.Json.JsonSerializer.Serialize(payload);
        File.WriteAllLines(Path.Combine(run, "alerts.json"),
        [
            "{\"timestamp\":\"2026-12-03T09:00:00.000000+0000\",\"flow_id\":1,\"event_type\":\"alert\",\"src_ip\":" + json + ",\"src_port\":1,\"dest_ip\":\"192.168.10.50\",\"dest_port\":80,\"proto\":\"TCP\"," +
            "\"alert\":{\"signature\":" + json + ",\"category\":" + json + ",\"severity\":1,\"score\":0.99},\"explanation\":[{\"feature\":" + json + ",\"value\":" + json + ",\"contribution\":1.5}]," +
            "\"count\":1,\"first_seen\":\"2017-07-07T15:56:00.000000\",\"last_seen\":\"2017-07-07T15:56:00.000000\",\"stakeout\":{\"stream\":" + json + ",\"line\":2}}",
        ]);
        await using var chromium = await Chromium.LaunchAsync();
        int webPort = LoopbackPort.Free();
        var (server, serverErr) = StakeoutProcess.Start("dashboard", run, "--listen", $"127.0.0.1:{webPort}", "--token", token);
        try
        {
            var url = new Uri($"http://127.0.0.1:{webPort}/");
            await WaitUntilServingAsync(url, server, serverErr, expectUnauthorized: true);
            var problems = new List<string>();
            var page = await chromium.NewPageAsync(problems);

            // Without the token: refused. With it (the URL printed at start): a cookie, then the page.
            var refused = await page.GotoAsync(url.ToString());
            Assert.Equal(401, refused!.Status);
            await page.GotoAsync(url + "?token=" + token);
            Assert.Equal(url.ToString(), page.Url);

            var cell = page.Locator("#alerts tbody tr .sig").First;
            await cell.WaitForAsync();
            Assert.Equal(payload, await cell.TextContentAsync());
            Assert.Equal(payload + ":1", await page.Locator("#alerts tbody tr td:nth-child(3)").First.TextContentAsync());
            await cell.ClickAsync();
            await Assertions.Expect(page.Locator("#d-explain tbody tr td").First).ToHaveTextAsync(payload);
            await page.Locator("#f-class").SelectOptionAsync(payload);
            await Assertions.Expect(page.Locator("#alerts tbody tr")).ToHaveCountAsync(1);
            await Task.Delay(1000);

            Assert.Equal(0, await page.Locator("main img").CountAsync());
            Assert.Equal("none", await page.EvaluateAsync<string>("() => typeof window.__xss === 'undefined' ? 'none' : String(window.__xss)"));
            await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "stored-xss.png"), FullPage = true });
            // The browser logs the refused first visit itself (asynchronously); any other error fails the test.
            List<string> unexpected;
            lock (problems)
            {
                unexpected = [.. problems.Where(p => !p.Contains("status of 401", StringComparison.Ordinal))];
            }

            Assert.True(unexpected.Count == 0, "console errors: " + string.Join(" | ", unexpected));
        }
        finally
        {
            StakeoutProcess.Signal(server, "-TERM");
            await WaitForExitAsync(server, TimeSpan.FromSeconds(20));
            StakeoutProcess.KillIfRunning(server);
            server.Dispose();
        }
    }

    [SkippableTheory]
    [InlineData("monitor")]
    [InlineData("dashboard")]
    public void NonLoopbackBind_WithoutToken_RefusesToStart(string command)
    {
        string run = Path.Combine(_dir, "empty-run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "alerts.json"), "");
        int port = LoopbackPort.Free();
        var result = command == "monitor"
            ? CliInspectTests.Run("monitor", "--model", Model, "--source", $"tcp://127.0.0.1:{LoopbackPort.Free()}", "--dashboard", $"0.0.0.0:{port}", "--duration", "30", "-o", Path.Combine(_dir, "m"))
            : CliInspectTests.Run("dashboard", run, "--listen", $"0.0.0.0:{port}");

        Assert.Equal(1, result.Code);
        Assert.Contains("refusing to serve the dashboard on 0.0.0.0", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(command == "monitor" ? "--dashboard-token" : "--token", result.Stderr, StringComparison.Ordinal);
    }

    private static async Task WaitUntilServingAsync(Uri url, Process process, Task<string> stderr, bool expectUnauthorized = false)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (process.HasExited)
            {
                Assert.Fail($"the server exited with {process.ExitCode}: {await stderr}");
            }

            try
            {
                using var r = await http.GetAsync(new Uri(url, "/api/info"));
                if (r.IsSuccessStatusCode || (expectUnauthorized && r.StatusCode == System.Net.HttpStatusCode.Unauthorized))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        Assert.Fail($"the dashboard at {url} did not answer within 90 s");
    }

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
