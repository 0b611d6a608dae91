using System.Collections.Concurrent;
using System.Net;
using System.Text;
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

/// <summary>
/// A hostile node in the middle: a real HTTP proxy on loopback in front of a real IPFS node that forwards every RPC
/// call and, when told, flips a byte of each block it returns or answers block/put with another CID.
/// </summary>
internal sealed class TamperingProxy : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Uri _target;
    private readonly Task _loop;

    public TamperingProxy(Uri target)
    {
        _target = target;
        int port = FreePort();
        Address = new Uri($"http://127.0.0.1:{port}");
        _listener.Prefixes.Add(Address + "");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri Address { get; }

    public bool FlipBlockBytes { get; set; }

    public bool AnswerWrongCid { get; set; }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (HttpListenerException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            await ForwardAsync(context);
        }
    }

    private async Task ForwardAsync(HttpListenerContext context)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_target, context.Request.Url!.PathAndQuery));
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        request.Content = new ByteArrayContent(body.ToArray());
        if (context.Request.ContentType is { } type)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }

        using var response = await TestClients.Http.SendAsync(request);
        byte[] bytes = await response.Content.ReadAsByteArrayAsync();
        string path = context.Request.Url.AbsolutePath;
        if (FlipBlockBytes && path.EndsWith("/block/get", StringComparison.Ordinal) && response.IsSuccessStatusCode && bytes.Length > 0)
        {
            bytes[bytes.Length / 2] ^= 0x01;
        }

        if (AnswerWrongCid && path.EndsWith("/block/put", StringComparison.Ordinal) && response.IsSuccessStatusCode)
        {
            string other = Cid.Of("not the block you sent"u8).ToString();
            bytes = Encoding.UTF8.GetBytes($"{{\"Key\":\"{other}\",\"Size\":22}}");
        }

        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
