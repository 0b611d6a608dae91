// Cluster throughput on this machine, every figure from the same run (docs/benchmarks.md, "Scale-out over NATS"):
//   broker ceiling : pre-encoded flow batches published to JetStream and pulled back + acked, no Stakeout code between
//   sensor         : ClusterSensor publishing the same flows (encode + publish + wait for acks)
//   workers 1 / 2  : `stakeout worker` processes draining a filled stream (score + publish alerts/results + ack),
//                    rate taken between the first and last result's scored_at (process start-up left out)
//   end to end     : sensor and 2 workers at once: flows / (last result - sensor start)
// plus the CPU seconds each process spent, which names the bottleneck.
// Usage: dotnet Stakeout.ClusterBench.dll [--flows N] [--model PATH] [DATA.csv ...]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Stakeout.Cluster;
using Stakeout.Core;
using Stakeout.Detection;

var inv = CultureInfo.InvariantCulture;
long target = 200_000;
string root = FindRoot();
string model = Path.Combine(root, "tests", "Stakeout.Models.Tests", "TestData", "format-v1", "families-lightgbm.stakeout");
var files = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--flows": target = long.Parse(args[++i], inv); break;
        case "--model": model = args[++i]; break;
        default: files.Add(args[i]); break;
    }
}

if (files.Count == 0)
{
    string data = Path.Combine(root, "..", "shared", "data", "cicids2017");
    files.AddRange(new[] { "mlcve_friday-ddos_head9998.csv", "trafficlabelling_ddos_1000.csv", "trafficlabelling_webattack-xss_652.csv" }.Select(f => Path.Combine(data, f)));
}

string natsServer = new[] { "/usr/sbin/nats-server", "/usr/bin/nats-server" }.First(File.Exists);
string cli = Path.Combine(AppContext.BaseDirectory, "stakeout.dll");
Console.WriteLine($"load before: {File.ReadAllText("/proc/loadavg").Trim()}");

// The flows, read once by the detection runtime's own reader, then repeated until there are `target` of them.
var read = new List<(FlowBatch Flows, string Stream)>();
await new FlowCollector(new DetectionOptions()).RunAsync([new FlowFilesSource(files)], (b, s, _) => { read.Add((b, s)); return default; });
long perPass = read.Sum(r => (long)r.Flows.Count);
int passes = (int)Math.Ceiling(target / (double)perPass);
long total = perPass * passes;
Console.WriteLine($"data: {perPass:N0} flows from {files.Count} file(s), x{passes} = {total:N0} flows; model {Path.GetFileName(model)}");

var rows = new List<string>();
const int batchSize = 256;

// 1. Broker ceiling: the same flows as 256-flow batch messages, published with dedup ids and a window of 32 acks in
//    flight, then pulled back and acked by one consumer, with no decoding or scoring.
await using (var server = NatsServer.Start(natsServer))
{
    var messages = new List<byte[]>();
    for (int p = 0; p < passes; p++)
    {
        foreach (var (flows, stream) in read)
        {
            for (int s = 0; s < flows.Count; s += batchSize)
            {
                messages.Add(FlowBatchCodec.Encode("bench", $"bench.{p}.{messages.Count}", stream, flows, s, Math.Min(batchSize, flows.Count - s)));
            }
        }
    }

    await using var nats = new NatsConnection(NatsOpts.Default with { Url = server.Url });
    var js = new NatsJSContext(nats);
    await js.CreateStreamAsync(new StreamConfig("BENCH", ["bench.>"]) { Storage = StreamConfigStorage.File, DuplicateWindow = TimeSpan.FromMinutes(10) });
    var cpu0 = server.Cpu;
    var clock = Stopwatch.StartNew();
    var window = new Queue<Task>();
    for (int i = 0; i < messages.Count; i++)
    {
        if (window.Count >= 32)
        {
            await window.Dequeue();
        }

        window.Enqueue(Publish(js, messages[i], i));
    }

    while (window.Count > 0)
    {
        await window.Dequeue();
    }

    double pub = clock.Elapsed.TotalSeconds;
    var pubCpu = server.Cpu - cpu0;
    var consumer = await js.CreateOrUpdateConsumerAsync("BENCH", new ConsumerConfig("bench") { AckPolicy = ConsumerConfigAckPolicy.Explicit });
    cpu0 = server.Cpu;
    clock.Restart();
    long got = 0;
    while (got < messages.Count)
    {
        await foreach (var m in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 64, Expires = TimeSpan.FromSeconds(2) }))
        {
            await m.AckAsync();
            got++;
        }
    }

    double sub = clock.Elapsed.TotalSeconds;
    long bytes = messages.Sum(m => (long)m.Length);
    rows.Add(Row("broker ceiling: publish (acked, dedup ids, 32 in flight)", total, pub, $"{bytes / pub / 1e6:0.#} MB/s; nats-server {pubCpu.TotalSeconds:0.0} CPU s"));
    rows.Add(Row("broker ceiling: pull + ack, 1 consumer (no decode)", total, sub, $"nats-server {(server.Cpu - cpu0).TotalSeconds:0.0} CPU s"));
}

// 2. Sensor alone, then workers draining the filled stream: 1 and 2 worker processes, each on a fresh server.
foreach (int workers in new[] { 1, 2 })
{
    await using var server = NatsServer.Start(natsServer);
    var options = new ClusterOptions { Servers = ClusterOptions.ParseServers(server.Url), BatchSize = batchSize, FlowLimits = new ClusterOptions().FlowLimits with { MaxBytes = -1 } };
    var sensorClock = Stopwatch.StartNew();
    var sensorCpu = Process.GetCurrentProcess().TotalProcessorTime;
    var report = await new ClusterSensor(options, "bench").RunAsync([new MemorySource(read, passes)]);
    double sensorSeconds = sensorClock.Elapsed.TotalSeconds;
    if (workers == 1)
    {
        rows.Add(Row("sensor: encode + publish + acks", report.FlowsPublished, sensorSeconds, $"bench process {(Process.GetCurrentProcess().TotalProcessorTime - sensorCpu).TotalSeconds:0.0} CPU s"));
    }

    var (seconds, cpu, brokerCpu) = await RunWorkersAsync(server, workers, report.FlowsPublished, sensorStart: null);
    rows.Add(Row($"workers: {workers} draining the stream (score + alerts + results + ack)", report.FlowsPublished, seconds, $"workers {cpu.TotalSeconds:0.0} CPU s, nats-server {brokerCpu.TotalSeconds:0.0} CPU s"));
}

// 3. End to end: 2 workers waiting, then the sensor; from the sensor's start to the last result.
await using (var server = NatsServer.Start(natsServer))
{
    var options = new ClusterOptions { Servers = ClusterOptions.ParseServers(server.Url), BatchSize = batchSize, FlowLimits = new ClusterOptions().FlowLimits with { MaxBytes = -1 } };
    var start = DateTimeOffset.UtcNow;
    var run = RunWorkersAsync(server, 2, total, sensorStart: () => new ClusterSensor(options, "bench").RunAsync([new MemorySource(read, passes)]));
    var (seconds, cpu, brokerCpu) = await run;
    rows.Add(Row("end to end: sensor + 2 workers at once", total, seconds, $"workers {cpu.TotalSeconds:0.0} CPU s, nats-server {brokerCpu.TotalSeconds:0.0} CPU s"));
}

Console.WriteLine();
Console.WriteLine("| stage | flows | seconds | flows/s | notes |");
Console.WriteLine("|---|---:|---:|---:|---|");
rows.ForEach(Console.WriteLine);
Console.WriteLine($"\nload after: {File.ReadAllText("/proc/loadavg").Trim()}");
return 0;

string Row(string what, long flows, double seconds, string notes) =>
    string.Create(inv, $"| {what} | {flows:N0} | {seconds:0.00} | {flows / seconds:N0} | {notes} |");

static async Task Publish(NatsJSContext js, byte[] data, int i)
{
    var ack = await js.PublishAsync("bench.flows", data, opts: new NatsJSPubOpts { MsgId = "m" + i.ToString(CultureInfo.InvariantCulture) });
    ack.EnsureSuccess();
}

async Task<(double Seconds, TimeSpan WorkerCpu, TimeSpan BrokerCpu)> RunWorkersAsync(NatsServer server, int count, long flows, Func<Task<SensorReport>>? sensorStart)
{
    var procs = new List<Process>();
    var brokerCpu0 = server.Cpu;
    for (int w = 0; w < count; w++)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { cli, "worker", "-m", model, "--nats", server.Url, "--worker-id", "w" + w.ToString(inv), "--fetch", "4" })
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        procs.Add(p);
    }

    await using var inspector = await ClusterInspector.ConnectAsync(server.Url);
    DateTimeOffset? sensorBegan = null;
    Task<SensorReport>? sensor = null;
    if (sensorStart is not null)
    {
        // Wait until every worker has its consumer (the first creates it) and has had time to start pulling.
        var wait = Stopwatch.StartNew();
        while (await inspector.MessageCountAsync("STAKEOUT_RESULTS") < 0 && wait.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(200);
        }

        await Task.Delay(3000);
        sensorBegan = DateTimeOffset.UtcNow;
        sensor = sensorStart();
    }

    var clock = Stopwatch.StartNew();
    IReadOnlyList<BatchResult> results = [];
    while (clock.Elapsed < TimeSpan.FromMinutes(15))
    {
        long n = await inspector.MessageCountAsync("STAKEOUT_RESULTS");
        if (n >= (long)Math.Ceiling(flows / (double)batchSize) - 0)
        {
            results = [.. (await inspector.ReadAllAsync("STAKEOUT_RESULTS")).Select(m => BatchResult.Parse(m.Data))];
            if (results.Sum(r => (long)r.Flows) >= flows)
            {
                break;
            }
        }

        await Task.Delay(250);
    }

    if (sensor is not null)
    {
        await sensor;
    }

    var cpu = procs.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.TotalProcessorTime);
    var brokerCpu = server.Cpu - brokerCpu0;
    foreach (var p in procs)
    {
        p.Kill();
        p.WaitForExit();
    }

    if (results.Sum(r => (long)r.Flows) < flows)
    {
        throw new InvalidOperationException($"the workers scored {results.Sum(r => (long)r.Flows)} of {flows} flows in 15 minutes.");
    }

    var first = results.Min(r => r.ScoredAt);
    var last = results.Max(r => r.ScoredAt);
    double seconds = ((sensorBegan ?? first) - last).Duration().TotalSeconds;
    return (seconds, cpu, brokerCpu);
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Stakeout.slnx")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? throw new InvalidOperationException("Stakeout.slnx not found.");
}

/// <summary>The flows read once, handed to the sensor `passes` times (as parsed batches, like a file source).</summary>
internal sealed class MemorySource(List<(FlowBatch Flows, string Stream)> batches, int passes) : IFlowSource
{
    public string Name => "memory";

    public async Task RunAsync(FlowSourceContext context)
    {
        for (int p = 0; p < passes; p++)
        {
            foreach (var (flows, stream) in batches)
            {
                var copy = new FlowBatch(flows.Count, flows.Identities is not null) { Count = flows.Count };
                Array.Copy(flows.Features, copy.Features, flows.Count * FeatureSchema.Count);
                Array.Copy(flows.Lines, copy.Lines, flows.Count);
                if (flows.Identities is not null)
                {
                    Array.Copy(flows.Identities, copy.Identities!, flows.Count);
                    Array.Copy(flows.FlowIds!, copy.FlowIds!, flows.Count);
                }

                await context.WriteFlowsAsync(copy, stream + "#" + p.ToString(CultureInfo.InvariantCulture));
            }
        }
    }
}

/// <summary>One nats-server with JetStream on a free loopback port, its store in a temp directory; killed when disposed.</summary>
internal sealed class NatsServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private NatsServer(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Url = "nats://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
    }

    public string Url { get; }

    public TimeSpan Cpu
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static NatsServer Start(string binary)
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        string dir = Directory.CreateTempSubdirectory("stakeout-bench-nats-").FullName;
        var psi = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { "-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-js", "-sd", dir })
        {
            psi.ArgumentList.Add(a);
        }

        var process = Process.Start(psi)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        for (int i = 0; i < 200; i++)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        Thread.Sleep(500);
        return new NatsServer(process, dir, port);
    }

    public ValueTask DisposeAsync()
    {
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
        return default;
    }
}
