// Blocks per second replicated to real IPFS nodes (one, then two), against the local-only baseline, in the same run.
//   dotnet artifacts/bin/Stakeout.Ledger.Ipfs.Bench/release/Stakeout.Ledger.Ipfs.Bench.dll [BLOCKS] [BLOCK_BYTES] [BATCH] [DRAIN_MINUTES]
// 1. local:       DirectoryBlockStore.PutManyAsync (what the ledger does without replication)
// 2. local+queue: the same through IpfsReplicator.WrapBlocks (local store + one fsynced journal append per node)
// 3. to N nodes:  from the first put until every node acknowledged every block (background push, block/put pinned)
// 4. direct:      KuboBlockStore.PutAsync one block after the other (no queue), the client's own rate; then unpinned
// Each figure is printed as soon as it is measured, with wall-clock and CPU seconds (this process and the node
// processes, read from /proc), so a shared machine's load can be read off. A node process that exits during the run
// is reported at once with its exit code and output, instead of the drain waiting out its bound in silence (which is
// how an earlier run ended without a figure).
using System.Diagnostics;
using System.Globalization;
using Stakeout.Integration.Tests;
using Stakeout.Ledger.Ipfs;
using Stakeout.Ledger.Storage;

int blocks = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
int size = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1024;
int batch = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 32;
var drainBound = TimeSpan.FromMinutes(args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 10);
if (IpfsNodes.Unavailable is { } problem)
{
    Console.Error.WriteLine(problem);
    return 2;
}

string root = Directory.CreateTempSubdirectory("stakeout-ipfs-bench-").FullName;
var random = new Random(17);
byte[][] MakeBlocks(string tag) => [.. Enumerable.Range(0, blocks).Select(i =>
{
    byte[] b = new byte[size];
    random.NextBytes(b);
    System.Text.Encoding.ASCII.GetBytes($"{tag}{i:D8}").CopyTo(b, 0);
    return b;
})];

async Task PutAllAsync(IBlockStore store, byte[][] data)
{
    for (int i = 0; i < data.Length; i += batch)
    {
        var chunk = data.Skip(i).Take(batch).Select(b => ((ReadOnlyMemory<byte>)b, Cid.RawCodec)).ToList();
        await store.PutManyAsync(chunk, CancellationToken.None);
    }
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"blocks={blocks} bytes={size} batch={batch} agent=js-ipfs 0.66 (tools/ipfs); load {File.ReadAllText("/proc/loadavg").Trim()}; {Environment.ProcessorCount} cores"));
int status = 0;
try
{
    await using var nodes = await IpfsNodes.StartAsync(2, connect: false, CancellationToken.None);
    using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
    var clients = nodes.Nodes.Select(n => new KuboClient(n.Api, http)).ToArray();
    foreach (var c in clients)
    {
        await c.IdAsync(CancellationToken.None);
    }

    var meter = new Meter(nodes);
    meter.Restart();
    await PutAllAsync(new DirectoryBlockStore(Path.Combine(root, "local")), MakeBlocks("L"));
    meter.Report("local only (baseline)", blocks);

    foreach (int count in new[] { 1, 2 })
    {
        string ledger = Path.Combine(root, $"replicated-{count}");
        await using var replicator = new IpfsReplicator(new DirectoryBlockStore(ledger), clients[..count], new IpfsReplicatorOptions { QueueDirectory = Path.Combine(ledger, "replication") });
        replicator.Start();
        var data = MakeBlocks($"R{count}");
        var end = new Meter(nodes);
        end.Restart();
        meter.Restart();
        await PutAllAsync(replicator.WrapBlocks(), data);
        meter.Report($"local + durable queue for {count} node(s)", blocks);

        var deadline = DateTime.UtcNow + drainBound;
        IReadOnlyList<ReplicationStatus> state = replicator.Status;
        while (state.Any(s => s.Pending > 0))
        {
            if (nodes.Nodes.Take(count).FirstOrDefault(n => !n.IsRunning) is { } dead)
            {
                Console.WriteLine($"replicated to {count} node(s): node {dead.Label} ({dead.Api}) exited during the run; acknowledged so far: {string.Join("; ", state.Select(s => $"{s.Node} {s.Pushed}/{blocks}"))}");
                status = 1;
                break;
            }

            if (DateTime.UtcNow > deadline)
            {
                Console.WriteLine($"replicated to {count} node(s): not drained within {drainBound.TotalMinutes} min: {string.Join("; ", state.Select(s => $"{s.Node} {s.Pushed}/{blocks} pushed, last error {s.LastError ?? "none"}"))}");
                end.Report($"  partial: blocks acknowledged by the slowest node", state.Min(s => s.Pushed));
                status = 1;
                break;
            }

            state = await replicator.DrainAsync(TimeSpan.FromSeconds(1), CancellationToken.None);
        }

        if (state.All(s => s.Pending == 0))
        {
            end.Report($"replicated to {count} node(s), end to end (every node acknowledged every block)", blocks);
        }
    }

    var direct = new KuboBlockStore(clients[0]);
    var sample = MakeBlocks("D").Take(Math.Min(blocks, 500)).ToArray();
    meter.Restart();
    foreach (byte[] b in sample)
    {
        await direct.PutAsync(b, Cid.RawCodec, CancellationToken.None);
    }

    meter.Report("direct block/put to one node, sequential", sample.Length);

    // The same without pinning: what the pin (which the replicator asks for, so a node's GC keeps the ledger) costs the node.
    var unpinned = MakeBlocks("U").Take(Math.Min(blocks, 500)).ToArray();
    meter.Restart();
    foreach (byte[] b in unpinned)
    {
        await clients[0].BlockPutAsync(b, Cid.RawCodec, pin: false, CancellationToken.None);
    }

    meter.Report("direct block/put to one node, sequential, not pinned", unpinned.Length);
    foreach (var n in nodes.Nodes.Where(n => !n.IsRunning))
    {
        Console.WriteLine($"node {n.Label} is not running at the end");
        status = 1;
    }
}
finally
{
    Directory.Delete(root, recursive: true);
    Console.WriteLine($"load {File.ReadAllText("/proc/loadavg").Trim()}");
}

return status;

/// <summary>Wall time, this process's CPU time and the IPFS node processes' CPU time since the last restart.</summary>
internal sealed class Meter(IpfsNodes nodes)
{
    private readonly Stopwatch _wall = new();
    private TimeSpan _self;
    private TimeSpan _nodes;

    public void Restart()
    {
        _self = Process.GetCurrentProcess().TotalProcessorTime;
        _nodes = NodesCpu();
        _wall.Restart();
    }

    public void Report(string what, long count)
    {
        double wall = _wall.Elapsed.TotalSeconds;
        double self = (Process.GetCurrentProcess().TotalProcessorTime - _self).TotalSeconds;
        double node = (NodesCpu() - _nodes).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {count:N0} blocks in {wall:0.00} s wall = {count / wall:N0} blocks/s; CPU {self:0.00} s bench + {node:0.00} s nodes = {count / (self + node):N0} blocks per CPU second"));
    }

    // utime + stime of each node process (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s on Linux).
    private TimeSpan NodesCpu()
    {
        long ticks = 0;
        foreach (var n in nodes.Nodes)
        {
            if (n.ProcessId is int pid && File.Exists($"/proc/{pid}/stat"))
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
        }

        return TimeSpan.FromSeconds(ticks / 100.0);
    }
}
