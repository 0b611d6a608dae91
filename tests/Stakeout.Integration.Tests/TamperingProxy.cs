using System.Net;
using System.Text;
using Stakeout.Ledger.Storage;
using Stakeout.TestSupport;

namespace Stakeout.Integration.Tests;

/// <summary>
/// A hostile node in the middle: a real HTTP proxy on loopback in front of a real IPFS node that forwards every RPC
/// call and, when told, flips a byte of each block it returns or answers block/put with another CID.
/// </summary>
internal sealed class TamperingProxy : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly HttpListener _listener = new();
    private readonly Uri _target;
    private readonly Task _loop;

    public TamperingProxy(Uri target)
    {
        _target = target;
        int port = LoopbackPort.Free();
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

        using var response = await Http.SendAsync(request);
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
}
