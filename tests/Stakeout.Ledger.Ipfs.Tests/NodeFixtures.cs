using System.Collections.Concurrent;
using Stakeout.Integration.Tests;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs.Tests;

/// <summary>One real js-ipfs node shared by a test class (starting one takes seconds).</summary>
public sealed class OneNodeFixture : IAsyncLifetime
{
    internal IpfsNodes? Nodes { get; private set; }

    internal IpfsNode Node => Nodes![0];

    public async Task InitializeAsync()
    {
        if (IpfsNodes.Unavailable is null)
        {
            Nodes = await IpfsNodes.StartAsync(1, connect: false, CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        if (Nodes is not null)
        {
            await Nodes.DisposeAsync();
        }
    }
}

internal static class TestClients
{
    public static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>A client with short time-outs and few retries, so a test of a dead node ends in seconds.</summary>
    public static KuboClient For(Uri api, int retries = 2) => new(api, Http, new KuboClientOptions
    {
        AttemptTimeout = TimeSpan.FromSeconds(20),
        FetchTimeout = TimeSpan.FromSeconds(3),
        MaxRetries = retries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        RetryMaxDelay = TimeSpan.FromMilliseconds(200),
    });

    public static void SkipWithoutNodes() => Skip.If(IpfsNodes.Unavailable is not null, IpfsNodes.Unavailable);
}

/// <summary>The local block store of the replication tests: blocks in memory, checked against their CIDs.</summary>
internal sealed class MemoryBlockStore : IBlockStore
{
    private readonly ConcurrentDictionary<Cid, byte[]> _blocks = new();

    public string Name => "memory";

    public int Count => _blocks.Count;

    public ValueTask<Cid> PutAsync(ReadOnlyMemory<byte> block, ulong codec, CancellationToken cancellationToken)
    {
        var cid = Cid.Of(block.Span, codec);
        _blocks[cid] = block.ToArray();
        return ValueTask.FromResult(cid);
    }

    public ValueTask<byte[]?> GetAsync(Cid cid, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_blocks.TryGetValue(cid, out byte[]? b) ? b : null);
}

/// <summary>The local head pointer of the replication tests.</summary>
internal sealed class MemoryHeadPointer : IHeadPointer
{
    public Cid? Head { get; private set; }

    public ValueTask PublishAsync(Cid checkpoint, CancellationToken cancellationToken)
    {
        Head = checkpoint;
        return ValueTask.CompletedTask;
    }

    public ValueTask<Cid?> ResolveAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Head);
}
