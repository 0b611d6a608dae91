using System.Net;
using System.Net.Sockets;

namespace Stakeout.Detection;

/// <summary>
/// <c>tcp://127.0.0.1:PORT</c>: listens on a loopback port; each connection is a stream of its own (a CSV header then
/// rows, or JSON lines), several at once. A connection whose header does not fit the model is refused and closed
/// (counted under streams failed); a connection that ends mid-row has that row counted as <c>incomplete_line</c>. Other
/// connections are not affected.
/// </summary>
public sealed class TcpFlowSource : IFlowSource, IDisposable
{
    private readonly IPEndPoint _endpoint;
    private readonly int _maxConnections;
    private readonly TaskCompletionSource<IPEndPoint> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private bool _disposed;

    /// <summary>Listens on <paramref name="endpoint"/>, which must be a loopback address (port 0 picks a free port).</summary>
    public TcpFlowSource(IPEndPoint endpoint, int maxConnections = 64)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IPAddress.IsLoopback(endpoint.Address))
        {
            throw new ArgumentException($"the TCP source listens on loopback only; {endpoint.Address} is not a loopback address.", nameof(endpoint));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        _endpoint = endpoint;
        _maxConnections = maxConnections;
    }

    /// <inheritdoc />
    public string Name => $"tcp://{_endpoint}";

    /// <summary>Completes with the bound endpoint (the real port when 0 was asked for) once the listener is up.</summary>
    public Task<IPEndPoint> Bound => _bound.Task;

    /// <summary>
    /// Binds the port now (idempotent). A port in use throws an <see cref="IOException"/> naming the source; the
    /// <see cref="SocketException"/> is its inner exception.
    /// </summary>
    public void Open()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_listener is not null)
            {
                return;
            }

            var listener = new TcpListener(_endpoint);
            try
            {
                listener.Start();
            }
            catch (SocketException ex)
            {
                listener.Dispose();
                var error = new IOException(
                    ex.SocketErrorCode == SocketError.AddressAlreadyInUse
                        ? $"{Name}: the port is in use by another process; choose another port or stop the process listening on it."
                        : $"{Name}: cannot listen: {ex.Message}",
                    ex);
                _bound.TrySetException(error);
                throw error;
            }

            _listener = listener;
            _bound.TrySetResult((IPEndPoint)listener.LocalEndpoint);
        }
    }

    /// <inheritdoc />
    public async Task RunAsync(FlowSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Open();
        var listener = _listener!;
        var bound = (IPEndPoint)listener.LocalEndpoint;
        Log.Listening(context.Logger, $"tcp://{bound}");
        var connections = new List<Task>();
        using var slots = new SemaphoreSlim(_maxConnections);
        try
        {
            while (!context.Stopping.IsCancellationRequested)
            {
                await slots.WaitAsync(context.Stopping).ConfigureAwait(false);
                Socket socket;
                try
                {
                    socket = await listener.AcceptSocketAsync(context.Stopping).ConfigureAwait(false);
                }
                catch
                {
                    slots.Release();
                    throw;
                }

                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(ServeAsync(socket, context, bound, slots));
            }
        }
        catch (OperationCanceledException) when (context.Stopping.IsCancellationRequested)
        {
            // Stop accepting; connections below finish what they have read.
        }
        finally
        {
            lock (_gate)
            {
                _listener?.Dispose();
                _listener = null;
            }

            await Task.WhenAll(connections).ConfigureAwait(false);
        }
    }

    /// <summary>Stops listening (also when <see cref="RunAsync"/> never ran); connections already accepted are not cut.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _listener?.Dispose();
            _listener = null;
        }
    }

    private static async Task ServeAsync(Socket socket, FlowSourceContext context, IPEndPoint bound, SemaphoreSlim slots)
    {
        string name = $"tcp://{bound}#{context.NextStreamNumber()}({socket.RemoteEndPoint})";
        var stream = context.OpenTextStream(name);
        var buffer = new byte[64 * 1024];
        try
        {
            using (socket)
            {
                while (!stream.Stopped)
                {
                    int n;
                    try
                    {
                        n = await socket.ReceiveAsync(buffer, SocketFlags.None, context.Stopping).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                    catch (SocketException ex)
                    {
                        Log.ConnectionError(context.Logger, name, ex.SocketErrorCode.ToString());
                        break;
                    }

                    if (n == 0)
                    {
                        break;
                    }

                    // Writes are not cancelled by Stopping: what was read is queued and drained, never lost.
                    await stream.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
                }
            }

            await stream.CompleteAsync().ConfigureAwait(false);
        }
        catch (StreamSchemaException ex)
        {
            Log.StreamRefused(context.Logger, name, ex.Message);
            await stream.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }
}

/// <summary>
/// A stream read to its end (<c>stdin</c>): one text stream. A header that does not fit the model fails the source.
/// </summary>
public sealed class StreamFlowSource(string name, Func<Stream> open) : IFlowSource
{
    private readonly Func<Stream> _open = open ?? throw new ArgumentNullException(nameof(open));

    /// <inheritdoc />
    public string Name { get; } = string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("a source needs a name.", nameof(name)) : name;

    /// <inheritdoc />
    public async Task RunAsync(FlowSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stream = context.OpenTextStream(Name);
        var input = _open();
        var buffer = new byte[64 * 1024];
        bool readPending = false;
        try
        {
            while (!stream.Stopped)
            {
                // A read of a pipe or terminal (stdin) does not honour cancellation: a sender that keeps the pipe open
                // would hold the monitor forever after a signal. So the wait is cancelled, not the read; the read is
                // left behind (its bytes were never received, so nothing counted is lost) and the stream ends now.
                var read = input.ReadAsync(buffer, context.Stopping).AsTask();
                int n;
                try
                {
                    n = await read.WaitAsync(context.Stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    readPending = !read.IsCompleted;
                    break;
                }

                if (n == 0)
                {
                    break;
                }

                await stream.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
            }
        }
        finally
        {
            if (!readPending)
            {
                await input.DisposeAsync().ConfigureAwait(false);
            }
        }

        await stream.CompleteAsync().ConfigureAwait(false);
    }
}
