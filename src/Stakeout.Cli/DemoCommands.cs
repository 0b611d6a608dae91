using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Spectre.Console;
using Stakeout.Models;

namespace Stakeout.Cli;

/// <summary>
/// `stakeout demo`: the whole product on the bundled sample, offline, in one command. Every step is the documented
/// command itself, run in this process with the arguments printed, so what the demo shows is what a user types.
/// </summary>
internal static class DemoCommands
{
    private const string Marker = ".stakeout-demo";

    /// <param name="run">Runs one `stakeout` command line in this process and returns its exit code.</param>
    public static Command Create(Func<string[], CancellationToken, Task<int>> run)
    {
        var output = new Option<string>("--output-dir", "-o") { Description = "Where every output goes (replaced if it is an earlier demo's folder).", DefaultValueFactory = _ => "demo-out" };
        var samples = new Option<string?>("--samples") { Description = "The sample flows (default: samples/flows of this clone or install)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the split and the training: the same seed gives the same model and alerts.", DefaultValueFactory = _ => 1 };
        var rate = new Option<double>("--rate") { Description = "Flows per second replayed into the monitor.", DefaultValueFactory = _ => 400 };
        var dashboard = new Option<bool>("--dashboard") { Description = "Also serve the live dashboard on a free loopback port while the monitor runs, and the finished run afterwards until Ctrl-C." };
        var command = new Command(
            "demo",
            """
            Run the whole product on the bundled CIC-IDS2017 sample, with no network beyond loopback:
              1 inspect the data (data report)   2 a signing key, then train a model (model report)
              3 verify the signed artifact   4 evaluate it on held-apart files
              5 monitor a loopback port while held-apart flows are replayed into it: alerts with their explanations
                printed live, each appended to the signed threat ledger (and shown on the dashboard with --dashboard)
              6 verify the whole ledger with the public key only   7 a detection report   8 a summary read back
                from the files written.

            Examples:
              stakeout demo
              stakeout demo --output-dir /tmp/demo --seed 7
              stakeout demo --dashboard
            """)
        {
            output, samples, seed, rate, dashboard,
        };
        command.SetAction((parse, cancel) => RunAsync(run, parse.GetValue(output)!, parse.GetValue(samples), parse.GetValue(seed), parse.GetValue(rate), parse.GetValue(dashboard), cancel));
        return command;
    }

    private static async Task<int> RunAsync(Func<string[], CancellationToken, Task<int>> run, string outDir, string? samplesDir, int seed, double rate, bool dashboard, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        string? samples = samplesDir ?? FindSamples();
        if (samples is null || !File.Exists(Path.Combine(samples, "cicids2017-families.csv")))
        {
            return Terminal.Fail($"The bundled sample was not found{(samples is null ? "" : $" in {samples}")}: run from a clone of Stakeout, or pass --samples DIR (the samples/flows folder).");
        }

        string outFull = Path.GetFullPath(outDir);
        if (Directory.Exists(outFull) && Directory.EnumerateFileSystemEntries(outFull).Any() && !File.Exists(Path.Combine(outFull, Marker)))
        {
            return Terminal.Fail($"{outFull} exists and is not an earlier demo's output; choose another --output-dir (the demo replaces only its own folders).");
        }

        if (Directory.Exists(outFull))
        {
            Directory.Delete(outFull, recursive: true);
        }

        Directory.CreateDirectory(outFull);
        await File.WriteAllTextAsync(Path.Combine(outFull, Marker), "written by stakeout demo\n", cancel).ConfigureAwait(false);
        string holdout = Path.Combine(outFull, "holdout");
        Directory.CreateDirectory(holdout);
        // Held apart from training: the TrafficLabelling files carry real IPs, ports and timestamps, the original 15-class
        // labels (DDoS, Web Attack XSS / Sql Injection, BENIGN) and a capture the model is not trained on.
        string[] held = ["cicids2017-trafficlabelling-attacks.csv", "cicids2017-trafficlabelling-friday-benign.csv"];
        foreach (string file in held)
        {
            File.Copy(Path.Combine(samples, file), Path.Combine(holdout, file));
        }

        string train = Path.Combine(outFull, "train");
        string model = Path.Combine(train, "model.stakeout");
        string keys = Path.Combine(outFull, "keys");
        string evaluate = Path.Combine(outFull, "evaluate");
        string monitor = Path.Combine(outFull, "monitor");
        string ledger = Path.Combine(outFull, "ledger");
        string detect = Path.Combine(outFull, "detect");
        string s = seed.ToString(CultureInfo.InvariantCulture);

        async Task<bool> Step(string title, params string[] args)
        {
            Terminal.Err.WriteLine();
            Terminal.Err.MarkupLine($"[bold]== {Markup.Escape(title)}[/]");
            Terminal.Err.MarkupLine($"[grey]$ stakeout {Markup.Escape(string.Join(' ', args.Select(Quote)))}[/]");
            int code = await run(args, cancel).ConfigureAwait(false);
            if (code != 0)
            {
                Terminal.Fail($"demo: that step failed with exit code {code} (above); outputs so far are in {outFull}.");
            }

            return code == 0;
        }

        if (!await Step("1/8 Read the sample: layouts, quirks, accounting, classes (and a data report)", "data", "inspect", samples, "--output", Path.Combine(outFull, "inspect.json"), "--report", Path.Combine(outFull, "inspect")).ConfigureAwait(false)
            || !await Step("2/8 Create a signing key, then train LightGBM at family level (de-duplicated, stratified 70/30), scoring the held-apart files", "keys", "new", "--out", keys, "--name", "demo").ConfigureAwait(false)
            || !await Step("   (training, with the model report)", "train", Path.Combine(samples, "cicids2017-families.csv"), Path.Combine(samples, "cicids2017-mlcve-friday-benign.csv"),
                "--labels", "family", "--seed", s, "--output-dir", train, "--validation-dir", holdout, "--sign-key", Path.Combine(keys, "demo.key")).ConfigureAwait(false)
            || !await Step("3/8 Verify the stored artifact: SHA-256 over every byte and the Ed25519 signature, against the public key only", "model", "show", model, "--trusted-key", Path.Combine(keys, "demo.pub")).ConfigureAwait(false)
            || !await Step("4/8 Evaluate the stored model on the held-apart files (every row scored)", "evaluate", "--model", model, holdout, "--output-dir", evaluate).ConfigureAwait(false))
        {
            return 1;
        }

        long rows = held.Sum(f => File.ReadLines(Path.Combine(holdout, f)).Count() - 1);
        int dashboardPort = dashboard ? FreePort() : 0;
        int monitorCode = await MonitorAndReplayAsync(run, model, holdout, monitor, ledger, Path.Combine(keys, "demo.key"), dashboardPort, rows, rate, cancel).ConfigureAwait(false);
        if (monitorCode != 0)
        {
            return monitorCode;
        }

        if (!await Step("6/8 Verify the threat ledger: every block's hash, every checkpoint's signature, every record's inclusion proof, with the public key only", "ledger", "verify", ledger, "--trusted-key", Path.Combine(keys, "demo.pub")).ConfigureAwait(false)
            || !await Step("7/8 Detect in the held-apart files in one batch, with the detection report", "detect", "--model", model, holdout, "--output-dir", detect).ConfigureAwait(false))
        {
            return 1;
        }

        int code = PrintSummary(outFull, model, evaluate, monitor, train, ledger, detect, clock.Elapsed);
        if (code == 0 && dashboard)
        {
            Terminal.Out.MarkupLine($"[bold]Dashboard[/] of the finished run: http://127.0.0.1:{dashboardPort}/ (Ctrl-C to stop)");
            return await run(["dashboard", monitor, "--listen", $"127.0.0.1:{dashboardPort}", "--model", model, "--ledger", ledger, "--trusted-key", Path.Combine(keys, "demo.pub")], cancel).ConfigureAwait(false);
        }

        return code;
    }

    private static async Task<int> MonitorAndReplayAsync(Func<string[], CancellationToken, Task<int>> run, string model, string holdout, string monitor, string ledger, string ledgerKey, int dashboardPort, long rows, double rate, CancellationToken cancel)
    {
        int port = FreePort();
        int metricsPort = FreePort();
        string r = rows.ToString(CultureInfo.InvariantCulture);
        string[] monitorArgs = ["monitor", "--model", model, "--source", $"tcp://127.0.0.1:{port}", "--max-flows", r, "--duration", "120", "--quiet",
            "--metrics-port", metricsPort.ToString(CultureInfo.InvariantCulture), "--output-dir", monitor, "--ledger", ledger, "--ledger-key", ledgerKey,
            .. (dashboardPort > 0 ? new[] { "--dashboard", $"127.0.0.1:{dashboardPort}" } : [])];
        string[] replayArgs = ["replay", holdout, "--to", $"tcp://127.0.0.1:{port}", "--rate", rate.ToString(CultureInfo.InvariantCulture)];
        Terminal.Err.WriteLine();
        Terminal.Err.MarkupLine($"[bold]== 5/8 Monitor a live stream: {rows:N0} held-apart flows replayed at {rate:N0}/s over loopback TCP into a running monitor, every alert appended to the signed ledger[/]");
        Terminal.Err.MarkupLine($"[grey]$ stakeout {Markup.Escape(string.Join(' ', monitorArgs))} &[/]");
        Terminal.Err.MarkupLine($"[grey]$ stakeout {Markup.Escape(string.Join(' ', replayArgs))}[/]");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var monitorTask = run(monitorArgs, cancel);
        if (!await WaitHealthyAsync(http, metricsPort, monitorTask, cancel).ConfigureAwait(false))
        {
            Terminal.Fail("demo: the monitor did not start (above).");
            return await monitorTask.ConfigureAwait(false) is int c && c != 0 ? c : 1;
        }

        if (dashboardPort > 0)
        {
            Terminal.Err.MarkupLine($"  [bold]live dashboard:[/] http://127.0.0.1:{dashboardPort}/");
        }

        var replayTask = run(replayArgs, cancel);
        var tail = new AlertTail(Path.Combine(monitor, "alerts.json"));
        var last = new Metrics(0, 0, 0);
        while (!monitorTask.IsCompleted)
        {
            await Task.WhenAny(monitorTask, Task.Delay(250, cancel)).ConfigureAwait(false);
            last = await ReadMetricsAsync(http, metricsPort).ConfigureAwait(false) ?? last;
            foreach (var alert in tail.ReadNew())
            {
                PrintAlert(alert);
            }

            if (Terminal.ShowProgress)
            {
                Terminal.Err.Markup($"\r[grey]  flows in {last.In:N0} / {rows:N0} · scored {last.Scored:N0} · alerts {last.Alerts:N0}[/]   ");
            }
        }

        foreach (var alert in tail.ReadNew())
        {
            PrintAlert(alert);
        }

        Terminal.Err.WriteLine();
        int replayCode = await replayTask.ConfigureAwait(false);
        int code = await monitorTask.ConfigureAwait(false);
        if (code != 0 || replayCode != 0)
        {
            Terminal.Fail($"demo: the monitor exited {code} and the replay {replayCode} (above).");
            return code != 0 ? code : replayCode;
        }

        return 0;
    }

    private static void PrintAlert(JsonElement alert)
    {
        string cls = alert.GetProperty("alert").GetProperty("signature").GetString() ?? "?";
        double score = alert.GetProperty("alert").GetProperty("score").GetDouble();
        string src = alert.TryGetProperty("src_ip", out var si) ? $"{si.GetString()}:{(alert.TryGetProperty("src_port", out var sp) ? sp.GetInt32() : 0)}" : "(no address)";
        string dst = alert.TryGetProperty("dest_ip", out var di) ? $"{di.GetString()}:{(alert.TryGetProperty("dest_port", out var dp) ? dp.GetInt32() : 0)}" : "";
        long count = alert.TryGetProperty("count", out var c) ? c.GetInt64() : 1;
        var why = alert.TryGetProperty("explanation", out var e)
            ? string.Join(", ", e.EnumerateArray().Take(3).Select(x => $"{x.GetProperty("feature").GetString()}={x.GetProperty("value").GetDouble().ToString("G4", CultureInfo.InvariantCulture)}"))
            : "";
        Terminal.Err.WriteLine();
        Terminal.Err.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"  [red]ALERT[/] [bold]{Markup.Escape(cls)}[/] {score:0.000}  {Markup.Escape(src)} -> {Markup.Escape(dst)}  x{count}  [grey]because {Markup.Escape(why)}[/]"));
    }

    private static int PrintSummary(string outFull, string model, string evaluate, string monitor, string train, string ledger, string detect, TimeSpan elapsed)
    {
        using var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(evaluate, EvaluateCommands.JsonReportFile)));
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(monitor, "summary.json")));
        var e = evaluation.RootElement;
        var m = summary.RootElement;
        var manifest = ModelArtifact.Load(model, new ArtifactLoadOptions()).Manifest;
        string F(JsonElement x, string name) => x.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble().ToString("0.0000", CultureInfo.InvariantCulture) : "n/a";
        string P(JsonElement x, string name) => x.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? (100 * v.GetDouble()).ToString("0.00", CultureInfo.InvariantCulture) + " %" : "n/a";

        Terminal.Out.WriteLine();
        Terminal.Out.MarkupLine("[bold]== 8/8 Summary[/] (read back from the files below)");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("what").AddColumn("figure").AddColumn("file");
        string testF1 = manifest.Metrics.TryGetValue("macro_f1", out double f1) ? f1.ToString("0.0000", CultureInfo.InvariantCulture) : "n/a";
        table.AddRow("model", Markup.Escape($"{manifest.ModelKind}, {manifest.Classes.Count} classes ({manifest.LabelLevel}), {manifest.Training.TrainRows:N0} training rows, signed"), Markup.Escape(Rel(outFull, model)));
        table.AddRow("test split macro-F1", testF1, Markup.Escape(Rel(outFull, Path.Combine(train, "classification_report.log"))));
        table.AddRow("held-apart files", Markup.Escape($"{e.GetProperty("rows").GetInt64():N0} rows, macro-F1 {F(e, "macro_f1")}, attack recall {P(e, "attack_recall")}, BENIGN FPR {P(e, "benign_fpr")} (level {e.GetProperty("level").GetString()})"), Markup.Escape(Rel(outFull, Path.Combine(evaluate, EvaluateCommands.JsonReportFile))));
        table.AddRow("monitor accounting", Markup.Escape($"{m.GetProperty("flows_in").GetInt64():N0} in = {m.GetProperty("flows_scored").GetInt64():N0} scored + {m.GetProperty("flows_rejected").GetInt64():N0} rejected + {m.GetProperty("flows_dropped").GetInt64():N0} dropped"), Markup.Escape(Rel(outFull, Path.Combine(monitor, "summary.json"))));
        string byClass = string.Join(", ", m.GetProperty("alerts_by_class").EnumerateArray().Select(x => $"{x.GetProperty("name").GetString()} {x.GetProperty("flows").GetInt64():N0}"));
        table.AddRow("alerting flows", Markup.Escape($"{m.GetProperty("alert_flows").GetInt64():N0} ({byClass}) in {m.GetProperty("alerts_emitted").GetInt64():N0} aggregated alerts"), Markup.Escape(Rel(outFull, Path.Combine(monitor, "alerts.json"))));
        string sources = string.Join(", ", m.GetProperty("top_sources").EnumerateArray().Take(3).Select(x => $"{x.GetProperty("name").GetString()} ({x.GetProperty("flows").GetInt64():N0})"));
        table.AddRow("top sources", Markup.Escape(sources), Markup.Escape(Rel(outFull, Path.Combine(monitor, "malicious_ips.log"))));
        // Step 6 (`ledger verify`) passed, or the demo would have stopped there.
        table.AddRow("threat ledger", Markup.Escape($"{m.GetProperty("alerts_emitted").GetInt64():N0} alerts appended as signed STIX records; ledger verify passed (public key only)"), Markup.Escape(Rel(outFull, ledger)));
        foreach (var (what, dir) in new[] { ("data report", Path.Combine(outFull, "inspect")), ("model report", train), ("evaluation report", evaluate), ("detection report", detect) })
        {
            string? html = Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*-report.html").FirstOrDefault() : null;
            table.AddRow(what, html is null ? "(not written)" : "HTML with PNG and SVG plots beside it", Markup.Escape(html is null ? Rel(outFull, dir) : Rel(outFull, html)));
        }

        Terminal.Out.Write(table);
        Terminal.Out.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Done in {elapsed.TotalSeconds:0.0} s. Everything is in [bold]{Markup.Escape(outFull)}[/]."));
        Terminal.Out.WriteLine();
        Terminal.Out.MarkupLine("[bold]Try next[/]");
        Terminal.Out.WriteLine($"  stakeout detect --model {Rel(Environment.CurrentDirectory, model)} YOUR_FLOWS.csv -o out/          score your own CICFlowMeter CSVs");
        Terminal.Out.WriteLine($"  stakeout monitor --model {Rel(Environment.CurrentDirectory, model)} --source pcap:CAPTURE.pcap     packets straight in, through the flow meter");
        Terminal.Out.WriteLine("  stakeout dataset fetch cicids2017 && stakeout train data/cicids2017/MachineLearningCVE   the full dataset");
        Terminal.Out.WriteLine("  stakeout --help                                                                          every command");
        return 0;
    }

    private static async Task<bool> WaitHealthyAsync(HttpClient http, int metricsPort, Task<int> monitor, CancellationToken cancel)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30) && !monitor.IsCompleted)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{metricsPort}/health"), cancel).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
            {
                // A slow answer: ask again.
            }

            await Task.Delay(100, cancel).ConfigureAwait(false);
        }

        return false;
    }

    private readonly record struct Metrics(long In, long Scored, long Alerts);

    private static async Task<Metrics?> ReadMetricsAsync(HttpClient http, int port)
    {
        try
        {
            string text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics")).ConfigureAwait(false);
            long Value(string name) => text.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal))
                .Select(l => (long)double.Parse(l[(name.Length + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault();
            return new Metrics(Value("stakeout_flows_in_total"), Value("stakeout_flows_scored_total"), Value("stakeout_alerts_emitted_total"));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or FormatException)
        {
            return null; // the monitor is stopping: keep the last figures
        }
    }

    /// <summary>Reads the EVE lines appended to a file since the last call (whole lines only).</summary>
    private sealed class AlertTail(string path)
    {
        private long _offset;

        public List<JsonElement> ReadNew()
        {
            var alerts = new List<JsonElement>();
            if (!File.Exists(path))
            {
                return alerts;
            }

            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            file.Seek(_offset, SeekOrigin.Begin);
            using var reader = new StreamReader(file);
            string rest = reader.ReadToEnd();
            int end = rest.LastIndexOf('\n');
            if (end < 0)
            {
                return alerts;
            }

            foreach (string line in rest[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var doc = JsonDocument.Parse(line);
                alerts.Add(doc.RootElement.Clone());
            }

            _offset += System.Text.Encoding.UTF8.GetByteCount(rest.AsSpan(0, end + 1));
            return alerts;
        }
    }

    private static string? FindSamples()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "samples", "flows");
                if (File.Exists(Path.Combine(candidate, "cicids2017-families.csv")))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>A path relative to <paramref name="from"/> when it lies below it, else the full path.</summary>
    private static string Rel(string from, string path)
    {
        string relative = Path.GetRelativePath(from, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? Path.GetFullPath(path) : relative;
    }

    private static string Quote(string arg) => arg.Contains(' ', StringComparison.Ordinal) ? $"'{arg}'" : arg;

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
