using System.CommandLine;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Stakeout.Detection;
using Stakeout.FlowMeter.Flows;
using Stakeout.FlowMeter.Streaming;
using Stakeout.Ingest;
using Stakeout.Models;

namespace Stakeout.Cli;

/// <summary>`stakeout detect`, `stakeout monitor`, `stakeout replay`: run a trained model over files and streams.</summary>
internal static class DetectCommands
{
    public static IEnumerable<Command> Create() => [CreateDetect(), CreateMonitor(), CreateReplay()];

    /// <summary>
    /// How long System.CommandLine waits for a signalled command before it gives up on it: past the monitor's own
    /// shutdown bound (it must never cut the monitor's drain and summary short), 30 s for the other commands.
    /// </summary>
    public static TimeSpan TerminationGrace(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return parse.CommandResult.Command.Name == "monitor" && parse.GetValue<double>("--shutdown-timeout") is > 0 and var seconds
            ? TimeSpan.FromSeconds(seconds + 10)
            : TimeSpan.FromSeconds(30);
    }

    /// <summary>Options shared by detect and monitor: model, output, threshold and policy.</summary>
    private sealed class PolicyOptions
    {
        public Option<string> Model { get; } = new("--model", "-m") { Description = "The model artifact to load (verified before use).", Required = true };

        public Option<string> OutputDir { get; } = new("--output-dir", "-o") { Description = "Where alerts.json, malicious_ips.log and summary.json go.", DefaultValueFactory = _ => "logs" };

        public Option<double?> Threshold { get; } = new("--threshold") { Description = "Alert when the attack score 1 - P(benign) is at least this (default: the model's threshold)." };

        public Option<string[]> ClassThreshold { get; } = new("--class-threshold") { Description = "CLASS=T: a threshold for one class (repeatable), e.g. PortScan=0.9.", AllowMultipleArgumentsPerToken = true };

        public Option<string[]> AllowSrc { get; } = new("--allow-src") { Description = "CIDR whose flows never alert as source (repeatable), e.g. 10.0.0.0/8.", AllowMultipleArgumentsPerToken = true };

        public Option<string[]> AllowDst { get; } = new("--allow-dst") { Description = "CIDR whose flows never alert as destination (repeatable).", AllowMultipleArgumentsPerToken = true };

        public Option<double> AggregateWindow { get; } = new("--aggregate-window") { Description = "Seconds within which repeated alerts of one class from one source become one alert with a count; 0 = one alert per flow.", DefaultValueFactory = _ => 60 };

        public Option<int> ExplainTop { get; } = new("--explain-top") { Description = "Features listed in each alert's explanation.", DefaultValueFactory = _ => 5 };

        public Option<bool> RequireSigned { get; } = new("--require-signed") { Description = "Refuse an artifact that is not signed." };

        public void AddTo(Command command)
        {
            command.Options.Add(Model);
            command.Options.Add(OutputDir);
            command.Options.Add(Threshold);
            command.Options.Add(ClassThreshold);
            command.Options.Add(AllowSrc);
            command.Options.Add(AllowDst);
            command.Options.Add(AggregateWindow);
            command.Options.Add(ExplainTop);
            command.Options.Add(RequireSigned);
            command.Options.Add(NoAnomalyAlerts);
            command.Options.Add(AnomalyThreshold);
            command.Options.Add(DriftWindow);
            command.Options.Add(NoDrift);
        }

        public Option<bool> NoAnomalyAlerts { get; } = new("--no-anomaly-alerts") { Description = "Alert on the classifier alone: no `anomaly` alerts for flows it calls benign (the anomaly score is still reported)." };

        public Option<double?> AnomalyThreshold { get; } = new("--anomaly-threshold") { Description = "Anomaly score at which a flow the classifier calls benign alerts (default: the model's)." };

        public Option<int> DriftWindow { get; } = new("--drift-window") { Description = "Flows per window compared with the model's training profile (PSI per feature, share of high anomaly scores).", DefaultValueFactory = _ => new Stakeout.Models.Drift.DriftOptions().WindowFlows };

        public Option<bool> NoDrift { get; } = new("--no-drift") { Description = "Do not compare the traffic with the training profile." };

        public DetectionOptions Build(ParseResult parse, DetectionOptions start) => start with
        {
            Threshold = parse.GetValue(Threshold),
            ClassThresholds = ParseClassThresholds(parse.GetValue(ClassThreshold) ?? []),
            AllowSources = [.. (parse.GetValue(AllowSrc) ?? []).Select(ParseNetwork)],
            AllowDestinations = [.. (parse.GetValue(AllowDst) ?? []).Select(ParseNetwork)],
            AggregationWindow = TimeSpan.FromSeconds(parse.GetValue(AggregateWindow)),
            ExplainTop = parse.GetValue(ExplainTop),
            AnomalyAlerts = !parse.GetValue(NoAnomalyAlerts),
            AnomalyThreshold = parse.GetValue(AnomalyThreshold),
            Drift = parse.GetValue(NoDrift) ? null : new Stakeout.Models.Drift.DriftOptions { WindowFlows = parse.GetValue(DriftWindow), MinFlows = Math.Min(new Stakeout.Models.Drift.DriftOptions().MinFlows, parse.GetValue(DriftWindow)) },
        };

        public ArtifactLoadOptions LoadOptions(ParseResult parse) => new() { RequireSigned = parse.GetValue(RequireSigned) };
    }

    private static Command CreateDetect()
    {
        var policy = new PolicyOptions();
        var paths = new Argument<string[]>("DATA_PATH")
        {
            Description = "Flow CSV files or directories (searched recursively for *.csv, *.csv.gz, *.zip). Either path separator works.",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON on stdout instead of text." };
        var noReport = ReportOptions.NoReportOption("detection");
        var command = new Command(
            "detect",
            """
            Score flow files with a trained model. Writes to the output directory:
              alerts.json        one EVE-style JSON alert per line (schema: docs/detection.md)
              malicious_ips.log  source addresses of alerting flows, once each (none invented when the data has no IPs)
              summary.json       flows in = scored + rejected + dropped, alerts by class, top sources and targets
              detection-report.html  alerts over time, top talkers, score distribution, example explanations
                                 (self-contained; every plot also as PNG and SVG; --no-report skips it)
            and prints the summary.

            Examples:
              stakeout detect --model model.stakeout ../shared/data/cicids2017 -o out/
              stakeout detect -m model.stakeout Friday.csv --threshold 0.8 --class-threshold PortScan=0.95
              stakeout detect -m model.stakeout data/ --allow-src 192.168.10.0/24 --aggregate-window 0 --json
            """)
        {
            paths, json, noReport,
        };
        policy.AddTo(command);
        command.SetAction((parse, cancel) => DetectAsync(parse, policy, parse.GetValue(paths)!, parse.GetValue(json), cancel, !parse.GetValue(noReport)));
        return command;
    }

    private static async Task<int> DetectAsync(ParseResult parse, PolicyOptions policy, string[] paths, bool asJson, CancellationToken cancel, bool report = true)
    {
        try
        {
            var options = policy.Build(parse, new DetectionOptions { BatchSize = 4096, QueueCapacity = 8 }).Validate();
            string modelPath = parse.GetValue(policy.Model)!;
            var model = ModelLoader.Load(modelPath, options, policy.LoadOptions(parse));
            string output = parse.GetValue(policy.OutputDir)!;
            var summary = await BatchDetector.RunAsync(model, paths, output, options, new FlowReaderOptions { SkipBadFiles = false }, new StderrLogger(), cancel).ConfigureAwait(false);
            if (report)
            {
                ReportOptions.Written(Stakeout.Reports.DetectionReport.Write(summary, Path.Combine(output, "alerts.json"), output));
            }
            if (asJson)
            {
                await Console.Out.WriteLineAsync(await File.ReadAllTextAsync(Path.Combine(output, "summary.json"), cancel).ConfigureAwait(false)).ConfigureAwait(false);
            }
            else
            {
                PrintSummary(summary, output);
            }

            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or FlowDataException or ArtifactException or InvalidDataException or IOException or StreamSchemaException)
        {
            return Fail(ex);
        }
    }

    private static Command CreateMonitor()
    {
        var policy = new PolicyOptions();
        var source = new Option<string>("--source", "-s")
        {
            Description = "Where flows come from: file:PATH (followed like tail -f), stdin, or tcp://127.0.0.1:PORT (CSV with header, or JSON lines; several senders); or packets, metered into flows: pcap:FILE (pcap or pcapng, ends with the file) or iface:NAME (live capture).",
            Required = true,
        };
        var maxFlows = new Option<long>("--max-flows") { Description = "Stop after this many flows have come in (0 = no limit)." };
        var duration = new Option<double>("--duration") { Description = "Stop after this many seconds (0 = until Ctrl-C or SIGTERM)." };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Serve Prometheus /metrics and /health on 127.0.0.1:PORT (0 = off)." };
        var backpressure = new Option<BackpressurePolicy>("--backpressure") { Description = "When the pipeline is full: block (slow the sources) or drop-oldest (counted).", DefaultValueFactory = _ => BackpressurePolicy.Block };
        var batchSize = new Option<int>("--batch-size") { Description = "Flows per scoring batch.", DefaultValueFactory = _ => 256 };
        var batchWait = new Option<double>("--batch-wait-ms") { Description = "Longest a flow waits for its batch to fill.", DefaultValueFactory = _ => 5 };
        var shutdownTimeout = new Option<double>("--shutdown-timeout")
        {
            Description = "Seconds the first SIGINT/SIGTERM gives the monitor to drain: score what came in, write the alerts, close the files. What is still unflushed then is named on stderr and in summary.json, and the monitor exits (code 1). A natural end (--duration, --max-flows) drains fully; sources then get this long to return.",
            DefaultValueFactory = _ => 5,
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not print each alert on the console." };
        var noWatch = new Option<bool>("--no-watch") { Description = "Do not reload the model when its file changes (SIGHUP still reloads)." };
        var eveMaxMb = new Option<int>("--eve-max-mb") { Description = "Rotate alerts.json at this size (keeps 5 old files).", DefaultValueFactory = _ => 100 };
        var meterMode = new Option<FlowMeterMode>("--meter-mode")
        {
            Description = "pcap:/iface: only. cicflowmeter: features as CICFlowMeter-V4 computes them, quirks included (what CIC-IDS2017-trained models expect); corrected: Engelen et al. 2021 fixes.",
            DefaultValueFactory = _ => FlowMeterMode.CicFlowMeter,
            CustomParser = MeterModes.Parser("--meter-mode"),
        };
        var emitInterval = new Option<double>("--emit-interval") { Description = "pcap:/iface: only. Also score a flow still open every this many seconds of packet time (0 = score flows only when they end or time out)." };
        var captureFilter = new Option<string?>("--capture-filter") { Description = "iface: only. A BPF filter on the captured packets, e.g. \"tcp port 80\"." };
        var flowTimeout = new Option<double>("--flow-timeout") { Description = "pcap:/iface: only. Seconds from a flow's first packet after which it ends.", DefaultValueFactory = _ => 120 };
        var dashboard = new Option<string?>("--dashboard") { Description = "Serve the live dashboard on ADDRESS:PORT, e.g. 127.0.0.1:8080 (off loopback --dashboard-token is required)." };
        var dashboardToken = DashboardCommands.TokenOption("--dashboard-token");
        var command = new Command(
            "monitor",
            """
            Watch a stream of flows with a trained model and alert in real time: source -> parse -> micro-batch -> score ->
            threshold/policy -> alerts (console, alerts.json rotated, malicious_ips.log). The stream's header is checked
            against the model at once. The first Ctrl-C, SIGINT or SIGTERM (also when started in the background by a script)
            drains what is in flight, writes summary.json and exits within --shutdown-timeout; SIGHUP (or a change of the
            model file) reloads the model after verifying it, without dropping a flow.

            Examples:
              stakeout monitor -m model.stakeout --source tcp://127.0.0.1:5140 --metrics-port 9108
              stakeout monitor -m model.stakeout --source file:/var/log/flows/current.csv -o /var/log/stakeout
              cat flows.csv | stakeout monitor -m model.stakeout --source stdin --quiet
              stakeout monitor -m model.stakeout -s tcp://127.0.0.1:5140 --max-flows 100000 --aggregate-window 0
              stakeout monitor -m model.stakeout --source pcap:incident.pcap -o out/
              sudo stakeout monitor -m model.stakeout --source iface:eth0 --capture-filter "not port 22" --emit-interval 30

            With pcap:FILE or iface:NAME the packets are metered into flows (as `stakeout flows` does) and each flow is
            scored when it ends or times out (--emit-interval also scores long flows while open); alerts carry the
            capture's real addresses and ports, and the packets that could not be used are summed up by reason (weird).
            """)
        {
            source, maxFlows, duration, shutdownTimeout, metricsPort, backpressure, batchSize, batchWait, quiet, noWatch, eveMaxMb, meterMode, emitInterval, flowTimeout, captureFilter, dashboard, dashboardToken,
        };
        policy.AddTo(command);
        LedgerCommands.MonitorLedger.AddTo(command);
        command.SetAction((parse, cancel) =>
        {
            var start = new DetectionOptions
            {
                MaxFlows = parse.GetValue(maxFlows),
                Backpressure = parse.GetValue(backpressure),
                BatchSize = parse.GetValue(batchSize),
                MaxBatchWait = TimeSpan.FromMilliseconds(parse.GetValue(batchWait)),
                ShutdownTimeout = TimeSpan.FromSeconds(parse.GetValue(shutdownTimeout)),
            };
            var settings = new MonitorSettings(
                parse.GetValue(source)!,
                parse.GetValue(duration),
                parse.GetValue(metricsPort),
                parse.GetValue(quiet),
                !parse.GetValue(noWatch),
                parse.GetValue(eveMaxMb),
                new FlowFeedOptions
                {
                    Meter = new FlowMeterOptions
                    {
                        Mode = parse.GetValue(meterMode),
                        FlowTimeout = TimeSpan.FromSeconds(parse.GetValue(flowTimeout)),
                        EmitInterval = parse.GetValue(emitInterval) is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : null,
                    },
                    CaptureFilter = parse.GetValue(captureFilter),
                },
                parse.GetValue(dashboard),
                parse.GetValue(dashboardToken));
            return MonitorAsync(parse, policy, start, settings, cancel);
        });
        return command;
    }

    private sealed record MonitorSettings(string Source, double Duration, int MetricsPort, bool Quiet, bool Watch, int EveMaxMb, FlowFeedOptions PacketFeed, string? Dashboard = null, string? DashboardToken = null);

    private static async Task<int> MonitorAsync(ParseResult parse, PolicyOptions policy, DetectionOptions start, MonitorSettings settings, CancellationToken cancel)
    {
        var logger = new StderrLogger();
        DetectionPipeline pipeline;
        IFlowSource source;
        string output = parse.GetValue(policy.OutputDir)!;
        string modelPath = parse.GetValue(policy.Model)!;
        DetectionOptions options;
        Stakeout.Dashboard.DashboardOptions? dashboardOptions = null;
        AlertHub? hub = null;
        LedgerCommands.DashboardLedger? ledgerView = null;
        try
        {
            if (settings.Dashboard is not null)
            {
                dashboardOptions = DashboardCommands.Options(settings.Dashboard, settings.DashboardToken, "--dashboard", "--dashboard-token");
                hub = new AlertHub();
            }

            options = policy.Build(parse, start).Validate();
            var load = policy.LoadOptions(parse);
            var model = ModelLoader.Load(modelPath, options, load);
            source = ClusterCommands.Sources().Create(settings.Source, new SourceSettings { PacketFeed = settings.PacketFeed });

            // A listening source binds its port before the dashboard or metrics endpoint is announced.
            source.Open();
            BatchDetector.EnsureWritableDirectory(output);
            var names = settings.Quiet ? new[] { "eve", "seed-logs" } : ["console", "eve", "seed-logs"];
            IReadOnlyList<IAlertSink> sinks = AlertSinkRegistry.CreateDefault().Create(names, new SinkSettings
            {
                OutputDirectory = output,
                Console = Console.Out,
                EveMaxBytes = (long)Math.Max(1, settings.EveMaxMb) << 20,
            });
            (sinks, ledgerView) = await LedgerCommands.MonitorLedger.AddSinkAsync(parse, sinks, cancel).ConfigureAwait(false);
            sinks = hub is null ? sinks : [.. sinks, hub];
            pipeline = new DetectionPipeline(new ModelHolder(model), options, sinks, TimeProvider.System, logger);
        }
        catch (Exception ex) when (ex is ArgumentException or ArtifactException or InvalidDataException or IOException or Stakeout.Ledger.Log.LedgerStateException)
        {
            return Fail(ex);
        }

        // --duration is a natural end (the run drains fully); only a signal (the command's token) bounds the drain.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var duration = new CancellationTokenSource();
        if (settings.Duration > 0)
        {
            duration.CancelAfter(TimeSpan.FromSeconds(settings.Duration));
        }

        using var reloader = new ModelReloader(pipeline, modelPath, () => ModelLoader.Load(modelPath, options, policy.LoadOptions(parse)), settings.Watch, logger);
        using var sighup = Signals.OnHangup(reloader.RequestReload);
        using var stopReloads = new CancellationTokenSource();
        var reloads = reloader.RunAsync(TimeSpan.FromMilliseconds(300), TimeProvider.System, stopReloads.Token);
        MetricsServer? metrics = null;
        DashboardCommands.LiveDashboard? live = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int exit = 0;
        try
        {
            if (settings.MetricsPort > 0)
            {
                metrics = new MetricsServer(pipeline, settings.MetricsPort, logger);
                metrics.Start();
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"metrics on http://127.0.0.1:{settings.MetricsPort}/metrics")).ConfigureAwait(false);
            }

            if (dashboardOptions is not null)
            {
                live = await DashboardCommands.StartLiveAsync(dashboardOptions, pipeline, hub!, modelPath, settings.Source, ledgerView, stop.Token).ConfigureAwait(false);
            }

            await pipeline.RunAsync([source], stop.Token, duration.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StreamSchemaException or IOException or System.Net.Sockets.SocketException or FlowDataException or InvalidOperationException or InvalidDataException or ArtifactException)
        {
            exit = Fail(ex);
        }
        finally
        {
            await stopReloads.CancelAsync().ConfigureAwait(false);
            await reloads.ConfigureAwait(false);
            if (metrics is not null)
            {
                await metrics.DisposeAsync().ConfigureAwait(false);
            }

            if (live is not null)
            {
                await live.DisposeAsync().ConfigureAwait(false);
            }
        }

        var summary = DetectionSummary.From(pipeline, clock.Elapsed);
        await BatchDetector.WriteSummaryAsync(summary, Path.Combine(output, "summary.json"), CancellationToken.None).ConfigureAwait(false);
        PrintSummary(summary, output);
        if (source is PacketFlowSource { Report: { } packets })
        {
            PrintPacketReport(packets);
        }

        PrintShutdown(summary.Shutdown);
        return exit == 0 && !summary.Shutdown.Complete ? 1 : exit;
    }

    private static Command CreateReplay()
    {
        var paths = new Argument<string[]>("DATA_PATH") { Description = "Flow CSV files or directories to stream (header first, one connection per file).", Arity = ArgumentArity.OneOrMore };
        var to = new Option<string>("--to") { Description = "The monitor's address: tcp://127.0.0.1:PORT.", Required = true };
        var rate = new Option<double>("--rate") { Description = "Rows per second (0 = as fast as the monitor takes them)." };
        var loop = new Option<bool>("--loop") { Description = "Start again from the first file at the end (until Ctrl-C or --max-flows)." };
        var maxFlows = new Option<long>("--max-flows") { Description = "Stop after this many rows (0 = no limit)." };
        var command = new Command(
            "replay",
            """
            Stream real flow rows to a monitor over TCP, byte for byte as written in the files, at a chosen rate.

            Examples:
              stakeout replay ../shared/data/cicids2017/trafficlabelling_ddos_1000.csv --to tcp://127.0.0.1:5140
              stakeout replay data/ --to tcp://127.0.0.1:5140 --rate 20000 --loop --max-flows 1000000
            """)
        {
            paths, to, rate, loop, maxFlows,
        };
        command.SetAction(async (parse, cancel) =>
        {
            try
            {
                string target = parse.GetValue(to)!;
                if (!target.StartsWith("tcp://", StringComparison.Ordinal) || !IPEndPoint.TryParse(target[6..].TrimEnd('/'), out var endpoint) || endpoint.Port == 0)
                {
                    return Fail(new ArgumentException($"--to must be tcp://127.0.0.1:PORT; got '{target}'."));
                }

                var replayer = new FlowReplayer(endpoint, parse.GetValue(rate), parse.GetValue(loop), parse.GetValue(maxFlows));
                var result = await replayer.RunAsync(parse.GetValue(paths)!, cancel).ConfigureAwait(false);
                double seconds = Math.Max(result.Elapsed.TotalSeconds, 1e-9);
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"replayed {result.Rows:N0} rows ({result.Bytes:N0} bytes) in {seconds:0.###} s: {result.Rows / seconds:N0} rows/s")).ConfigureAwait(false);
                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or FlowDataException or IOException or System.Net.Sockets.SocketException)
            {
                return Fail(ex);
            }
        });
        return command;
    }

    private static void PrintSummary(DetectionSummary s, string output)
    {
        var o = Console.Error;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"model      {s.Model}{(s.ModelSha256 is null ? "" : " (sha256 " + s.ModelSha256[..12] + "...)")}"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"flows      in {s.FlowsIn:N0} = scored {s.FlowsScored:N0} + rejected {s.FlowsRejected:N0} + dropped {s.FlowsDropped:N0} ({(s.Balanced ? "balanced" : "NOT BALANCED")})"));
        foreach (var (reason, n) in s.RejectedByReason)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  rejected {reason}: {n:N0}"));
        }

        foreach (var (reason, n) in s.DroppedByReason)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  dropped {reason}: {n:N0}"));
        }

        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alerts     {s.AlertFlows:N0} alerting flows in {s.AlertsEmitted:N0} alert(s); {s.SuppressedByAllowList:N0} allow-listed"));
        foreach (var c in s.AlertsByClass)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {c.Name}: {c.Flows:N0}"));
        }

        if (s.AlertFlows > 0 && !s.DataHasAddresses)
        {
            o.WriteLine("sources    the data has no IP columns: no source or target can be named");
        }

        foreach (var (title, list) in new[] { ("top sources", s.TopSources), ("top targets", s.TopTargets) })
        {
            if (list.Count > 0)
            {
                o.WriteLine(title);
                foreach (var c in list)
                {
                    o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {c.Name}: {c.Flows:N0}"));
                }
            }
        }

        if (s.Drift is { } d)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"drift      {d.DriftedWindows:N0} of {d.Windows:N0} window(s) of {d.WindowFlows:N0} flows drifted from the training data (highest divergence {d.MaxDivergence:F3}, PSI {d.MaxPsi:F3}{(d.MaxAnomalyShare is { } a ? $", high-anomaly share up to {a:P1}, training {d.TrainingAnomalyShare:P1}" : "")})"));
            if (d.DriftedFeatures.Count > 0)
            {
                o.WriteLine("  drifted: " + string.Join(", ", d.DriftedFeatures.Take(8).Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Feature} (divergence {f.MaxDivergence:F2}, PSI {f.MaxPsi:F2})"))));
            }
        }

        foreach (var sink in s.Sinks.Where(x => x.Failures > 0 || x.Overflow > 0 || x.Lost > 0))
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sink {sink.Name}: {sink.Failures} failure(s), {sink.Overflow} overflow, {sink.Lost} lost; last error {sink.LastError ?? "-"}"));
        }

        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"written    {Path.Combine(output, "alerts.json")}, malicious_ips.log, summary.json ({s.Seconds:0.###} s)"));
    }

    private static void PrintShutdown(ShutdownReport r)
    {
        if (!r.Stopped)
        {
            return;
        }

        var o = Console.Error;
        string bound = r.Signal
            ? string.Create(CultureInfo.InvariantCulture, $"bound {r.BoundSeconds:0.###} s from the signal")
            : "natural end, drained fully";
        if (r.Complete)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"shutdown   drained in {r.Seconds:0.###} s ({bound}): every flow in was accounted for and every alert written"));
            return;
        }

        o.WriteLine(r.Signal
            ? string.Create(CultureInfo.InvariantCulture, $"shutdown   bound of {r.BoundSeconds:0.###} s reached after {r.Seconds:0.###} s; not flushed: {r.FlowsNotProcessed:N0} flow(s) unscored, {r.AlertsNotWritten:N0} alert(s) unwritten")
            : string.Create(CultureInfo.InvariantCulture, $"shutdown   incomplete after {r.Seconds:0.###} s ({bound}); not flushed: {r.FlowsNotProcessed:N0} flow(s) unscored, {r.AlertsNotWritten:N0} alert(s) unwritten"));
        foreach (string s in r.AbandonedSources)
        {
            o.WriteLine($"  source {s} did not stop in time; its unread input was not read");
        }

        foreach (string s in r.SinksNotClosed)
        {
            o.WriteLine($"  sink {s} had not closed");
        }
    }

    private static void PrintPacketReport(PacketSourceReport r)
    {
        var o = Console.Error;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"packets    {r.Packets:N0} read from {r.Source}, {r.Decoded:N0} decoded; {r.FlowsMetered:N0} flows metered (+{r.IntervalReports:N0} interim reports), {r.FlowsHandedOver:N0} handed to detection"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"           {r.SuppressedSinglePacket:N0} one-packet flows left out (CICFlowMeter mode), {r.Evicted:N0} evicted, {r.DroppedByCapture:N0} dropped by the capture"));
        o.WriteLine(r.Weird.Count == 0 ? "weird      none" : "weird");
        foreach (var (name, n) in r.Weird)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {n:N0}"));
        }
    }

    /// <summary>
    /// Prints the error on one unwrapped line (scripts grep it) without .NET's "(Parameter 'x')" suffix.
    /// </summary>
    private static int Fail(Exception ex)
    {
        string message = ex.Message;
        if (ex is ArgumentException { ParamName: { } name })
        {
            string suffix = $" (Parameter '{name}')";
            int at = message.LastIndexOf(suffix, StringComparison.Ordinal);
            message = at >= 0 ? message[..at] : message;
        }

        Console.Error.WriteLine($"error: {message.Trim()}");
        return ExitCodes.For(ex);
    }

    private static Dictionary<string, double> ParseClassThresholds(string[] values)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var v in values)
        {
            int eq = v.LastIndexOf('=');
            if (eq <= 0 || !double.TryParse(v.AsSpan(eq + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double t))
            {
                throw new ArgumentException($"--class-threshold takes CLASS=T (e.g. PortScan=0.9); got '{v}'.");
            }

            result[v[..eq]] = t;
        }

        return result;
    }

    private static IPNetwork ParseNetwork(string text) =>
        IPNetwork.TryParse(text, out var network) ? network : throw new ArgumentException($"'{text}' is not a CIDR network (e.g. 10.0.0.0/8).");

    /// <summary>Log lines on stderr (warnings and errors always; information too, since the monitor is a service).</summary>
    private sealed class StderrLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string level = logLevel switch
            {
                LogLevel.Warning => "warn",
                LogLevel.Error or LogLevel.Critical => "error",
                _ => "info",
            };
            Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {level}: {formatter(state, exception)}");
        }
    }
}
