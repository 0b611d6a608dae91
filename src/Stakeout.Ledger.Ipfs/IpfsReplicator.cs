using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Ipfs;

/// <summary>Options of an <see cref="IpfsReplicator"/>, validated when it is built.</summary>
public sealed record IpfsReplicatorOptions
{
    /// <summary>Directory that holds one durable queue per node (required).</summary>
    public required string QueueDirectory { get; init; }

    /// <summary>Name of the ledger's IPNS key on each node (default <c>stakeout-ledger</c>).</summary>
    public string IpnsKeyName { get; init; } = "stakeout-ledger";

    /// <summary>Validity of each published IPNS record (default 24 h; the sensor republishes with every checkpoint).</summary>
    public TimeSpan IpnsLifetime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Steps pushed per round before the cursor is persisted (default 64).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Wait after the first failed round with a node; doubles per failure, with jitter (default 500 ms).</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between two rounds with a failing node (default 30 s).</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Seed of the retry jitter (default 17).</summary>
    public int JitterSeed { get; init; } = 17;

    /// <summary>Throws when an option is out of range; the message names it.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(QueueDirectory))
        {
            throw new ArgumentException("The replication queue directory is required.", nameof(QueueDirectory));
        }

        if (string.IsNullOrWhiteSpace(IpnsKeyName) || IpnsKeyName == "self")
        {
            throw new ArgumentException($"The IPNS key name '{IpnsKeyName}' must be a name of the ledger's own (not 'self').", nameof(IpnsKeyName));
        }

        if (IpnsLifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(IpnsLifetime), IpnsLifetime, "The IPNS lifetime must be positive.");
        }

        if (BatchSize is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be between 1 and 10000.");
        }

        if (RetryBaseDelay <= TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryBaseDelay), RetryBaseDelay, $"The retry base delay must be positive and at most the maximum ({RetryMaxDelay}).");
        }
    }
}

/// <summary>Where replication to one node stands, for metrics and the CLI.</summary>
/// <param name="Node">The node's API address.</param>
/// <param name="Pending">Steps queued and not yet acknowledged by the node.</param>
/// <param name="Pushed">Steps acknowledged by the node since this process started.</param>
/// <param name="LastError">The last failure with the node, or null when the last round succeeded.</param>
/// <param name="LastErrorAt">When that failure happened.</param>
/// <param name="LastSuccessAt">When the node last acknowledged a step.</param>
/// <param name="IpnsName">The ledger's IPNS name on the node, once published.</param>
/// <param name="PublishedHead">The checkpoint the node's IPNS name was last pointed at by this process.</param>
public sealed record ReplicationStatus(
    string Node,
    int Pending,
    long Pushed,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    DateTimeOffset? LastSuccessAt,
    string? IpnsName,
    string? PublishedHead);

/// <summary>
/// Replicates a ledger's blocks and head to IPFS nodes without ever making the ledger wait for them. The ledger writes
/// through <see cref="WrapBlocks"/> and <see cref="WrapHead"/>: each block goes to the local store first, then its
/// CID into every node's durable <see cref="ReplicationJournal"/> before the write returns; a head goes to the local
/// pointer, then into the queues after the blocks it needs. One loop per node pushes the queue in order (the block is
/// read back from the local store, its CID checked by the node client), and points the node's IPNS name at a head only
/// after every block queued before it is on that node. A node that is down delays its queue and loses nothing: the loop
/// retries with backoff, and a restarted process picks the queue up where it stopped.
/// </summary>
public sealed class IpfsReplicator : IAsyncDisposable
{
    private readonly IBlockStore _local;
    private readonly IpfsReplicatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Remote[] _remotes;
    private readonly CancellationTokenSource _stop = new();
    private Task[]? _loops;

    /// <summary>Opens the queues of <paramref name="nodes"/> under the options' directory (recovering what a previous run left).</summary>
    /// <param name="local">The local block store every block is written to first and read back from for pushing.</param>
    /// <param name="nodes">Clients of the IPFS nodes to replicate to (at least one).</param>
    /// <param name="options">Queue directory, IPNS key, batch size, retry delays.</param>
    /// <param name="timeProvider">Clock of the retry waits and status times; null for the system clock.</param>
    /// <param name="logger">Where failures and recoveries are logged; null for none.</param>
    public IpfsReplicator(IBlockStore local, IReadOnlyList<KuboClient> nodes, IpfsReplicatorOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (nodes.Count == 0)
        {
            throw new ArgumentException("Give at least one IPFS node to replicate to.", nameof(nodes));
        }

        var duplicate = nodes.GroupBy(n => n.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"The IPFS node {duplicate.Key} is listed twice.", nameof(nodes));
        }

        _local = local;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _log = logger ?? NullLogger.Instance;
        var jitter = new Random(options.JitterSeed);
        var opened = new List<Remote>();
        try
        {
            foreach (var node in nodes)
            {
                var queue = ReplicationJournal.Open(Path.Combine(options.QueueDirectory, Slug(node.Name)), node.Name);
                opened.Add(new Remote(node, queue, IpnsHeadPointer.ForKey(node, options.IpnsKeyName, options.IpnsLifetime), new Random(jitter.Next())));
            }
        }
        catch
        {
            foreach (var r in opened)
            {
                r.Queue.Dispose();
            }

            throw;
        }

        _remotes = [.. opened];
    }

    /// <summary>Where replication to each node stands.</summary>
    public IReadOnlyList<ReplicationStatus> Status => [.. _remotes.Select(r => r.Snapshot())];

    /// <summary>The local store, with every block also queued for each node.</summary>
    public IBlockStore WrapBlocks() => new ReplicatingBlockStore(this);

    /// <summary>The local head pointer, with every published head also queued for each node (after its blocks).</summary>
    public IHeadPointer WrapHead(IHeadPointer local)
    {
        ArgumentNullException.ThrowIfNull(local);
        return new ReplicatingHeadPointer(this, local);
    }

    /// <summary>Starts one background loop per node that pushes its queue as entries arrive.</summary>
    public void Start()
    {
        if (_loops is not null)
        {
            throw new InvalidOperationException("The replicator is already started.");
        }

        _loops = [.. _remotes.Select(r => Task.Run(() => RunAsync(r, _stop.Token)))];
    }

    /// <summary>
    /// Pushes every node's queue now, in the caller's task (for <c>ledger replicate</c> and tests): returns when each
    /// queue is empty or its node failed once (the failure is in <see cref="Status"/>).
    /// </summary>
    public async Task<IReadOnlyList<ReplicationStatus>> PushAllAsync(CancellationToken cancellationToken)
    {
        if (_loops is not null)
        {
            throw new InvalidOperationException("The replicator's background loops are running; wait with DrainAsync instead.");
        }

        foreach (var r in _remotes)
        {
            while (r.Queue.Pending > 0)
            {
                if (!await PushRoundAsync(r, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
        }

        return Status;
    }

    /// <summary>Waits until every queue is empty, or <paramref name="timeout"/> passes; returns the status either way.</summary>
    public async Task<IReadOnlyList<ReplicationStatus>> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + timeout;
        while (_remotes.Any(r => r.Queue.Pending > 0) && _time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
        }

        return Status;
    }

    /// <summary>Stops the loops (what is still queued stays in the queues for the next run) and closes the queues.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loops is not null)
        {
            try
            {
                await Task.WhenAll(_loops).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The loops end by cancellation; anything else surfaces.
            }
        }

        foreach (var r in _remotes)
        {
            r.Queue.Dispose();
        }

        _stop.Dispose();
    }

    internal async ValueTask<Cid> PutAsync(ReadOnlyMemory<byte> block, ulong codec, CancellationToken cancellationToken)
    {
        var cid = await _local.PutAsync(block, codec, cancellationToken).ConfigureAwait(false);
        Enqueue(new ReplicationEntry(ReplicationKind.Block, cid));
        return cid;
    }

    internal async ValueTask<IReadOnlyList<Cid>> PutManyAsync(IReadOnlyList<(ReadOnlyMemory<byte> Block, ulong Codec)> blocks, CancellationToken cancellationToken)
    {
        // The local store makes the batch durable at once; each node's queue takes the batch in one fsynced append.
        var cids = await _local.PutManyAsync(blocks, cancellationToken).ConfigureAwait(false);
        var entries = new ReplicationEntry[cids.Count];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = new ReplicationEntry(ReplicationKind.Block, cids[i]);
        }

        Enqueue(entries);
        return cids;
    }

    internal ValueTask<byte[]?> GetLocalAsync(Cid cid, CancellationToken cancellationToken) => _local.GetAsync(cid, cancellationToken);

    internal string LocalName => _local.Name;

    internal void Enqueue(params ReadOnlySpan<ReplicationEntry> entries)
    {
        foreach (var r in _remotes)
        {
            r.Queue.Enqueue(entries);
            r.Wake.Release();
        }
    }

    private async Task RunAsync(Remote remote, CancellationToken cancellationToken)
    {
        int failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (remote.Queue.Pending == 0)
            {
                // Woken by an enqueue; the time-out only bounds how long a missed wake-up could delay a push.
                await remote.Wake.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (await PushRoundAsync(remote, cancellationToken).ConfigureAwait(false))
            {
                if (failures > 0)
                {
                    Log.ReplicationResumed(_log, remote.Client.Name, failures, remote.Queue.Pending);
                }

                failures = 0;
                continue;
            }

            failures++;
            double backoff = Math.Min(_options.RetryMaxDelay.TotalMilliseconds, _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 20)));
            double wait = backoff * (0.5 + (remote.NextJitter() * 0.5));
            await Task.Delay(TimeSpan.FromMilliseconds(wait), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Pushes one batch; true when all of it reached the node.</summary>
    private async Task<bool> PushRoundAsync(Remote remote, CancellationToken cancellationToken)
    {
        var batch = remote.Queue.Peek(_options.BatchSize);
        int done = 0;
        try
        {
            for (int i = 0; i < batch.Count; i++)
            {
                var entry = batch[i];
                if (entry.Kind == ReplicationKind.Block)
                {
                    byte[] bytes = await _local.GetAsync(entry.Cid, cancellationToken).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"Block {entry.Cid} is queued for {remote.Client.Name} but missing from the local store {_local.Name}; it cannot be replicated until it is restored there.");
                    await remote.Client.BlockPutAsync(bytes, entry.Cid.Codec, pin: true, cancellationToken).ConfigureAwait(false);
                }
                else if (!HasLaterHead(batch, i))
                {
                    // Only the newest head of a batch is published: the older ones would be overwritten at once.
                    await remote.Head.PublishAsync(entry.Cid, cancellationToken).ConfigureAwait(false);
                    remote.PublishedHead = entry.Cid.ToString();
                }

                done++;
            }

            remote.Succeeded(done, _time.GetUtcNow());
            return true;
        }
        catch (Exception e) when (e is KuboException or BlockIntegrityException or InvalidOperationException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            remote.Failed(done, e.Message, _time.GetUtcNow());
            Log.ReplicationFailed(_log, remote.Client.Name, remote.Queue.Pending - done, e.Message);
            return false;
        }
        finally
        {
            remote.Queue.Acknowledge(done);
        }
    }

    private static bool HasLaterHead(IReadOnlyList<ReplicationEntry> batch, int index)
    {
        for (int j = index + 1; j < batch.Count; j++)
        {
            if (batch[j].Kind == ReplicationKind.Head)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A directory name for a node's queue: its address with every character that is not a letter or digit replaced.</summary>
    internal static string Slug(string node)
    {
        var chars = node.Replace("http://", "", StringComparison.OrdinalIgnoreCase).Replace("https://", "s-", StringComparison.OrdinalIgnoreCase)
            .Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_').ToArray();
        return new string(chars).Trim('_');
    }

    private sealed class Remote(KuboClient client, ReplicationJournal queue, IpnsHeadPointer head, Random jitter)
    {
        private readonly Lock _gate = new();
        private long _pushed;
        private string? _lastError;
        private DateTimeOffset? _lastErrorAt;
        private DateTimeOffset? _lastSuccessAt;

        public KuboClient Client { get; } = client;

        public ReplicationJournal Queue { get; } = queue;

        public IpnsHeadPointer Head { get; } = head;

        public SemaphoreSlim Wake { get; } = new(0);

        public string? PublishedHead { get; set; }

        public double NextJitter()
        {
            lock (_gate)
            {
                return jitter.NextDouble();
            }
        }

        public void Succeeded(int count, DateTimeOffset now)
        {
            lock (_gate)
            {
                _pushed += count;
                _lastError = null;
                if (count > 0)
                {
                    _lastSuccessAt = now;
                }
            }
        }

        public void Failed(int count, string error, DateTimeOffset now)
        {
            lock (_gate)
            {
                _pushed += count;
                _lastError = error;
                _lastErrorAt = now;
                if (count > 0)
                {
                    _lastSuccessAt = now;
                }
            }
        }

        public ReplicationStatus Snapshot()
        {
            lock (_gate)
            {
                return new ReplicationStatus(Client.Name, Queue.Pending, _pushed, _lastError, _lastErrorAt, _lastSuccessAt, Head.IpnsName, PublishedHead);
            }
        }
    }
}

/// <summary>The local store with replication: see <see cref="IpfsReplicator"/>.</summary>
internal sealed class ReplicatingBlockStore(IpfsReplicator replicator) : IBlockStore
{
    public string Name => replicator.LocalName + " (replicated)";

    public ValueTask<Cid> PutAsync(ReadOnlyMemory<byte> block, ulong codec, CancellationToken cancellationToken) =>
        replicator.PutAsync(block, codec, cancellationToken);

    public ValueTask<IReadOnlyList<Cid>> PutManyAsync(IReadOnlyList<(ReadOnlyMemory<byte> Block, ulong Codec)> blocks, CancellationToken cancellationToken) =>
        replicator.PutManyAsync(blocks, cancellationToken);

    public ValueTask<byte[]?> GetAsync(Cid cid, CancellationToken cancellationToken) => replicator.GetLocalAsync(cid, cancellationToken);
}

/// <summary>The local head pointer with replication: see <see cref="IpfsReplicator"/>.</summary>
internal sealed class ReplicatingHeadPointer(IpfsReplicator replicator, IHeadPointer local) : IHeadPointer
{
    public async ValueTask PublishAsync(Cid checkpoint, CancellationToken cancellationToken)
    {
        await local.PublishAsync(checkpoint, cancellationToken).ConfigureAwait(false);
        replicator.Enqueue(new ReplicationEntry(ReplicationKind.Head, checkpoint));
    }

    public ValueTask<Cid?> ResolveAsync(CancellationToken cancellationToken) => local.ResolveAsync(cancellationToken);
}

internal static class ReplicationFormat
{
    public static string Describe(ReplicationStatus s) => string.Create(
        CultureInfo.InvariantCulture,
        $"{s.Node}: {s.Pending} pending, {s.Pushed} pushed{(s.IpnsName is null ? "" : $", IPNS {s.IpnsName}")}{(s.PublishedHead is null ? "" : $" -> {s.PublishedHead}")}{(s.LastError is null ? "" : $", last error: {s.LastError}")}");
}
