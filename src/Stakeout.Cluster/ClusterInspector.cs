using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Stakeout.Cluster;

/// <summary>One stored message of a stream, as the inspector reads it back.</summary>
/// <param name="Sequence">Stream sequence number.</param>
/// <param name="Subject">Subject.</param>
/// <param name="Headers">Headers (first value of each).</param>
/// <param name="Data">Payload.</param>
public sealed record StoredMessage(ulong Sequence, string Subject, IReadOnlyDictionary<string, string> Headers, byte[] Data)
{
    /// <summary>The payload as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Data);
}

/// <summary>
/// Read-only looks at a cluster for operators, tests and benchmarks, without NATS types in the signatures: a stream's
/// leader and size, a consumer's lag, every stored message of a stream.
/// </summary>
public sealed class ClusterInspector : IAsyncDisposable
{
    private readonly NatsConnection _connection;
    private readonly NatsJSContext _js;

    private ClusterInspector(NatsConnection connection)
    {
        _connection = connection;
        _js = new NatsJSContext(connection);
    }

    /// <summary>Connects to <paramref name="servers"/> (one attempt; throws <see cref="ClusterUnavailableException"/>).</summary>
    public static async Task<ClusterInspector> ConnectAsync(string servers, CancellationToken cancellationToken = default)
    {
        var connection = new NatsConnection(NatsOpts.Default with { Url = servers, Name = "stakeout-inspector", MaxReconnectRetry = -1, RequestTimeout = TimeSpan.FromSeconds(5) });
        try
        {
            await connection.ConnectAsync().ConfigureAwait(false);
            return new ClusterInspector(connection);
        }
        catch (NatsException ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new ClusterUnavailableException($"NATS at {servers} is unreachable: {ex.Message}", ex);
        }
    }

    /// <summary>The server name leading <paramref name="stream"/> (null for a stream on a single server without clustering).</summary>
    public async Task<string?> StreamLeaderAsync(string stream, CancellationToken cancellationToken = default)
    {
        var s = await _js.GetStreamAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        return s.Info.Cluster?.Leader;
    }

    /// <summary>Messages stored in <paramref name="stream"/>, or -1 when it does not exist yet.</summary>
    public async Task<long> MessageCountAsync(string stream, CancellationToken cancellationToken = default)
    {
        try
        {
            var s = await _js.GetStreamAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            return (long)s.Info.State.Messages;
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            return -1;
        }
    }

    /// <summary>A durable consumer's lag: messages not yet delivered, and delivered but unacknowledged.</summary>
    public async Task<(long Pending, long AckPending)> ConsumerLagAsync(string stream, string consumer, CancellationToken cancellationToken = default)
    {
        var c = await _js.GetConsumerAsync(stream, consumer, cancellationToken).ConfigureAwait(false);
        return ((long)c.Info.NumPending, c.Info.NumAckPending);
    }

    /// <summary>Every message stored in <paramref name="stream"/> now, in order (through an ordered consumer).</summary>
    public async Task<IReadOnlyList<StoredMessage>> ReadAllAsync(string stream, CancellationToken cancellationToken = default)
    {
        var result = new List<StoredMessage>();
        var info = await _js.GetStreamAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (info.Info.State.Messages == 0)
        {
            return result;
        }

        var consumer = await _js.CreateOrderedConsumerAsync(stream, new NatsJSOrderedConsumerOpts { DeliverPolicy = ConsumerConfigDeliverPolicy.All }, cancellationToken).ConfigureAwait(false);
        await foreach (var msg in consumer.ConsumeAsync<byte[]>(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var headers = new Dictionary<string, string>(StringComparer.Ordinal);
            if (msg.Headers is { } h)
            {
                foreach (var (key, values) in h)
                {
                    headers[key] = values.ToString();
                }
            }

            result.Add(new StoredMessage(msg.Metadata?.Sequence.Stream ?? 0, msg.Subject, headers, msg.Data ?? []));
            if (msg.Metadata is not { } meta || meta.NumPending == 0)
            {
                break;
            }
        }

        return result;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
