using System.Text;
using Stakeout.Integration.Tests;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs.Tests;

/// <summary>Replication through the durable queue to a real node that goes down and comes back.</summary>
public sealed class IpfsReplicatorTests : IDisposable
{
    private readonly string _queues = Path.Combine(Path.GetTempPath(), "stakeout-queues-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_queues))
        {
            Directory.Delete(_queues, recursive: true);
        }
    }

    private IpfsReplicatorOptions Options => new()
    {
        QueueDirectory = _queues,
        IpnsKeyName = "test-ledger",
        RetryBaseDelay = TimeSpan.FromMilliseconds(100),
        RetryMaxDelay = TimeSpan.FromSeconds(1),
    };

    private static async Task<List<Cid>> AppendAsync(IBlockStore blocks, IHeadPointer head, string tag, int count)
    {
        var cids = new List<Cid>();
        for (int i = 0; i < count; i++)
        {
            cids.Add(await blocks.PutAsync(Encoding.UTF8.GetBytes($"{{\"record\":{i},\"tag\":\"{tag}\"}}"), Cid.RawCodec, CancellationToken.None));
        }

        var checkpoint = await blocks.PutAsync(Encoding.UTF8.GetBytes($"checkpoint {tag} size {count}"), Cid.RawCodec, CancellationToken.None);
        await head.PublishAsync(checkpoint, CancellationToken.None);
        cids.Add(checkpoint);
        return cids;
    }

    [SkippableFact]
    public async Task Replicate_NodeDownThenBack_QueuesEverythingThenCatchesUp()
    {
        TestClients.SkipWithoutNodes();
        await using var nodes = await IpfsNodes.StartAsync(1, connect: false, CancellationToken.None);
        var node = nodes[0];
        var client = TestClients.For(node.Api, retries: 1);
        var local = new MemoryBlockStore();
        var localHead = new MemoryHeadPointer();
        await using var replicator = new IpfsReplicator(local, [client], Options);
        var blocks = replicator.WrapBlocks();
        var head = replicator.WrapHead(localHead);
        replicator.Start();

        var before = await AppendAsync(blocks, head, "before", 5);
        var drained = await replicator.DrainAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        Assert.Equal(0, drained[0].Pending);

        await node.StopAsync();
        var during = await AppendAsync(blocks, head, "during", 5);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (replicator.Status[0].LastError is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var down = replicator.Status[0];
        Assert.NotNull(down.LastError);
        Assert.Contains(node.Api.Authority, down.LastError, StringComparison.Ordinal);
        Assert.Equal(during.Count + 1, down.Pending); // five records and a checkpoint block, then the head
        Assert.Equal(before.Count + during.Count, local.Count);
        Assert.Equal(during[^1], localHead.Head);

        await node.StartAsync(CancellationToken.None);
        var caughtUp = await replicator.DrainAsync(TimeSpan.FromSeconds(120), CancellationToken.None);

        Assert.Equal(0, caughtUp[0].Pending);
        Assert.Null(caughtUp[0].LastError);
        foreach (var cid in before.Concat(during))
        {
            Assert.Equal(await local.GetAsync(cid, CancellationToken.None), await client.BlockGetAsync(cid, CancellationToken.None));
        }

        var resolved = await IpnsHeadPointer.ForName(client, caughtUp[0].IpnsName!).ResolveAsync(CancellationToken.None);
        Assert.Equal(during[^1], resolved);
    }

    [SkippableFact]
    public async Task PushAll_AfterARestartWithPendingSteps_PushesWhatThePreviousRunQueued()
    {
        TestClients.SkipWithoutNodes();
        await using var nodes = await IpfsNodes.StartAsync(1, connect: false, CancellationToken.None);
        var node = nodes[0];
        await node.StopAsync();
        var client = TestClients.For(node.Api, retries: 0);
        var local = new MemoryBlockStore();
        var localHead = new MemoryHeadPointer();
        List<Cid> queued;
        await using (var first = new IpfsReplicator(local, [client], Options))
        {
            queued = await AppendAsync(first.WrapBlocks(), first.WrapHead(localHead), "offline", 4);
            var status = await first.PushAllAsync(CancellationToken.None);
            Assert.Equal(queued.Count + 1, status[0].Pending);
            Assert.NotNull(status[0].LastError);
        }

        await node.StartAsync(CancellationToken.None);
        await using var second = new IpfsReplicator(local, [client], Options);
        Assert.Equal(queued.Count + 1, second.Status[0].Pending);

        var after = await second.PushAllAsync(CancellationToken.None);

        Assert.Equal(0, after[0].Pending);
        Assert.Equal(queued.Count + 1, after[0].Pushed);
        foreach (var cid in queued)
        {
            Assert.NotNull(await client.BlockGetAsync(cid, CancellationToken.None));
        }

        Assert.Equal(queued[^1], await IpnsHeadPointer.ForName(client, after[0].IpnsName!).ResolveAsync(CancellationToken.None));
    }

    [SkippableFact]
    public async Task PushAll_NodeAnswersWithAnotherCid_KeepsTheBlockQueuedAndReportsIt()
    {
        TestClients.SkipWithoutNodes();
        await using var nodes = await IpfsNodes.StartAsync(1, connect: false, CancellationToken.None);
        using var proxy = new TamperingProxy(nodes[0].Api) { AnswerWrongCid = true };
        var local = new MemoryBlockStore();
        await using var replicator = new IpfsReplicator(local, [TestClients.For(proxy.Address, retries: 0)], Options);
        var cid = await replicator.WrapBlocks().PutAsync("a record"u8.ToArray(), Cid.RawCodec, CancellationToken.None);

        var status = await replicator.PushAllAsync(CancellationToken.None);

        Assert.Equal(1, status[0].Pending);
        Assert.Contains(cid.ToString(), status[0].LastError, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_SameNodeTwice_Throws()
    {
        var a = TestClients.For(new Uri("http://127.0.0.1:5001"));
        var b = TestClients.For(new Uri("http://127.0.0.1:5001/"));

        var error = Assert.Throws<ArgumentException>(() => new IpfsReplicator(new MemoryBlockStore(), [a, b], Options));

        Assert.Contains("127.0.0.1:5001", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5001", "127.0.0.1_5001")]
    [InlineData("https://ipfs.internal:443/rpc", "s-ipfs.internal_443_rpc")]
    public void Slug_NodeAddress_IsAPlainDirectoryName(string node, string expected) => Assert.Equal(expected, IpfsReplicator.Slug(node));
}
