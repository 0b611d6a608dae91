using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs.Tests;

public sealed class MultibaseTests
{
    [Fact]
    public void TryParseCid_Base58btcAsJsIpfsPrintsIt_EqualsTheBase32Cid()
    {
        // js-ipfs 0.66 answered pin/add of the raw block "hello stakeout" with this base58btc text.
        var cid = Cid.Of("hello stakeout"u8);

        Assert.True(Multibase.TryParseCid("zb2rhemMstv3chdC4g7mJtXCajG6JeBEAYt8P75KWAvk3iWrk", out var parsed));

        Assert.Equal("bafkreidyvxn4m3ztlnwtg7f2qkuc7rcx53op72eif5umuquk23xnb3zpqe", cid.ToString());
        Assert.Equal(cid, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("z0OIl")]
    [InlineData("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")]
    [InlineData("zb2rhemMstv3chdC4g7mJtXCajG6JeBEAYt8P75KWAvk3iWr")]
    public void TryParseCid_NotACidV1Sha256_ReturnsFalse(string text) => Assert.False(Multibase.TryParseCid(text, out _));
}
