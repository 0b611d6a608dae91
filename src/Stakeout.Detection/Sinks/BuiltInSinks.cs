using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>One readable line per alert on a text writer (the terminal).</summary>
public sealed class ConsoleAlertSink(TextWriter output) : IAlertSink
{
    private readonly TextWriter _output = output ?? throw new ArgumentNullException(nameof(output));

    /// <inheritdoc />
    public string Name => "console";

    /// <summary>The line written for <paramref name="alert"/>.</summary>
    public static string Format(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var id = alert.Identity;
        string who = id.SourceIp.HasValue || id.DestinationIp.HasValue
            ? $"{Endpoint(id.SourceIp, id.SourcePort)} -> {Endpoint(id.DestinationIp, id.DestinationPort)}{(id.Protocol >= 0 ? " " + EveWriter.ProtocolName(id.Protocol) : "")}"
            : $"{alert.Stream} line {alert.Line}";
        string count = alert.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $" x{alert.Count}") : "";
        return string.Create(CultureInfo.InvariantCulture, $"ALERT sev {alert.Severity} {alert.Signature} ({alert.Category}) score {alert.Score:0.000} {who}{count}");
    }

    /// <inheritdoc />
    public async ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        var sb = new StringBuilder();
        foreach (var alert in alerts)
        {
            sb.AppendLine(Format(alert));
        }

        await _output.WriteAsync(sb, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken) => await _output.FlushAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static string Endpoint(IpAddressValue ip, int port) =>
        (ip.HasValue ? ip.ToString() : "?") + (port >= 0 ? ":" + port.ToString(CultureInfo.InvariantCulture) : "");
}

/// <summary>
/// EVE JSON lines in a file, appended; when the file reaches its size limit it is rotated (alerts.json -> alerts.json.1
/// -> ... -> .N, the oldest deleted) and a new file is started, so a monitor running for weeks keeps bounded disk.
/// </summary>
public sealed class EveFileSink : IAlertSink
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _keep;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private FileStream? _file;

    /// <summary>Writes to <paramref name="path"/>, rotating at <paramref name="maxBytes"/> and keeping <paramref name="keep"/> old files.</summary>
    public EveFileSink(string path, long maxBytes, int keep)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        _path = path;
        _maxBytes = maxBytes;
        _keep = keep;
    }

    /// <inheritdoc />
    public string Name => "eve";

    /// <summary>Rotations done.</summary>
    public int Rotations { get; private set; }

    /// <inheritdoc />
    public async ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        _buffer.ResetWrittenCount();
        foreach (var alert in alerts)
        {
            EveWriter.WriteLine(_buffer, alert);
        }

        _file ??= Open();
        if (_file.Length > 0 && _file.Length + _buffer.WrittenCount > _maxBytes)
        {
            await RotateAsync(cancellationToken).ConfigureAwait(false);
        }

        // A failed write (disk full) may have put part of the batch on disk: cut the file back to where the batch began,
        // so alerts.json never ends in a torn line and the runner's retry does not duplicate the lines that did fit.
        long start = _file.Length;
        try
        {
            await _file.WriteAsync(_buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            _file.SetLength(start);
            _file.Position = start;
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_file is not null)
        {
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
            _file = null;
        }
    }

    private FileStream Open()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        // Unbuffered (the batch is already one buffer): each write reaches the file now, so a failure is seen by the
        // write it belongs to and can be rolled back. OpenOrCreate at the end rather than Append, which forbids SetLength.
        var file = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, bufferSize: 0);
        file.Seek(0, SeekOrigin.End);
        return file;
    }

    private async ValueTask RotateAsync(CancellationToken cancellationToken)
    {
        await _file!.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _file.DisposeAsync().ConfigureAwait(false);
        _file = null;
        if (_keep == 0)
        {
            File.Delete(_path);
        }
        else
        {
            File.Delete($"{_path}.{_keep}");
            for (int i = _keep - 1; i >= 1; i--)
            {
                if (File.Exists($"{_path}.{i}"))
                {
                    File.Move($"{_path}.{i}", $"{_path}.{i + 1}");
                }
            }

            File.Move(_path, $"{_path}.1");
        }

        Rotations++;
        _file = Open();
    }
}

/// <summary>
/// The prototype's <c>malicious_ips.log</c>: each source address seen in an alert, once, in the order first seen, after
/// a few '#' comment lines. Only real addresses from the data are written; when alerts come from data without address
/// columns, a comment says so instead of inventing addresses.
/// </summary>
public sealed class SeedLogSink : IAlertSink
{
    private const int MaxAddresses = 1_000_000;
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly HashSet<IpAddressValue> _seen = [];
    private StreamWriter? _writer;
    private bool _notedNoAddress;
    private long _notListed;

    /// <summary>Writes to <paramref name="path"/> (replaced if it exists).</summary>
    public SeedLogSink(string path, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = path;
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    /// <inheritdoc />
    public string Name => "seed-logs";

    /// <inheritdoc />
    public async ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        var writer = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var alert in alerts)
        {
            var ip = alert.Identity.SourceIp;
            if (!ip.HasValue)
            {
                if (!_notedNoAddress)
                {
                    _notedNoAddress = true;
                    await writer.WriteLineAsync($"# alerts from '{alert.Stream}' have no source address: the data has no IP columns, so none is listed for them (see alerts.json).".AsMemory(), cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            if (_seen.Count >= MaxAddresses && !_seen.Contains(ip))
            {
                _notListed++;
                continue;
            }

            if (_seen.Add(ip))
            {
                await writer.WriteLineAsync(ip.ToString().AsMemory(), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var writer = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            if (_notListed > 0)
            {
                await _writer.WriteLineAsync($"# {_notListed} more alerting source address(es) not listed: the list is capped at {MaxAddresses}.").ConfigureAwait(false);
            }

            if (_seen.Count == 0 && !_notedNoAddress)
            {
                await _writer.WriteLineAsync("# no alerts.").ConfigureAwait(false);
            }

            await _writer.DisposeAsync().ConfigureAwait(false);
            _writer = null;
        }
    }

    private async ValueTask<StreamWriter> OpenAsync(CancellationToken cancellationToken)
    {
        if (_writer is null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
            _writer = new StreamWriter(_path, append: false, new UTF8Encoding(false));
            await _writer.WriteLineAsync("# Stakeout malicious_ips.log: source addresses of flows alerted as attacks, one per line, in the order first seen.".AsMemory(), cancellationToken).ConfigureAwait(false);
            await _writer.WriteLineAsync($"# started {EveWriter.FormatTimestamp(_time.GetUtcNow())}".AsMemory(), cancellationToken).ConfigureAwait(false);
        }

        return _writer;
    }
}

/// <summary>
/// In-process subscription to alerts, for the ledger and the dashboard: each subscriber reads its own bounded stream
/// (<see cref="IAsyncEnumerable{T}"/>); a subscriber that falls behind loses its oldest alerts, counted in
/// <see cref="Subscription.Overflow"/>, and never slows detection or other subscribers.
/// </summary>
public sealed class AlertHub : IAlertSink
{
    private readonly Lock _gate = new();
    private readonly List<Subscription> _subscribers = [];

    /// <inheritdoc />
    public string Name => "subscription";

    /// <summary>Subscribes with room for <paramref name="capacity"/> unread alerts. Dispose the subscription to leave.</summary>
    public Subscription Subscribe(int capacity = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var subscription = new Subscription(this, capacity);
        lock (_gate)
        {
            _subscribers.Add(subscription);
        }

        return subscription;
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        Subscription[] current;
        lock (_gate)
        {
            current = [.. _subscribers];
        }

        foreach (var s in current)
        {
            foreach (var alert in alerts)
            {
                s.Offer(alert);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Ends every subscriber's stream (after the last alert).</summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            foreach (var s in _subscribers)
            {
                s.End();
            }

            _subscribers.Clear();
        }

        return ValueTask.CompletedTask;
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscription);
        }
    }

    /// <summary>One subscriber's stream of alerts.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly AlertHub _hub;
        private readonly Channel<Alert> _channel;
        private long _overflow;

        internal Subscription(AlertHub hub, int capacity)
        {
            _hub = hub;
            _channel = Channel.CreateBounded<Alert>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
                _ => Interlocked.Increment(ref _overflow));
        }

        /// <summary>Alerts this subscriber lost because it fell behind.</summary>
        public long Overflow => Volatile.Read(ref _overflow);

        /// <summary>Reads alerts as they come, until the pipeline ends or the subscription is disposed.</summary>
        public async IAsyncEnumerable<Alert> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var alert in _channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return alert;
            }
        }

        /// <inheritdoc />
        public void Dispose()
        {
            _hub.Remove(this);
            End();
        }

        internal void Offer(Alert alert) => _channel.Writer.TryWrite(alert);

        internal void End() => _channel.Writer.TryComplete();
    }
}
