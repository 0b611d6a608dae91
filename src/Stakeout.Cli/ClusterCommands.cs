using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Stakeout.Cluster;
using Stakeout.Detection;
using Stakeout.Ingest;
using Stakeout.Models;

namespace Stakeout.Cli;

/// <summary>`stakeout sensor`, `stakeout worker`, `stakeout ledger-writer`: scale-out over NATS JetStream (docs/scale-out.md).</summary>
internal static class ClusterCommands
{
    public static IEnumerable<Command> Create() => [CreateSensor(), CreateWorker(), CreateLedgerWriter()];

    /// <summary>The monitor's sources, with <c>nats://HOST:PORT[,HOST:PORT]</c> (the workers' consumer) added.</summary>
    public static FlowSourceRegistry Sources()
    {
        var registry = FlowSourceRegistry.CreateDefault();
        registry.Register("nats", (rest, _) => new NatsFlowSource(new ClusterOptions { Servers = ClusterOptions.ParseServers(rest.TrimEnd('/')) }));
        return registry;
    }

    /// <summary>Connection, stream and delivery options every cluster command shares.</summary>
    private sealed class NatsOptions(string streamNoun)
    {
        public Option<string> Nats { get; } = new("--nats") { Description = "NATS servers: nats://HOST:PORT, comma-separated for several servers of one cluster.", DefaultValueFactory = _ => "nats://127.0.0.1:4222" };

        public Option<int> Replicas { get; } = new("--replicas") { Description = $"Replicas of the {streamNoun} when this command creates it (1, 3 or 5; at most the cluster's servers).", DefaultValueFactory = _ => 1 };

        public Option<StreamRetention?> Retention { get; } = new("--retention") { Description = $"Retention of the {streamNoun}: limits, workqueue or interest (default: workqueue for flows, limits for alerts)." };

        public Option<DiscardPolicy> Discard { get; } = new("--discard") { Description = "When a limit is reached: new (refuse new messages: publishers wait and retry) or old (delete the oldest).", DefaultValueFactory = _ => DiscardPolicy.New };

        public Option<StreamStorage> Storage { get; } = new("--storage") { Description = "file or memory.", DefaultValueFactory = _ => StreamStorage.File };

        public Option<double?> MaxAgeHours { get; } = new("--max-age-hours") { Description = $"Oldest message the {streamNoun} keeps, in hours (default: 168 for flows, 720 for alerts)." };

        public Option<long?> MaxBytes { get; } = new("--max-bytes") { Description = $"Most bytes the {streamNoun} keeps (-1 = no limit; default: 1 GiB for flows, none for alerts)." };

        public Option<long> MaxMsgs { get; } = new("--max-msgs") { Description = "Most messages kept (-1 = no limit).", DefaultValueFactory = _ => -1 };

        public Option<double> DedupWindow { get; } = new("--dedup-window") { Description = "Seconds within which a re-published Nats-Msg-Id is recognised and stored once.", DefaultValueFactory = _ => 600 };

        public Option<double> GiveUpAfter { get; } = new("--give-up-after") { Description = "Seconds to keep retrying an unreachable NATS (every attempt is logged) before exiting with an error.", DefaultValueFactory = _ => 120 };

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { Nats, Replicas, Retention, Discard, Storage, MaxAgeHours, MaxBytes, MaxMsgs, DedupWindow, GiveUpAfter })
            {
                command.Options.Add(o);
            }
        }

        public ClusterOptions Build(ParseResult parse, bool flows)
        {
            var defaults = new ClusterOptions();
            var start = flows ? defaults.FlowLimits : defaults.AlertLimits;
            var limits = start with
            {
                Replicas = parse.GetValue(Replicas),
                Retention = parse.GetValue(Retention) ?? start.Retention,
                Discard = parse.GetValue(Discard),
                Storage = parse.GetValue(Storage),
                MaxAge = parse.GetValue(MaxAgeHours) is { } h ? TimeSpan.FromHours(h) : start.MaxAge,
                MaxBytes = parse.GetValue(MaxBytes) ?? start.MaxBytes,
                MaxMessages = parse.GetValue(MaxMsgs),
                DuplicateWindow = TimeSpan.FromSeconds(parse.GetValue(DedupWindow)),
            };
            var options = defaults with
            {
                Servers = ClusterOptions.ParseServers(parse.GetValue(Nats)!),
                GiveUpAfter = TimeSpan.FromSeconds(parse.GetValue(GiveUpAfter)),
            };
            // A worker also makes sure the flow stream exists (it may start before any sensor), with the same replicas.
            options = flows
                ? options with { FlowLimits = limits }
                : options with { AlertLimits = limits, FlowLimits = options.FlowLimits with { Replicas = limits.Replicas } };
            return options;
        }
    }

    private static Command CreateSensor()
    {
        var nats = new NatsOptions("flow stream");
        var sensor = new Option<string>("--sensor") { Description = "This sensor's id (letters, digits, '-', '_'): its subject is stakeout.flows.ID.", Required = true };
        var sources = new Option<string[]>("--source", "-s") { Description = "A monitor source URI (repeatable): file:PATH (followed), stdin, tcp://127.0.0.1:PORT, pcap:FILE, iface:NAME.", AllowMultipleArgumentsPerToken = true };
        var paths = new Argument<string[]>("DATA_PATH") { Description = "Flow CSV files or directories, read once to their end (as `detect` reads them).", Arity = ArgumentArity.ZeroOrMore };
        var batchSize = new Option<int>("--batch-size") { Description = "Flows per published batch (one NATS message).", DefaultValueFactory = _ => 256 };
        var maxFlows = new Option<long>("--max-flows") { Description = "Stop after this many flows (0 = no limit)." };
        var duration = new Option<double>("--duration") { Description = "Stop after this many seconds (0 = until the sources end or Ctrl-C)." };
        var command = new Command(
            "sensor",
            """
            Read flows (files, or any monitor source) and publish them in batches to the JetStream flow stream, one subject
            per sensor. A batch counts as published once JetStream acknowledged it; a retried publish carries the same
            Nats-Msg-Id and is stored once. Prints flows in = published + rejected + dropped.

            Examples:
              stakeout sensor --sensor dmz-1 --nats nats://127.0.0.1:4222 ../shared/data/cicids2017/trafficlabelling_ddos_1000.csv
              stakeout sensor --sensor edge --source tcp://127.0.0.1:5140 --nats nats://10.0.0.5:4222,nats://10.0.0.6:4222 --replicas 3
              sudo stakeout sensor --sensor lan --source iface:eth0 --nats nats://127.0.0.1:4222
            """)
        {
            paths, sensor, sources, batchSize, maxFlows, duration,
        };
        nats.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var logger = new StderrLogger();
            try
            {
                var options = nats.Build(parse, flows: true) with { BatchSize = parse.GetValue(batchSize) };
                var list = new List<IFlowSource>();
                var registry = FlowSourceRegistry.CreateDefault();
                list.AddRange((parse.GetValue(sources) ?? []).Select(s => registry.Create(s)));
                string[] files = parse.GetValue(paths) ?? [];
                if (files.Length > 0)
                {
                    list.Add(new FlowFilesSource(files, new FlowReaderOptions { SkipBadFiles = false }));
                }

                if (list.Count == 0)
                {
                    return Fail(new ArgumentException("give DATA_PATH files or at least one --source."));
                }

                // Listening sources bind their ports before the sensor connects to NATS: a port in use fails the start.
                foreach (var source in list)
                {
                    source.Open();
                }

                var runner = new ClusterSensor(options, parse.GetValue(sensor)!, new DetectionOptions { MaxFlows = parse.GetValue(maxFlows) }, logger);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                if (parse.GetValue(duration) is > 0 and var seconds)
                {
                    stop.CancelAfter(TimeSpan.FromSeconds(seconds));
                }

                var report = await runner.RunAsync(list, stop.Token).ConfigureAwait(false);
                var o = Console.Error;
                await o.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"sensor {report.Sensor}: flows in {report.FlowsIn:N0} = published {report.FlowsPublished:N0} + rejected {report.FlowsRejected.Values.Sum():N0} + dropped {report.FlowsDropped.Values.Sum():N0} ({(report.Balanced ? "balanced" : "NOT BALANCED")}); {report.Batches:N0} batches on {runner.Subject} ({report.DuplicateAcks:N0} recognised duplicates) in {report.Seconds:0.###} s")).ConfigureAwait(false);
                foreach (var (reason, n) in report.FlowsRejected.Concat(report.FlowsDropped))
                {
                    await o.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {reason}: {n:N0}")).ConfigureAwait(false);
                }

                return report.Balanced && !report.FlowsDropped.ContainsKey("publish_failed") ? 0 : 1;
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or FlowDataException or StreamSchemaException or InvalidDataException)
            {
                return Fail(ex);
            }
        });
        return command;
    }

    private static Command CreateWorker()
    {
        var nats = new NatsOptions("alert and result streams");
        var model = new Option<string>("--model", "-m") { Description = "The model artifact (verified before use). SIGHUP reloads it from the same path (roll workers one by one).", Required = true };
        var workerId = new Option<string?>("--worker-id") { Description = "This worker's id in results and logs (default: HOST-PID)." };
        var threshold = new Option<double?>("--threshold") { Description = "Alert when 1 - P(benign) is at least this (default: the model's)." };
        var explainTop = new Option<int>("--explain-top") { Description = "Features in each alert's explanation.", DefaultValueFactory = _ => 5 };
        var requireSigned = new Option<bool>("--require-signed") { Description = "Refuse an artifact that is not signed." };
        var ackWait = new Option<double>("--ack-wait") { Description = "Seconds a batch delivered to a worker may stay unacknowledged before it goes to another.", DefaultValueFactory = _ => 30 };
        var fetch = new Option<int>("--fetch") { Description = "Batches pulled per request.", DefaultValueFactory = _ => 4 };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Serve Prometheus /metrics (with consumer lag) on 127.0.0.1:PORT (0 = off)." };
        var duration = new Option<double>("--duration") { Description = "Stop after this many seconds (0 = until Ctrl-C or SIGTERM)." };
        var command = new Command(
            "worker",
            """
            Score flow batches from the shared durable consumer 'workers' and publish alerts (EVE JSON, model SHA-256 in
            each) to the alert stream and one result per batch to the result stream; a batch is acknowledged only after
            JetStream stored all of them. Start as many as the flow rate needs, on any machines.
            Ctrl-C/SIGTERM finishes the batch in hand and hands the others back.

            Examples:
              stakeout worker --model model.stakeout --nats nats://127.0.0.1:4222 --metrics-port 9110
              stakeout worker -m model.stakeout --nats nats://10.0.0.5:4222,nats://10.0.0.6:4222 --replicas 3
              kill -HUP $(pidof stakeout)   # after replacing model.stakeout: this worker rolls to it between batches
            """)
        {
            model, workerId, threshold, explainTop, requireSigned, ackWait, fetch, metricsPort, duration,
        };
        nats.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var logger = new StderrLogger();
            try
            {
                var options = nats.Build(parse, flows: false) with { AckWait = TimeSpan.FromSeconds(parse.GetValue(ackWait)), FetchBatch = parse.GetValue(fetch) };
                var detection = new DetectionOptions { Threshold = parse.GetValue(threshold), ExplainTop = parse.GetValue(explainTop), AggregationWindow = TimeSpan.Zero }.Validate();
                string path = parse.GetValue(model)!;
                var load = new ArtifactLoadOptions { RequireSigned = parse.GetValue(requireSigned) };
                var handle = ModelLoader.Load(path, detection, load);
                string id = parse.GetValue(workerId) ?? DefaultId();
                var worker = new ClusterWorker(options, id, new ModelHolder(handle), detection, logger);
                using var sighup = Signals.OnHangup(() =>
                {
                    try
                    {
                        worker.Reload(ModelLoader.Load(path, detection, load));
                    }
                    catch (Exception ex) when (ex is ArtifactException or InvalidDataException or IOException or ArgumentException)
                    {
                        Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} error: worker {id}: reload of {path} refused, the current model stays: {ex.Message}");
                    }
                });
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                if (parse.GetValue(duration) is > 0 and var seconds)
                {
                    stop.CancelAfter(TimeSpan.FromSeconds(seconds));
                }

                ClusterMetricsServer? metrics = parse.GetValue(metricsPort) is > 0 and var port ? new ClusterMetricsServer(port, () => ClusterMetrics.Render(worker), logger) : null;
                try
                {
                    await worker.RunAsync(stop.Token).ConfigureAwait(false);
                }
                finally
                {
                    if (metrics is not null)
                    {
                        await metrics.DisposeAsync().ConfigureAwait(false);
                    }
                }

                var f = worker.Flows.Snapshot();
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"worker {id}: flows in {f.FlowsIn:N0} = scored {f.FlowsScored:N0} + rejected {f.FlowsRejected:N0}; {worker.Counters.Batches:N0} batches acknowledged ({worker.Counters.Redelivered:N0} redelivered), {worker.Counters.AlertsPublished:N0} alerts published, {worker.Counters.AlertDuplicates:N0} recognised duplicates")).ConfigureAwait(false);
                return 0;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or ArtifactException or InvalidDataException)
            {
                return Fail(ex);
            }
        });
        return command;
    }

    private static Command CreateLedgerWriter()
    {
        var nats = new NatsOptions("alert stream");
        var ledger = new Option<string>("--ledger") { Description = "Directory of the threat ledger (signed RFC 9162 log of STIX records, and alert-ids.tsv: each alert id once); a signed, fsynced checkpoint before each group is acknowledged.", Required = true };
        var duration = new Option<double>("--duration") { Description = "Stop after this many seconds (0 = until Ctrl-C or SIGTERM)." };
        var sensor = new Option<string?>("--sensor") { Description = "Keep only this sensor's alerts (its own consumer ledger-ID): one ledger per sensor; also the ledger's sensor id unless --ledger-sensor is given." };
        var command = new Command(
            "ledger-writer",
            """
            Consume the alert stream into the threat ledger: each alert becomes a STIX 2.1 record in a signed Merkle log
            (the same log `monitor --ledger` writes and `ledger verify` checks); an alert id already held is skipped, so
            redelivered or re-published alerts are recorded once; each group is committed under a signed, fsynced
            checkpoint before it is acknowledged.

            Example:
              stakeout keys new --out keys --name ledger
              stakeout ledger-writer --nats nats://127.0.0.1:4222 --ledger /var/lib/stakeout/ledger --ledger-key keys/ledger.key
              stakeout ledger-writer --nats nats://10.0.0.5:4222 --sensor dmz-1 --ledger /var/lib/stakeout/ledger-dmz-1 --ledger-key keys/ledger.key
              stakeout ledger verify /var/lib/stakeout/ledger --trusted-key keys/ledger.pub
            """)
        {
            ledger, duration, sensor,
        };
        nats.AddTo(command);
        LedgerCommands.MonitorLedger.AddWriterOptionsTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var logger = new StderrLogger();
            try
            {
                var options = nats.Build(parse, flows: false);
                string dir = parse.GetValue(ledger)!;
                var (store, owner) = await LedgerCommands.MonitorLedger.OpenAlertStoreAsync(parse, dir, parse.GetValue(sensor), cancel).ConfigureAwait(false);
                await using var _ = owner.ConfigureAwait(false);
                if (store.IndexLinesCut > 0)
                {
                    await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss.fff} warn: ledger-writer: cut {store.IndexLinesCut} alert id(s) of a commit that never became durable from {store.IndexPath}; those alerts are delivered again")).ConfigureAwait(false);
                }

                var writer = new LedgerWriter(options, store, logger, sensor: parse.GetValue(sensor));
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                if (parse.GetValue(duration) is > 0 and var seconds)
                {
                    stop.CancelAfter(TimeSpan.FromSeconds(seconds));
                }

                try
                {
                    await writer.RunAsync(stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Stopped.
                }

                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ledger-writer: {writer.Received:N0} alert messages received, {writer.Appended:N0} appended, {writer.Duplicates:N0} duplicates skipped, {writer.Rejected:N0} rejected; {store.Log.DurableSize:N0} records in {store.Log.Origin}, head {store.Log.HeadCid}")).ConfigureAwait(false);
                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or Stakeout.Ledger.Log.LedgerStateException or System.Text.Json.JsonException)
            {
                return Fail(ex);
            }
        });
        return command;
    }

    private static string DefaultId()
    {
        string host = new([.. Environment.MachineName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]);
        return string.Create(CultureInfo.InvariantCulture, $"{(host.Length > 40 ? host[..40] : host)}-{Environment.ProcessId}");
    }

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
        return 1;
    }

    /// <summary>Log lines on stderr: information and up, since these are services.</summary>
    private sealed class StderrLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                string level = logLevel switch { LogLevel.Warning => "warn", LogLevel.Error or LogLevel.Critical => "error", _ => "info" };
                Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {level}: {formatter(state, exception)}");
            }
        }
    }
}
