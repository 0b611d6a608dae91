using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Stakeout.Ingest;

namespace Stakeout.Detection;

/// <summary>What a replay sent.</summary>
/// <param name="Rows">Data rows sent.</param>
/// <param name="Bytes">Bytes sent.</param>
/// <param name="Elapsed">Time taken.</param>
public sealed record ReplayResult(long Rows, long Bytes, TimeSpan Elapsed);

/// <summary>
/// <c>stakeout replay</c>: streams real flow rows from CSV files to a TCP monitor, byte for byte as written (header
/// first, one connection per file), at a chosen rate, optionally in a loop, to drive the monitor in tests, benchmarks
/// and demos.
/// </summary>
public sealed class FlowReplayer(IPEndPoint target, double rowsPerSecond = 0, bool loop = false, long maxRows = 0)
{
    private readonly IPEndPoint _target = target ?? throw new ArgumentNullException(nameof(target));

    /// <summary>Sends the rows of <paramref name="paths"/> (files or directories, as the reader expands them).</summary>
    public async Task<ReplayResult> RunAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (rowsPerSecond < 0 || maxRows < 0)
        {
            throw new ArgumentException("rate and row limit must not be negative.", nameof(paths));
        }

        var inputs = new FlowCsvReader().Open(paths).Inputs;
        if (inputs.Count == 0)
        {
            throw new ArgumentException($"no flow CSV under {string.Join(", ", paths)}.", nameof(paths));
        }

        var clock = Stopwatch.StartNew();
        long rows = 0, bytes = 0;
        do
        {
            foreach (var input in inputs)
            {
                var (r, b) = await SendFileAsync(input, rows, clock, cancellationToken).ConfigureAwait(false);
                rows += r;
                bytes += b;
                if (maxRows > 0 && rows >= maxRows)
                {
                    return new ReplayResult(rows, bytes, clock.Elapsed);
                }
            }
        }
        while (loop && !cancellationToken.IsCancellationRequested);

        return new ReplayResult(rows, bytes, clock.Elapsed);
    }

    private async Task<(long Rows, long Bytes)> SendFileAsync(FlowInput input, long sentBefore, Stopwatch clock, CancellationToken cancellationToken)
    {
        using var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var network = client.GetStream();
        await using var _ = network.ConfigureAwait(false);
        var source = input.OpenRead();
        await using var __ = source.ConfigureAwait(false);
        var buffer = new byte[256 * 1024];
        var pending = new MemoryStream();
        long rows = 0, bytes = 0;
        bool header = true;
        int filled = 0;
        while (true)
        {
            int n = await source.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            bool end = n == 0;
            filled += n;
            int start = 0;
            while (true)
            {
                int nl = Array.IndexOf(buffer, (byte)'\n', start, filled - start);
                if (nl < 0)
                {
                    break;
                }

                pending.Write(buffer, start, nl - start + 1);
                start = nl + 1;
                if (header)
                {
                    header = false;
                    continue;
                }

                rows++;
                if ((maxRows > 0 && sentBefore + rows >= maxRows) || pending.Length >= 64 * 1024 || (rowsPerSecond > 0 && rows % Math.Max(1, (long)(rowsPerSecond / 1000)) == 0))
                {
                    bytes += await FlushAsync(network, pending, cancellationToken).ConfigureAwait(false);
                    await PaceAsync(sentBefore + rows, clock, cancellationToken).ConfigureAwait(false);
                    if (maxRows > 0 && sentBefore + rows >= maxRows)
                    {
                        return (rows, bytes);
                    }
                }
            }

            if (end)
            {
                if (start < filled)
                {
                    // A last line without newline: send it with one, so the monitor takes it as a whole row.
                    pending.Write(buffer, start, filled - start);
                    pending.WriteByte((byte)'\n');
                    if (!header)
                    {
                        rows++;
                    }
                }

                bytes += await FlushAsync(network, pending, cancellationToken).ConfigureAwait(false);
                return (rows, bytes);
            }

            Array.Copy(buffer, start, buffer, 0, filled - start);
            filled -= start;
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }
    }

    /// <summary>Connects, retrying for up to 10 s while the monitor is still starting (connection refused).</summary>
    private async Task<TcpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var client = new TcpClient { NoDelay = true };
            try
            {
                await client.ConnectAsync(_target, cancellationToken).ConfigureAwait(false);
                return client;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                client.Dispose();
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
    }

    private static async Task<long> FlushAsync(NetworkStream network, MemoryStream pending, CancellationToken cancellationToken)
    {
        long n = pending.Length;
        if (n > 0)
        {
            await network.WriteAsync(pending.GetBuffer().AsMemory(0, (int)n), cancellationToken).ConfigureAwait(false);
            pending.SetLength(0);
        }

        return n;
    }

    private async Task PaceAsync(long sent, Stopwatch clock, CancellationToken cancellationToken)
    {
        if (rowsPerSecond <= 0)
        {
            return;
        }

        var due = TimeSpan.FromSeconds(sent / rowsPerSecond);
        var ahead = due - clock.Elapsed;
        if (ahead > TimeSpan.FromMilliseconds(1))
        {
            await Task.Delay(ahead, cancellationToken).ConfigureAwait(false);
        }
    }
}
