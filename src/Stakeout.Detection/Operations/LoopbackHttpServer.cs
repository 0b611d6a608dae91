using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Stakeout.Detection;

/// <summary>What an operations endpoint answers: a status code, a content type and a body.</summary>
/// <param name="Status">The HTTP status code.</param>
/// <param name="ContentType">The Content-Type header.</param>
/// <param name="Body">The body, sent as UTF-8.</param>
public sealed record HttpReply(int Status, string ContentType, string Body)
{
    /// <summary>A plain-text reply.</summary>
    public static HttpReply Text(int status, string body) => new(status, "text/plain; charset=utf-8", body);
}

/// <summary>
/// The small HTTP server behind the operations endpoints (<c>/metrics</c>, <c>/health</c>): GET and HEAD, one request
/// per connection (<c>Connection: close</c>), on one address and port. It exists because .NET's managed
/// <see cref="HttpListener"/> throws <see cref="ArgumentNullException"/> out of <c>Start()</c> when a client is already
/// connecting as it starts (its first accept completes before its connection table exists; dotnet/corefx#35191), which
/// is exactly what a scraper or a readiness probe does while a monitor restarts.
/// </summary>
/// <remarks>
/// A request head is read for at most <see cref="HeadTimeout"/> and <see cref="MaxHeadBytes"/> bytes (408 and 431
/// otherwise), and a reply written for at most <see cref="WriteTimeout"/> (a client that never reads cannot hold a slot,
/// nor shutdown); at most <see cref="MaxConnections"/> are served at once, the rest wait in the listen backlog. A client
/// that hangs up mid-reply only loses its own reply. A handler that throws gets a 500 naming the exception, and serving
/// goes on; so does accepting after a failed accept (descriptors exhausted, a probe that reset first), which is
/// logged.
/// </remarks>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    /// <summary>The longest a client may take to send its request head, unless the constructor says otherwise.</summary>
    public static readonly TimeSpan DefaultHeadTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The longest a reply may take to be written (the client must read it).</summary>
    public static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The largest request head read.</summary>
    public const int MaxHeadBytes = 8192;

    /// <summary>How long a connection is drained after its reply, at most.</summary>
    private static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(1);

    /// <summary>How much is drained after a reply, at most.</summary>
    private const long MaxLingerBytes = 1 << 20;

    /// <summary>Connections served at once.</summary>
    public const int MaxConnections = 16;

    private readonly IPEndPoint _endpoint;
    private readonly Func<string, HttpReply> _handle;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(MaxConnections, MaxConnections);
    private readonly HashSet<Task> _open = [];
    private readonly Lock _openLock = new();
    private Socket? _socket;
    private Task? _loop;
    private int _disposed;

    /// <summary>Prepares a server on <paramref name="address"/>:<paramref name="port"/> answering each request path with <paramref name="handle"/>.</summary>
    public LoopbackHttpServer(IPAddress address, int port, Func<string, HttpReply> handle, TimeSpan? headTimeout = null, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        HeadTimeout = headTimeout ?? DefaultHeadTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeadTimeout, TimeSpan.Zero, nameof(headTimeout));
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        _handle = handle ?? throw new ArgumentNullException(nameof(handle));
        _endpoint = new IPEndPoint(address, port);
    }

    /// <summary>The longest a client may take to send its request head (408 after it).</summary>
    public TimeSpan HeadTimeout { get; }

    /// <summary>The address and port served.</summary>
    public IPEndPoint EndPoint => _endpoint;

    /// <summary>Binds the port now (a port in use fails here, naming it) and starts serving.</summary>
    /// <exception cref="IOException">The port could not be bound.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_socket is not null)
        {
            throw new InvalidOperationException("the server is already started");
        }

        var socket = new Socket(_endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(_endpoint);
            socket.Listen(128);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new IOException($"cannot serve on {_endpoint}: {ex.Message}", ex);
        }

        _socket = socket;
        _loop = Task.Run(AcceptAsync);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        Task[] open;
        lock (_openLock)
        {
            open = [.. _open];
        }

        await Task.WhenAll(open).ConfigureAwait(false);
        _stop.Dispose();
        _slots.Dispose();
    }

    private async Task AcceptAsync()
    {
        var socket = _socket!;
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                await _slots.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                client = await socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (_stop.IsCancellationRequested || ex is ObjectDisposedException)
            {
                // The listening socket was closed: shutdown.
                _slots.Release();
                return;
            }
            catch (SocketException ex)
            {
                // Descriptors exhausted, a connection reset before it was accepted: this connection is lost, not the
                // endpoint. A short pause keeps a persistent failure from spinning.
                _slots.Release();
                Log.HttpAcceptFailed(_logger, ex, _endpoint.ToString(), ex.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            var served = ServeAsync(client);
            lock (_openLock)
            {
                _open.Add(served);
            }

            _ = served.ContinueWith(
                t =>
                {
                    lock (_openLock)
                    {
                        _open.Remove(t);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        await Task.Yield();
        try
        {
            using var stream = new NetworkStream(client, ownsSocket: true);
            using var deadline = Deadline(HeadTimeout);
            var (method, path, failure) = await ReadHeadAsync(stream, deadline.Token).ConfigureAwait(false);
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            HttpReply reply = failure ?? Answer(method, path);
            using (var write = Deadline(WriteTimeout))
            {
                await WriteAsync(stream, reply, method == "HEAD", write.Token).ConfigureAwait(false);
            }

            await LingerAsync(client).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // A client that hung up or did not read its reply in time, or shutdown mid-reply: only this connection's
            // reply is lost.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Anything else is a defect in a reply; it costs this connection and is said, never left unobserved.
            Log.HttpConnectionFailed(_logger, ex, _endpoint.ToString(), ex.Message);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// Ends the reply with a FIN and reads what the client still sends (a body, the rest of an oversized head) for a
    /// moment before closing: closing with unread input sends a reset, which can destroy the reply in flight.
    /// </summary>
    private async Task LingerAsync(Socket client)
    {
        client.Shutdown(SocketShutdown.Send);
        using var linger = Deadline(LingerTime);
        var sink = new byte[4096];
        long drained = 0;
        while (drained < MaxLingerBytes)
        {
            int n = await client.ReceiveAsync(sink, SocketFlags.None, linger.Token).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }

            drained += n;
        }
    }

    /// <summary>A token cancelled after <paramref name="after"/> or at shutdown, whichever comes first.</summary>
    private CancellationTokenSource Deadline(TimeSpan after)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        deadline.CancelAfter(after);
        return deadline;
    }

    private HttpReply Answer(string method, string path)
    {
        if (method is not ("GET" or "HEAD"))
        {
            return HttpReply.Text(405, $"method {method} not allowed: GET or HEAD\n");
        }

        try
        {
            return _handle(path);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Reported to the client, which is the one who asked; the monitor itself goes on.
            return HttpReply.Text(500, $"{ex.GetType().Name}: {ex.Message}\n");
        }
    }

    /// <summary>Reads the request head; returns the method and path, or the error reply for a head that is not one.</summary>
    private async Task<(string Method, string Path, HttpReply? Failure)> ReadHeadAsync(NetworkStream stream, CancellationToken cancel)
    {
        var buffer = new byte[MaxHeadBytes];
        int filled = 0;
        int start = 0;
        int end;
        while ((end = HeadEnd(buffer.AsSpan(start, filled - start))) < 0)
        {
            if (filled == buffer.Length)
            {
                return ("", "", HttpReply.Text(431, $"request head over {MaxHeadBytes} bytes\n"));
            }

            int n;
            try
            {
                n = await stream.ReadAsync(buffer.AsMemory(filled), cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return ("", "", HttpReply.Text(408, string.Create(CultureInfo.InvariantCulture, $"no request head within {HeadTimeout.TotalSeconds:0.###} s\n")));
            }

            if (n == 0)
            {
                return ("", "", HttpReply.Text(400, "connection closed before the request head ended\n"));
            }

            filled += n;

            // Empty lines before the request line are ignored (RFC 9112, section 2.2: some clients send a CRLF after a POST body).
            while (start < filled && buffer[start] is (byte)'\r' or (byte)'\n')
            {
                start++;
            }
        }

        string head = Encoding.ASCII.GetString(buffer, start, end);
        int eol = head.IndexOf('\n', StringComparison.Ordinal);
        string line = (eol < 0 ? head : head[..eol]).TrimEnd('\r');
        string[] parts = line.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || parts[0].Length == 0)
        {
            return ("", "", HttpReply.Text(400, "not an HTTP/1.x request line\n"));
        }

        string target = parts[1];
        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(target, UriKind.Absolute, out var absolute))
        {
            target = absolute.AbsolutePath;
        }
        else if (!target.StartsWith('/'))
        {
            return ("", "", HttpReply.Text(400, $"request target {target} is not a path\n"));
        }

        int query = target.IndexOfAny(['?', '#']);
        return (parts[0], query < 0 ? target : target[..query], null);
    }

    /// <summary>The length of the head up to its blank line, or -1 when it has not ended yet.</summary>
    private static int HeadEnd(ReadOnlySpan<byte> data)
    {
        int crlf = data.IndexOf("\r\n\r\n"u8);
        if (crlf >= 0)
        {
            return crlf;
        }

        return data.IndexOf("\n\n"u8);
    }

    private static async Task WriteAsync(NetworkStream stream, HttpReply reply, bool headOnly, CancellationToken cancel)
    {
        byte[] body = Encoding.UTF8.GetBytes(reply.Body);
        string head = string.Create(
            CultureInfo.InvariantCulture,
            $"HTTP/1.1 {reply.Status} {Reason(reply.Status)}\r\nDate: {DateTimeOffset.UtcNow:R}\r\nContent-Type: {reply.ContentType}\r\nContent-Length: {body.Length}\r\nCache-Control: no-store\r\n{(reply.Status == 405 ? "Allow: GET, HEAD\r\n" : "")}Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancel).ConfigureAwait(false);
        if (!headOnly)
        {
            await stream.WriteAsync(body, cancel).ConfigureAwait(false);
        }

        await stream.FlushAsync(cancel).ConfigureAwait(false);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
