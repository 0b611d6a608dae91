// End-to-end detection benchmark (not a test): replay over loopback TCP -> monitor pipeline -> alert emitted.
// Usage: dotnet run -c Release --project bench/Stakeout.DetectionBench -- [--model M] [--rate N] [--seconds S] [--soak S]
// Prints, in one run: the batch baseline (detect path on the same rows), unthrottled TCP throughput, latency at the
// target rate, and memory samples over a soak. Data: bench/data/replay.csv, generated from ../shared/data rows.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Stakeout.Detection;

var args2 = args.ToList();
string Arg(string name, string fallback)
{
    int i = args2.IndexOf(name);
    return i >= 0 && i + 1 < args2.Count ? args2[i + 1] : fallback;
}

string root = FindRoot();
string model = Arg("--model", Path.Combine(root, "tests/Stakeout.Models.Tests/TestData/format-v1/families-lightgbm.stakeout"));
double rate = double.Parse(Arg("--rate", "100000"), CultureInfo.InvariantCulture);
double seconds = double.Parse(Arg("--seconds", "20"), CultureInfo.InvariantCulture);
double soak = double.Parse(Arg("--soak", "0"), CultureInfo.InvariantCulture);
string data = Path.Combine(root, "bench/data/replay.csv");
EnsureData(data, Path.Combine(root, "..", "shared", "data", "cicids2017"), rows: 200_000);
long dataRows = File.ReadLines(data).LongCount() - 1;

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine($"model: {model}");
Console.WriteLine($"data: {data} ({dataRows:N0} rows)");

int batchSize = int.Parse(Arg("--batch-size", "256"), CultureInfo.InvariantCulture);
int queue = int.Parse(Arg("--queue", "8"), CultureInfo.InvariantCulture);
double waitMs = double.Parse(Arg("--batch-wait-ms", "5"), CultureInfo.InvariantCulture);

// Baseline 1: the scorer alone, one thread, batches of 256 rows already in memory: the ceiling for any pipeline.
{
    var handle = ModelLoader.Load(model, new DetectionOptions());
    var rows = new List<float[]>();
    foreach (var b in new Stakeout.Ingest.FlowCsvReader().Open([data]).ReadBatches())
    {
        rows.Add(b.Features[..(b.Count * Stakeout.Core.FeatureSchema.Count)]);
    }

    var probabilities = new float[256 * handle.Scorer.Classes.Count];
    long scored = 0;
    var sw = Stopwatch.StartNew();
    for (int pass = 0; pass < 3; pass++)
    {
        foreach (var block in rows)
        {
            for (int start = 0; start < block.Length; start += 256 * Stakeout.Core.FeatureSchema.Count)
            {
                var slice = block.AsSpan(start, Math.Min(256 * Stakeout.Core.FeatureSchema.Count, block.Length - start));
                handle.Scorer.Score(slice, probabilities.AsSpan(0, slice.Length / Stakeout.Core.FeatureSchema.Count * handle.Scorer.Classes.Count));
                scored += slice.Length / Stakeout.Core.FeatureSchema.Count;
            }
        }
    }

    Console.WriteLine($"baseline scorer alone (1 thread, in memory): {scored:N0} rows in {sw.Elapsed.TotalSeconds:0.00} s = {scored / sw.Elapsed.TotalSeconds:N0} rows/s");
}

// Baseline 2: the batch path (parallel CSV reader -> same pipeline and scorer), rows from disk; second run reported.
for (int run = 0; run < 2; run++)
{
    var options = new DetectionOptions { BatchSize = 4096, QueueCapacity = 8, AggregationWindow = TimeSpan.Zero, ExplainTop = 0, Threshold = 0 };
    var pipeline = new DetectionPipeline(new ModelHolder(ModelLoader.Load(model, options)), options, [new CountingSink()]);
    var sw = Stopwatch.StartNew();
    await pipeline.RunAsync([new FlowFilesSource([data])]);
    if (run == 1)
    {
        Report("baseline detect (files, batch, every flow alerts)", pipeline, sw.Elapsed);
    }
}

// 2. Unthrottled TCP: how many flows/s the monitor sustains from one sender.
await RunTcp("tcp unthrottled", 0, maxRows: 1_000_000, explainTop: 0, threshold: 0);

// 3. At the target rate, every flow alerting (threshold 0, explanations off): flow-to-alert latency over all flows.
await RunTcp($"tcp at {rate:N0}/s, all flows alert", rate, maxRows: (long)(rate * seconds), explainTop: 0, threshold: 0);

// 4. At the target rate with the monitor's defaults: model threshold, explanations, 60 s aggregation.
await RunTcp($"tcp at {rate:N0}/s, monitor defaults (model threshold, explain 5, aggregate 60 s)", rate, maxRows: (long)(rate * seconds), explainTop: 5, threshold: null, aggregate: TimeSpan.FromSeconds(60));

// 5. Soak: memory over time at the target rate.
if (soak > 0)
{
    await RunTcp($"soak {soak:N0} s at {rate:N0}/s", rate, maxRows: (long)(rate * soak), explainTop: 0, threshold: 0, sampleMemory: true);
}

async Task RunTcp(string title, double rowsPerSecond, long maxRows, int explainTop, double? threshold, bool sampleMemory = false, TimeSpan? aggregate = null)
{
    var options = new DetectionOptions
    {
        AggregationWindow = aggregate ?? TimeSpan.Zero,
        ExplainTop = explainTop,
        Threshold = threshold,
        MaxFlows = maxRows,
        BatchSize = batchSize,
        QueueCapacity = queue,
        MaxBatchWait = TimeSpan.FromMilliseconds(waitMs),
    };
    var pipeline = new DetectionPipeline(new ModelHolder(ModelLoader.Load(model, options)), options, [new CountingSink()]);
    var source = new TcpFlowSource(new IPEndPoint(IPAddress.Loopback, 0));
    var run = pipeline.RunAsync([source]);
    var endpoint = await source.Bound;
    using var stopSampling = new CancellationTokenSource();
    var sampler = sampleMemory ? Task.Run(() => SampleMemory(pipeline, stopSampling.Token)) : Task.CompletedTask;
    var sw = Stopwatch.StartNew();
    var replay = new FlowReplayer(endpoint, rowsPerSecond, loop: true, maxRows: maxRows);
    await replay.RunAsync([data]);
    await run;
    sw.Stop();
    await stopSampling.CancelAsync();
    await sampler;
    Report(title, pipeline, sw.Elapsed);
}

static async Task SampleMemory(DetectionPipeline pipeline, CancellationToken stop)
{
    var clock = Stopwatch.StartNew();
    while (!stop.IsCancellationRequested)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(10), stop);
        }
        catch (OperationCanceledException)
        {
            break;
        }

        using var self = Process.GetCurrentProcess();
        Console.WriteLine($"  t={clock.Elapsed.TotalSeconds,5:0}s flows={pipeline.Counters.FlowsScored,12:N0} working_set={self.WorkingSet64 / 1048576.0,7:0.0} MiB gc_heap={GC.GetTotalMemory(false) / 1048576.0,7:0.0} MiB gen2={GC.CollectionCount(2)}");
    }
}

static void Report(string title, DetectionPipeline pipeline, TimeSpan elapsed)
{
    var s = pipeline.Counters.Snapshot();
    double perSecond = s.FlowsScored / elapsed.TotalSeconds;
    var lat = pipeline.AlertLatency;
    string latency = lat.Count == 0 ? "no alerts emitted at once" :
        $"flow-to-alert p50 {lat.Quantile(0.5).TotalMilliseconds:0.00} ms, p99 {lat.Quantile(0.99).TotalMilliseconds:0.00} ms, max {lat.Quantile(1).TotalMilliseconds:0.0} ms over {lat.Count:N0} alerts emitted at once; {s.AlertFlows:N0} alerting flows in {s.AlertsEmitted:N0} alerts";
    Console.WriteLine($"{title}: {s.FlowsScored:N0} flows in {elapsed.TotalSeconds:0.00} s = {perSecond:N0} flows/s; in {s.FlowsIn:N0} = scored {s.FlowsScored:N0} + rejected {s.FlowsRejected:N0} + dropped {s.FlowsDropped:N0}; {latency}; batch score p50 {pipeline.BatchLatency.Quantile(0.5).TotalMicroseconds:0} us");
}

static void EnsureData(string path, string shared, int rows)
{
    if (File.Exists(path))
    {
        return;
    }

    // Real rows of three TrafficLabelling extracts that share one header, repeated to the wanted size.
    string[] files = ["trafficlabelling_ddos_1000.csv", "trafficlabelling_webattack-xss_652.csv", "trafficlabelling_webattack-sqli_21.csv"];
    var lines = files.SelectMany(f => File.ReadLines(Path.Combine(shared, f)).Skip(1)).ToList();
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    using var w = new StreamWriter(path);
    w.Write(File.ReadLines(Path.Combine(shared, files[0])).First() + "\n");
    for (int i = 0; i < rows; i++)
    {
        w.Write(lines[i % lines.Count]);
        w.Write('\n');
    }
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Stakeout.slnx")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
}

/// <summary>Counts alerts and drops them: the benchmark measures detection, not disk.</summary>
internal sealed class CountingSink : IAlertSink
{
    public long Count;

    public string Name => "count";

    public ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        Count += alerts.Count;
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
