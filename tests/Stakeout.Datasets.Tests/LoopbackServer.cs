using System.Collections.Concurrent;
using System.Net;
using Stakeout.TestSupport;

namespace Stakeout.Datasets.Tests;

/// <summary>
/// A small HTTP server on 127.0.0.1 and a free port that serves fixture files, honours Range requests, and can cut a
/// transfer short or answer with a web page, as real dataset mirrors do.
/// </summary>
internal sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, Route> _routes = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public LoopbackServer()
    {
        for (int tries = 0; ; tries++)
        {
            Port = LoopbackPort.Free();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (tries < 5)
            {
                // Another process took the port between the probe and the bind: pick another.
            }
        }

        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; private set; }

    /// <summary>Every request's path and Range header, in order.</summary>
    public ConcurrentQueue<(string Path, string? Range)> Requests { get; } = new();

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}/{path.TrimStart('/')}");

    /// <summary>Serves <paramref name="body"/>; the first <paramref name="cutTimes"/> requests stop after <paramref name="cutAfter"/> bytes.</summary>
    public void Serve(string path, byte[] body, string contentType = "application/zip", long? cutAfter = null, int cutTimes = 0) =>
        _routes[path] = new Route(body, contentType, cutAfter, cutTimes);

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener's disposal exception; nothing else is pending.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => Handle(context));
        }
    }

    private void Handle(HttpListenerContext context)
    {
        string path = context.Request.Url!.AbsolutePath;
        string? range = context.Request.Headers["Range"];
        Requests.Enqueue((path, range));
        var response = context.Response;
        if (!_routes.TryGetValue(path, out var route))
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }

        long start = 0;
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
            if (start >= route.Body.Length)
            {
                response.StatusCode = 416;
                response.AddHeader("Content-Range", $"bytes */{route.Body.Length}");
                response.Close();
                return;
            }

            response.StatusCode = 206;
            response.AddHeader("Content-Range", $"bytes {start}-{route.Body.Length - 1}/{route.Body.Length}");
        }

        response.ContentType = route.ContentType;
        response.ContentLength64 = route.Body.Length - start;
        long send = route.Body.Length - start;
        bool cut = route.CutAfter is long limit && Interlocked.Decrement(ref route.CutsLeft) >= 0 && limit < send;
        if (cut)
        {
            send = route.CutAfter!.Value;
        }

        try
        {
            response.OutputStream.Write(route.Body, (int)start, (int)send);
            response.OutputStream.Flush();
            if (cut)
            {
                response.Abort(); // the connection drops mid-body, as an interrupted transfer does
                return;
            }

            response.Close();
        }
        catch (HttpListenerException)
        {
            // The client went away; the test asserts on what it received.
        }
    }

    private sealed class Route(byte[] body, string contentType, long? cutAfter, int cuts)
    {
        public byte[] Body { get; } = body;

        public string ContentType { get; } = contentType;

        public long? CutAfter { get; } = cutAfter;

        public int CutsLeft = cuts;
    }
}
