using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using Stakeout.TestSupport;

namespace Stakeout.Integration.Tests;

/// <summary>What a new user runs first: `stakeout demo`, `stakeout dataset fetch`, and the CLI installed as a .NET tool.</summary>
public sealed class OnboardingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "stakeout-onboard-" + Guid.NewGuid().ToString("N")[..8]);

    public OnboardingTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Demo_OnTheBundledSample_WritesEveryOutputAndASummaryThatMatchesThem()
    {
        string output = Path.Combine(_dir, "demo");

        var (code, stdout, stderr) = await RunAsync(TimeSpan.FromMinutes(5), "demo", "--output-dir", output, "--samples", Path.Combine(SharedData.RepoRoot, "samples", "flows"));

        Assert.True(code == 0, $"demo exited {code}:\n{stderr}");
        foreach (string file in new[]
        {
            "inspect.json", "keys/demo.key", "keys/demo.pub", "train/model.stakeout", "train/application.log", "train/classification_report.log",
            "train/validation_report.log", "train/malicious_ips.log", "evaluate/evaluation.json", "evaluate/evaluation_report.log",
            "monitor/alerts.json", "monitor/summary.json", "monitor/malicious_ips.log", "ledger/head", "inspect/data-report.html",
            "train/model-report.html", "evaluate/model-report.html", "detect/alerts.json", "detect/detection-report.html",
        })
        {
            Assert.True(File.Exists(Path.Combine(output, file)), $"the demo promised {file}");
        }

        // The summary's figures are the files' figures.
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "monitor", "summary.json")));
        var m = summary.RootElement;
        long flowsIn = m.GetProperty("flows_in").GetInt64();
        Assert.Equal(870, flowsIn); // the two held-apart sample files
        Assert.Equal(flowsIn, m.GetProperty("flows_scored").GetInt64());
        Assert.Contains($"{flowsIn:N0} in = {m.GetProperty("flows_scored").GetInt64():N0} scored", stdout, StringComparison.Ordinal);
        Assert.Contains($"{m.GetProperty("alert_flows").GetInt64():N0} (", stdout, StringComparison.Ordinal);
        long alerts = File.ReadLines(Path.Combine(output, "monitor", "alerts.json")).Count();
        Assert.Equal(m.GetProperty("alerts_emitted").GetInt64(), alerts);
        Assert.Contains($"in {alerts:N0} aggregated alerts", stdout, StringComparison.Ordinal);
        using var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "evaluate", "evaluation.json")));
        double recall = evaluation.RootElement.GetProperty("attack_recall").GetDouble();
        Assert.Contains($"attack recall {100 * recall:0.00} %", stdout, StringComparison.Ordinal);
        Assert.True(recall > 0.9, $"attack recall on the held-apart files was {recall}");
        Assert.Contains("ledger verify passed", stdout, StringComparison.Ordinal);
        // Every alert the monitor wrote was shown on the console with its explanation.
        Assert.Equal(alerts, stderr.Split('\n').Count(l => l.Contains("ALERT", StringComparison.Ordinal) && l.Contains("because", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Demo_IntoAFolderThatIsNotADemos_RefusesToReplaceIt()
    {
        string precious = Path.Combine(_dir, "precious");
        Directory.CreateDirectory(precious);
        await File.WriteAllTextAsync(Path.Combine(precious, "notes.txt"), "mine");

        var (code, _, stderr) = await RunAsync(TimeSpan.FromMinutes(1), "demo", "--output-dir", precious);

        Assert.NotEqual(0, code);
        Assert.Contains("not an earlier demo's output", stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(precious, "notes.txt")));
    }

    [SkippableFact]
    public async Task DatasetFetch_FromALoopbackMirror_DownloadsChecksAndExtracts_ThenATamperedCopyExits3()
    {
        Skip.If(SharedData.Directory is null, "../shared/data is not beside this clone.");
        byte[] good = ZipOf(SharedData.Path("cicids2017", "mlcve_head200.csv"));
        byte[] current = good;
        using var server = new HttpListener();
        int port = LoopbackPort.Free();
        server.Prefixes.Add($"http://127.0.0.1:{port}/");
        server.Start();
        var serving = Task.Run(async () =>
        {
            while (server.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await server.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                byte[] body = current;
                context.Response.ContentType = "application/zip";
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        });
        string data = Path.Combine(_dir, "data");
        string url = $"http://127.0.0.1:{port}/MachineLearningCSV.zip";

        var first = await RunAsync(TimeSpan.FromMinutes(1), "dataset", "fetch", "cicids2017", "--dir", data, "--url", url);
        current = ZipOf(SharedData.Path("cicids2017", "mlcve_ddos-benign_10rows.csv"));
        var tampered = await RunAsync(TimeSpan.FromMinutes(1), "dataset", "fetch", "cicids2017", "--dir", data, "--url", url, "--force");
        var inspect = await RunAsync(TimeSpan.FromMinutes(1), "data", "inspect", Path.Combine(data, "MachineLearningCVE"), "--json");
        server.Stop();
        await serving;

        Assert.True(first.Code == 0, first.Stderr);
        Assert.Contains("first download: recorded in", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, tampered.Code);
        Assert.Contains("does not match", tampered.Stderr, StringComparison.Ordinal);
        Assert.True(inspect.Code == 0, inspect.Stderr);
        Assert.Equal(200, JsonDocument.Parse(inspect.Stdout).RootElement.GetProperty("rows_read").GetInt64());
    }

    [Fact]
    public async Task DotnetTool_PackedAndInstalledFromTheLocalPackage_RunsVersionAndACommand()
    {
        string feed = Path.Combine(_dir, "feed");
        string tools = Path.Combine(_dir, "tools");
        string cli = Path.Combine(SharedData.RepoRoot, "src", "Stakeout.Cli", "Stakeout.Cli.csproj");

        var pack = await ExecAsync(TimeSpan.FromMinutes(8), "dotnet", "pack", cli, "-c", "Release", "-o", feed, "--nologo", "-p:ArtifactsPath=" + Path.Combine(_dir, "build"));
        Assert.True(pack.Code == 0, pack.Stdout + pack.Stderr);
        var install = await ExecAsync(TimeSpan.FromMinutes(4), "dotnet", "tool", "install", "Stakeout", "--tool-path", tools, "--add-source", feed, "--version", "*-*");
        if (install.Code != 0)
        {
            install = await ExecAsync(TimeSpan.FromMinutes(4), "dotnet", "tool", "install", "Stakeout", "--tool-path", tools, "--add-source", feed);
        }

        Assert.True(install.Code == 0, install.Stdout + install.Stderr);
        string exe = Path.Combine(tools, "stakeout");
        var version = await ExecAsync(TimeSpan.FromMinutes(1), exe, "--version");
        var inspect = await ExecAsync(TimeSpan.FromMinutes(1), exe, "data", "inspect", SharedData.Path("cicids2017", "mlcve_ddos-benign_10rows.csv"), "--json");

        Assert.True(version.Code == 0, version.Stderr);
        Assert.StartsWith("0.", version.Stdout.Trim(), StringComparison.Ordinal);
        Assert.True(inspect.Code == 0, inspect.Stderr);
        Assert.Equal(10, JsonDocument.Parse(inspect.Stdout).RootElement.GetProperty("rows_read").GetInt64());
    }

    [SkippableFact]
    public async Task StakeoutScript_OnLinuxX64_RunsTheCliPublishedReadyToRun()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && RuntimeInformation.OSArchitecture == Architecture.X64, "the script publishes ReadyToRun on linux-x64 only");

        // The command the README gives, run as a user runs it: it publishes the CLI once (ReadyToRun, locked restore
        // under CI=true) and then runs it.
        var version = await ExecAsync(TimeSpan.FromMinutes(15), "bash", Path.Combine(SharedData.RepoRoot, "stakeout"), "--version");
        var flows = await ExecAsync(
            TimeSpan.FromMinutes(2), "bash", Path.Combine(SharedData.RepoRoot, "stakeout"), "flows", SharedData.Path("cicflowmeter-pairs", "heartbleed.pcap"), "-o", Path.Combine(_dir, "flows.csv"));

        Assert.True(version.Code == 0, version.Stdout + version.Stderr);
        Assert.StartsWith("0.", version.Stdout.Trim(), StringComparison.Ordinal);
        Assert.True(flows.Code == 0, flows.Stderr);
        Assert.Contains("wrote 3 flows", flows.Stdout, StringComparison.Ordinal);
        string published = Path.Combine(SharedData.RepoRoot, "artifacts", "publish", "Stakeout.Cli", "release_linux-x64");
        foreach (string assembly in new[] { "stakeout.dll", "Stakeout.FlowMeter.dll", "Stakeout.Ingest.dll", "System.CommandLine.dll" })
        {
            using var pe = new PEReader(File.OpenRead(Path.Combine(published, assembly)));
            Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, $"{assembly} has no ReadyToRun code");
        }
    }

    private static byte[] ZipOf(string csv)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            zip.CreateEntryFromFile(csv, "MachineLearningCVE/" + Path.GetFileName(csv));
        }

        return memory.ToArray();
    }

    private static Task<(int Code, string Stdout, string Stderr)> RunAsync(TimeSpan limit, params string[] args)
    {
        return ExecAsync(limit, "dotnet", [StakeoutProcess.Dll, .. args]);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> ExecAsync(TimeSpan limit, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} ran past {limit}; stderr so far: {(stderr.IsCompleted ? stderr.Result : "")}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
