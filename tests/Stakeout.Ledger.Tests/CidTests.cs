using System.Text;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Tests;

public sealed class CidTests
{
    [Fact]
    public void ToString_RawBlockOfHelloWorld_IsTheCidIpfsPrints()
    {
        // `ipfs block put --cid-codec raw --mhtype sha2-256` of the 11 bytes "hello world" prints this CID.
        var cid = Cid.Of(Encoding.ASCII.GetBytes("hello world"));

        Assert.Equal("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e", cid.ToString());
    }

    [Fact]
    public void Parse_OwnText_RoundTrips()
    {
        var cid = Cid.Of(Encoding.ASCII.GetBytes("{\"a\":1}"), Cid.DagJsonCodec);

        var parsed = Cid.Parse(cid.ToString());

        Assert.Equal(cid, parsed);
        Assert.Equal(Cid.DagJsonCodec, parsed.Codec);
        Assert.True(parsed.Matches(Encoding.ASCII.GetBytes("{\"a\":1}")));
        Assert.False(parsed.Matches(Encoding.ASCII.GetBytes("{\"a\":2}")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Qmabc")]
    [InlineData("bafkrei!")]
    [InlineData("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5")]
    public void TryParse_NotACid_FailsWithAReason(string text)
    {
        Assert.False(Cid.TryParse(text, out _, out string? error));
        Assert.False(string.IsNullOrEmpty(error));
    }
}
