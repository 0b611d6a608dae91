using System.Net;

namespace Stakeout.Dashboard.Tests;

public sealed class DashboardOptionsTests
{
    [Theory]
    [InlineData("0.0.0.0:8080")]
    [InlineData("[::]:8080")]
    [InlineData("192.168.1.10:8080")]
    public void Validate_NonLoopbackWithoutToken_RefusesAndSaysWhatToGive(string listen)
    {
        var options = new DashboardOptions { Listen = DashboardOptions.ParseEndpoint(listen, "--dashboard") };

        var ex = Assert.Throws<ArgumentException>(() => options.Validate());

        Assert.Contains("not a loopback address", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--dashboard-token", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NonLoopbackWithToken_Accepted() =>
        new DashboardOptions { Listen = new IPEndPoint(IPAddress.Any, 8080), Token = DashboardOptions.GenerateToken() }.Validate();

    [Theory]
    [InlineData("short")]
    [InlineData("has a space in it, long enough")]
    public void Validate_WeakToken_Refused(string token) =>
        Assert.Throws<ArgumentException>(() => new DashboardOptions { Listen = new IPEndPoint(IPAddress.Loopback, 8080), Token = token }.Validate());

    [Theory]
    [InlineData("127.0.0.1:8080", "127.0.0.1", 8080)]
    [InlineData("localhost:9000", "127.0.0.1", 9000)]
    [InlineData("[::1]:8080", "::1", 8080)]
    [InlineData("http://127.0.0.1:8080/", "127.0.0.1", 8080)]
    public void ParseEndpoint_Forms_Parsed(string text, string address, int port)
    {
        var e = DashboardOptions.ParseEndpoint(text, "--dashboard");
        Assert.Equal(IPAddress.Parse(address), e.Address);
        Assert.Equal(port, e.Port);
    }

    [Theory]
    [InlineData("8080")]
    [InlineData("127.0.0.1")]
    [InlineData("example.org:80")]
    public void ParseEndpoint_Bad_NamesTheOption(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => DashboardOptions.ParseEndpoint(text, "--listen"));
        Assert.Contains("--listen takes ADDRESS:PORT", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GenerateToken_TwoCalls_DifferAndAreLongEnough()
    {
        string a = DashboardOptions.GenerateToken(), b = DashboardOptions.GenerateToken();
        Assert.NotEqual(a, b);
        Assert.True(a.Length >= DashboardOptions.MinTokenLength);
    }
}
