using System.Text;
using Stakeout.Integration.Tests;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs.Tests;

/// <summary>The RPC client against a real js-ipfs node (the same API as Kubo).</summary>
public sealed class KuboClientTests(OneNodeFixture fixture) : IClassFixture<OneNodeFixture>
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [SkippableFact]
    public async Task BlockPut_RawBlock_ReturnsTheLocallyComputedCidAndGetReturnsTheBytes()
    {
        TestClients.SkipWithoutNodes();
        var client = TestClients.For(fixture.Node.Api);
        byte[] block = Bytes("threat record " + Guid.NewGuid());

        var cid = await client.BlockPutAsync(block, Cid.RawCodec, pin: true, CancellationToken.None);
        byte[]? back = await client.BlockGetAsync(cid, CancellationToken.None);

        Assert.Equal(Cid.Of(block), cid);
        Assert.Equal(block, back);
    }

    [SkippableFact]
    public async Task BlockPut_DagJsonBlock_KeepsTheDagJsonCodec()
    {
        TestClients.SkipWithoutNodes();
        var client = TestClients.For(fixture.Node.Api);
        byte[] block = Bytes("{\"size\":3,\"sensor\":\"" + Guid.NewGuid() + "\"}");

        var cid = await client.BlockPutAsync(block, Cid.DagJsonCodec, pin: false, CancellationToken.None);

        Assert.Equal(Cid.DagJsonCodec, cid.Codec);
        Assert.StartsWith("baguqee", cid.ToString(), StringComparison.Ordinal);
        Assert.Equal(block, await client.BlockGetAsync(cid, CancellationToken.None));
    }

    [SkippableFact]
    public async Task BlockGet_BlockNobodyHas_ReturnsNullAfterTheFetchTimeout()
    {
        TestClients.SkipWithoutNodes();
        var client = TestClients.For(fixture.Node.Api);

        byte[]? missing = await client.BlockGetAsync(Cid.Of(Bytes("never stored " + Guid.NewGuid())), CancellationToken.None);

        Assert.Null(missing);
    }

    [SkippableFact]
    public async Task PinAdd_StoredBlock_ListsItAmongThePins()
    {
        TestClients.SkipWithoutNodes();
        var client = TestClients.For(fixture.Node.Api);
        var cid = await client.BlockPutAsync(Bytes("pin me " + Guid.NewGuid()), Cid.RawCodec, pin: false, CancellationToken.None);

        await client.PinAddAsync(cid, CancellationToken.None);
    }

    [SkippableFact]
    public async Task NamePublish_LedgerKey_ResolvesToTheCheckpoint()
    {
        TestClients.SkipWithoutNodes();
        var client = TestClients.For(fixture.Node.Api);
        var head = IpnsHeadPointer.ForKey(client, "ledger-" + Guid.NewGuid().ToString("N")[..8], TimeSpan.FromHours(1));
        var first = await client.BlockPutAsync(Bytes("checkpoint 1 " + Guid.NewGuid()), Cid.RawCodec, pin: true, CancellationToken.None);
        var second = await client.BlockPutAsync(Bytes("checkpoint 2 " + Guid.NewGuid()), Cid.RawCodec, pin: true, CancellationToken.None);

        await head.PublishAsync(first, CancellationToken.None);
        await head.PublishAsync(second, CancellationToken.None);
        var resolved = await IpnsHeadPointer.ForName(client, head.IpnsName!).ResolveAsync(CancellationToken.None);

        Assert.Equal(second, resolved);
        Assert.Contains(await client.KeyListAsync(CancellationToken.None), k => k.Id == head.IpnsName);
    }

    [SkippableFact]
    public async Task Id_RunningNode_NamesItsPeerAndSwarmAddress()
    {
        TestClients.SkipWithoutNodes();
        var id = await TestClients.For(fixture.Node.Api).IdAsync(CancellationToken.None);

        Assert.Equal(fixture.Node.PeerId, id.PeerId);
        Assert.Contains(id.Addresses, a => a.Contains(id.PeerId, StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task BlockGet_ProxyFlipsAByte_ThrowsBlockIntegrityNamingTheCid()
    {
        TestClients.SkipWithoutNodes();
        using var proxy = new TamperingProxy(fixture.Node.Api);
        var client = TestClients.For(proxy.Address);
        var cid = await client.BlockPutAsync(Bytes("an alert that must not change " + Guid.NewGuid()), Cid.RawCodec, pin: true, CancellationToken.None);

        proxy.FlipBlockBytes = true;
        var error = await Assert.ThrowsAsync<BlockIntegrityException>(() => client.BlockGetAsync(cid, CancellationToken.None));

        Assert.Contains(cid.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(proxy.Address.Authority, error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task BlockPut_NodeAnswersAnotherCid_ThrowsBlockIntegrity()
    {
        TestClients.SkipWithoutNodes();
        using var proxy = new TamperingProxy(fixture.Node.Api) { AnswerWrongCid = true };
        var client = TestClients.For(proxy.Address);
        byte[] block = Bytes("stored under the wrong name " + Guid.NewGuid());

        var error = await Assert.ThrowsAsync<BlockIntegrityException>(() => client.BlockPutAsync(block, Cid.RawCodec, pin: true, CancellationToken.None));

        Assert.Contains(Cid.Of(block).ToString(), error.Message, StringComparison.Ordinal);
        Assert.Equal("block/put", error.Call);
    }

    [Fact]
    public async Task BlockPut_NothingListening_ThrowsKuboExceptionNamingNodeCallAndAttempts()
    {
        int port = Stakeout.TestSupport.LoopbackPort.Free();
        var client = TestClients.For(new Uri($"http://127.0.0.1:{port}"), retries: 2);

        var error = await Assert.ThrowsAsync<KuboException>(() => client.IdAsync(CancellationToken.None));

        Assert.Equal($"http://127.0.0.1:{port}", error.Node);
        Assert.Equal("id", error.Call);
        Assert.Contains("3 attempts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NotAnHttpAddress_ThrowsNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => new KuboClient(new Uri("ftp://127.0.0.1:5001"), TestClients.Http));

        Assert.Contains("ftp://127.0.0.1:5001", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_FetchTimeoutLongerThanAttempt_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new KuboClientOptions { AttemptTimeout = TimeSpan.FromSeconds(5), FetchTimeout = TimeSpan.FromSeconds(10) }.Validate());

    [Theory]
    [InlineData(20_000, "20s")]
    [InlineData(1_500, "1500ms")]
    [InlineData(86_400_000, "86400s")]
    public void GoDuration_Milliseconds_IsKuboSyntax(int ms, string expected) =>
        Assert.Equal(expected, KuboClient.GoDuration(TimeSpan.FromMilliseconds(ms)));
}
