using System.Net;
using System.Net.Sockets;
using System.Text;
using Stakeout.TestSupport;

namespace Stakeout.Detection.Tests;

public sealed class LoopbackHttpServerTests
{
    private static HttpReply Answer(string path) => path switch
    {
        "/metrics" => new HttpReply(200, "text/plain; version=0.0.4; charset=utf-8", "up 1\n"),
        "/boom" => throw new InvalidOperationException("the handler broke"),
        _ => HttpReply.Text(404, "not found\n"),
    };

    [Fact]
    public async Task Get_KnownAndUnknownPaths_AnswersWithStatusTypeLengthAndBody()
    {
        await using var server = Started(out int port);
        using var http = new HttpClient();

        using var ok = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics?x=1"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("text/plain", ok.Content.Headers.ContentType?.MediaType);
        Assert.Equal(5, ok.Content.Headers.ContentLength);
        Assert.Equal("up 1\n", await ok.Content.ReadAsStringAsync());

        using var missing = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/nothing"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task RawRequests_HeadPostGarbageAbsoluteForm_EachGetsItsOwnStatus()
    {
        await using var server = Started(out int port);

        string head = await Raw(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head, StringComparison.Ordinal);
        Assert.Contains("Content-Length: 5\r\n", head, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", head, StringComparison.Ordinal);      // no body after a HEAD

        string post = await Raw(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 405 Method Not Allowed\r\n", post, StringComparison.Ordinal);
        Assert.Contains("Allow: GET, HEAD\r\n", post, StringComparison.Ordinal);

        Assert.StartsWith("HTTP/1.1 400 ", await Raw(port, "hello there\r\n\r\n"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 400 ", await Raw(port, "GET metrics HTTP/1.1\r\n\r\n"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 OK", await Raw(port, "GET http://127.0.0.1/metrics HTTP/1.0\r\n\r\n"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 OK", await Raw(port, "GET /metrics HTTP/1.0\n\n"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 OK", await Raw(port, "\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n"), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 400 ", await Raw(port, "\r\n \r\n\r\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryReply_CarriesADateHeader()
    {
        await using var server = Started(out int port);
        using var http = new HttpClient();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        using var ok = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        using var missing = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/nothing"));

        foreach (var reply in new[] { ok, missing })
        {
            Assert.NotNull(reply.Headers.Date);
            Assert.InRange(reply.Headers.Date!.Value, before, DateTimeOffset.UtcNow.AddSeconds(1));
        }
    }

    [Fact]
    public async Task OversizedHead_Gets431()
    {
        await using var server = Started(out int port);
        string reply = await Raw(port, "GET /metrics HTTP/1.1\r\nX-Pad: " + new string('a', LoopbackHttpServer.MaxHeadBytes) + "\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 431 ", reply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SilentClients_TimeOutWith408_AndDoNotHoldUpOthers()
    {
        await using var server = Started(out int port, TimeSpan.FromMilliseconds(300));
        var silent = new List<Socket>();
        try
        {
            // More silent connections than the server serves at once: the ones waiting in the backlog are served
            // as the timeouts free their slots.
            for (int i = 0; i < LoopbackHttpServer.MaxConnections + 4; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                silent.Add(s);
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal("up 1\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics")));

            var first = new byte[256];
            int n = await silent[0].ReceiveAsync(first, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.StartsWith("HTTP/1.1 408 Request Timeout\r\n", Encoding.ASCII.GetString(first, 0, n), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var s in silent)
            {
                s.Dispose();
            }
        }
    }

    [Fact]
    public async Task HandlerThrows_Gets500NamingIt_AndServingGoesOn()
    {
        await using var server = Started(out int port);
        using var http = new HttpClient();

        using var broken = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/boom"));
        Assert.Equal(HttpStatusCode.InternalServerError, broken.StatusCode);
        Assert.Contains("the handler broke", await broken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("up 1\n", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics")));
    }

    [Fact]
    public async Task PortInUse_FailsAtStartNamingThePort()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var server = new LoopbackHttpServer(IPAddress.Loopback, port, Answer);

        var ex = Assert.Throws<IOException>(server.Start);
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_WithAClientMidRequest_ReturnsAndFreesThePort()
    {
        var server = Started(out int port, TimeSpan.FromSeconds(30));
        using var idle = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await idle.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await idle.SendAsync("GET /metr"u8.ToArray(), SocketFlags.None);

        await server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await server.DisposeAsync();       // a second dispose is a no-op

        await using var again = new LoopbackHttpServer(IPAddress.Loopback, port, Answer);
        again.Start();
    }

    [Fact]
    public async Task ClientThatNeverReadsABigReply_DoesNotHoldShutdown()
    {
        // A reply far larger than the socket buffers, to a client that asks and then never reads: the write blocks
        // until the write timeout or shutdown, and shutdown must not wait for the client.
        string big = new('x', 32 << 20);
        int port = LoopbackPort.Free();
        var server = new LoopbackHttpServer(IPAddress.Loopback, port, _ => HttpReply.Text(200, big));
        server.Start();
        using var stuck = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stuck.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await stuck.SendAsync("GET /metrics HTTP/1.1\r\n\r\n"u8.ToArray(), SocketFlags.None);
        await Task.Delay(300);

        await server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Start_AfterDispose_IsRefused()
    {
        var server = Started(out _);
        await server.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(server.Start);
    }

    private static LoopbackHttpServer Started(out int port, TimeSpan? headTimeout = null)
    {
        port = LoopbackPort.Free();
        var server = new LoopbackHttpServer(IPAddress.Loopback, port, Answer, headTimeout);
        server.Start();
        return server;
    }

    /// <summary>Sends <paramref name="request"/> as is and reads the whole reply (the server closes after it).</summary>
    private static async Task<string> Raw(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reply = new MemoryStream();
        await stream.CopyToAsync(reply).WaitAsync(TimeSpan.FromSeconds(30));
        return Encoding.ASCII.GetString(reply.ToArray());
    }
}
