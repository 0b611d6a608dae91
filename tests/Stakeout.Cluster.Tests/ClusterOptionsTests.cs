namespace Stakeout.Cluster.Tests;

public sealed class ClusterOptionsTests
{
    [Fact]
    public void ParseServers_SeveralWithAndWithoutScheme_AllKept()
    {
        var servers = ClusterOptions.ParseServers("nats://127.0.0.1:4222, 127.0.0.1:4223");

        Assert.Equal(["nats://127.0.0.1:4222/", "nats://127.0.0.1:4223/"], servers.Select(s => s.ToString()));
        Assert.Equal("nats://127.0.0.1:4222,nats://127.0.0.1:4223", new ClusterOptions { Servers = servers }.ServerList);
    }

    [Theory]
    [InlineData("http://127.0.0.1:4222")]
    [InlineData("nats://127.0.0.1")]
    [InlineData(",")]
    public void ParseServers_NotANatsUrl_ErrorNamesTheOption(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => ClusterOptions.ParseServers(text));

        Assert.Contains("--nats", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DedupWindowLongerThanMaxAge_ErrorNamesTheOption()
    {
        var options = new ClusterOptions { AlertLimits = new StreamLimits { MaxAge = TimeSpan.FromMinutes(1), DuplicateWindow = TimeSpan.FromMinutes(5) } };

        var ex = Assert.Throws<ArgumentException>(() => options.Validate());

        Assert.Contains("--dedup-window", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BatchTooLargeForOneMessage_Refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => (new ClusterOptions { BatchSize = 10_000 }).Validate());

        Assert.Contains("--batch-size", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dmz-1", true)]
    [InlineData("a.b", false)]
    [InlineData("", false)]
    [InlineData("x*", false)]
    public void IsToken_SubjectTokens_OnlySafeCharacters(string id, bool ok) => Assert.Equal(ok, ClusterOptions.IsToken(id));
}
