// Dashboard aggregation benchmark (not a test): how many alerts per second the dashboard's state takes in on one
// thread, against a baseline in the same run, and whether its memory stays flat as alerts keep coming.
// Usage: dotnet artifacts/bin/Stakeout.DashboardBench/release/Stakeout.DashboardBench.dll [--alerts N] [--pages P]
//   baseline  : AlertConversion.FromAlert only (what any in-process subscriber pays to read an alert)
//   state     : FromAlert + DashboardState.Add (buckets, two Space-Saving sketches, the ring), no page open
//   state+P   : the same with P pages subscribed, each taking 25 alerts every 250 ms as the server does
// Alerts: 8 classes, sources drawn from 65,536 addresses (Zipf-like: a few heavy hitters), 3 features explained.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Stakeout.Core;
using Stakeout.Dashboard;
using Stakeout.Detection;

var argv = args.ToList();
long alerts = Get("--alerts", 2_000_000);
int pages = (int)Get("--pages", 4);

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine($"alerts per scenario: {alerts:N0}; pages: {pages}");
var source = MakeAlerts(100_000, seed: 1);

Run("baseline (convert only)", state: null, pageCount: 0);
Run("state, no page", new DashboardState(new DashboardLimits(), TimeProvider.System), 0);
var last = new DashboardState(new DashboardLimits(), TimeProvider.System);
Run($"state, {pages} pages", last, pages);

// Memory: the same state after as many alerts again must hold what it held (bounded), give or take the GC.
long before = GC.GetTotalMemory(forceFullCollection: true);
for (long i = 0; i < alerts; i++)
{
    last.Add(AlertConversion.FromAlert(source[(int)(i % source.Length)]));
}

long after = GC.GetTotalMemory(forceFullCollection: true);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"managed heap with the state after {alerts:N0} alerts: {before / 1048576.0:0.0} MiB; after {alerts:N0} more: {after / 1048576.0:0.0} MiB"));
var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
int statsBytes = JsonSerializer.SerializeToUtf8Bytes(last.Stats(), options).Length;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"one stats event: {statsBytes:N0} bytes (sent once a second); one alert: ~{JsonSerializer.SerializeToUtf8Bytes(last.Recent(AlertFilter.All, 1)[0], options).Length:N0} bytes (at most 100 a second per page)"));
return 0;

void Run(string name, DashboardState? state, int pageCount)
{
    using var stop = new CancellationTokenSource();
    var subs = state is null ? [] : Enumerable.Range(0, pageCount).Select(_ => state.Subscribe(AlertFilter.All)).ToArray();
    long taken = 0, skipped = 0;
    var readers = subs.Select(s => Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            var (a, k) = s.Take(25);
            Interlocked.Add(ref taken, a.Count);
            Interlocked.Add(ref skipped, k);
            try
            {
                await Task.Delay(250, stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    })).ToArray();
    long checksum = 0;
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    for (long i = 0; i < alerts; i++)
    {
        var a = AlertConversion.FromAlert(source[(int)(i % source.Length)]);
        checksum += state is null ? a.SourcePort : state.Add(a).Id;
    }

    sw.Stop();
    var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
    stop.Cancel();
    Task.WaitAll(readers);
    foreach (var s in subs)
    {
        s.Dispose();
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name,-26} {alerts / sw.Elapsed.TotalSeconds,12:N0} alerts/s  ({sw.Elapsed.TotalMilliseconds * 1e6 / alerts,7:0} ns/alert wall, {cpuUsed.TotalMilliseconds * 1e6 / alerts,7:0} ns CPU)  pages took {taken:N0}, sampled out {skipped:N0}  [{checksum % 10}]"));
}

long Get(string name, long fallback)
{
    int i = argv.IndexOf(name);
    return i >= 0 && i + 1 < argv.Count ? long.Parse(argv[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static Alert[] MakeAlerts(int n, int seed)
{
    var random = new Random(seed);
    string[] classes = ["DoS Hulk", "DoS GoldenEye", "DDoS", "PortScan", "SSH-Patator", "Bot", "Web Attack - XSS", "Infiltration"];
    var result = new Alert[n];
    for (int i = 0; i < n; i++)
    {
        // A few heavy sources and a long tail: min of two uniforms skews towards small indices.
        int src = Math.Min(random.Next(65536), random.Next(65536)) / (1 + random.Next(64));
        string cls = classes[random.Next(classes.Length)];
        result[i] = new Alert
        {
            Timestamp = DateTimeOffset.UtcNow,
            FlowId = i,
            Identity = new FlowIdentity(IpAddressValue.FromIPv4(0x0A000000u | (uint)src), 40000 + (i % 20000), IpAddressValue.FromIPv4(0xC0A80A32u), 80, 6, DateTime.UnixEpoch),
            Signature = cls,
            Category = LabelTaxonomy.Resolve(cls).Family,
            Severity = 1 + (i % 3),
            Score = 0.9,
            Explanation = [new FeatureContribution("Flow Duration", 1.5f, 0.7), new FeatureContribution("Init_Win_bytes_forward", 29200, 0.4), new FeatureContribution("Fwd Packet Length Max", 447, -0.1)],
            FirstSeen = DateTime.UnixEpoch,
            LastSeen = DateTime.UnixEpoch,
            Stream = "tcp://127.0.0.1:5140#1",
            Line = i,
        };
    }

    return result;
}
