// Blocks per second replicated to one real IPFS node, against the local-only baseline, in the same run.
//   dotnet run -c Release --project bench/Stakeout.Ledger.Ipfs.Bench -- [BLOCKS] [BLOCK_BYTES] [BATCH]
// 1. local:      DirectoryBlockStore.PutManyAsync (what the ledger does without replication)
// 2. local+queue: the same through IpfsReplicator.WrapBlocks (local store + one fsynced journal append per node)
// 3. to IPFS:    from the first put until the node acknowledged every block (background push, block/put pinned)
// 4. direct:     KuboBlockStore.PutAsync one block after the other (no queue), the client's own rate
using System.Diagnostics;
using System.Globalization;
using Stakeout.Integration.Tests;
using Stakeout.Ledger.Ipfs;
using Stakeout.Ledger.Storage;

int blocks = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
int size = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1024;
int batch = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 32;
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

async Task<double> PutAllAsync(IBlockStore store, byte[][] data)
{
    var watch = Stopwatch.StartNew();
    for (int i = 0; i < data.Length; i += batch)
    {
        var chunk = data.Skip(i).Take(batch).Select(b => ((ReadOnlyMemory<byte>)b, Cid.RawCodec)).ToList();
        await store.PutManyAsync(chunk, CancellationToken.None);
    }

    return data.Length / watch.Elapsed.TotalSeconds;
}

try
{
    await using var nodes = await IpfsNodes.StartAsync(1, connect: false, CancellationToken.None);
    using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
    var client = new KuboClient(nodes[0].Api, http);
    await client.IdAsync(CancellationToken.None);

    double local = await PutAllAsync(new DirectoryBlockStore(Path.Combine(root, "local")), MakeBlocks("L"));

    string ledger = Path.Combine(root, "replicated");
    await using var replicator = new IpfsReplicator(new DirectoryBlockStore(ledger), [client], new IpfsReplicatorOptions { QueueDirectory = Path.Combine(ledger, "replication") });
    replicator.Start();
    var total = Stopwatch.StartNew();
    double queued = await PutAllAsync(replicator.WrapBlocks(), MakeBlocks("R"));
    var status = await replicator.DrainAsync(TimeSpan.FromMinutes(10), CancellationToken.None);
    double toIpfs = blocks / total.Elapsed.TotalSeconds;
    if (status[0].Pending != 0)
    {
        Console.Error.WriteLine("not drained: " + status[0]);
        return 1;
    }

    var direct = new KuboBlockStore(client);
    var sample = MakeBlocks("D").Take(Math.Min(blocks, 500)).ToArray();
    var watch = Stopwatch.StartNew();
    foreach (byte[] b in sample)
    {
        await direct.PutAsync(b, Cid.RawCodec, CancellationToken.None);
    }

    double directRate = sample.Length / watch.Elapsed.TotalSeconds;
    Console.WriteLine($"blocks={blocks} bytes={size} batch={batch} node={nodes[0].Api} agent=js-ipfs");
    Console.WriteLine($"local only (baseline)          {local,10:F0} blocks/s");
    Console.WriteLine($"local + durable queue          {queued,10:F0} blocks/s  ({queued / local:P0} of baseline)");
    Console.WriteLine($"replicated to IPFS, end to end {toIpfs,10:F0} blocks/s");
    Console.WriteLine($"direct block/put, sequential   {directRate,10:F0} blocks/s  ({sample.Length} blocks)");
    return 0;
}
finally
{
    Directory.Delete(root, recursive: true);
}
