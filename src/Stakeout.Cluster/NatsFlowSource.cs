using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.JetStream;
using Stakeout.Detection;

namespace Stakeout.Cluster;

/// <summary>
/// <c>monitor --source nats://HOST:PORT</c>: the single-process equivalent of the workers. It pulls flow batches from
/// the same durable consumer (so it shares the backlog with any workers) and hands them to the monitor's pipeline, which
/// scores and alerts as for any source. A batch is acknowledged once the pipeline has taken it: a monitor that crashes
/// after that loses what it held in memory, where a worker would have it redelivered; use workers for at-least-once.
/// </summary>
public sealed class NatsFlowSource(ClusterOptions options) : IFlowSource
{
    private readonly ClusterOptions _options = options.Validate();

    /// <inheritdoc />
    public string Name => "nats://" + string.Join(",", _options.Servers.Select(s => s.Authority)) + "/" + _options.FlowStream;

    /// <inheritdoc />
    public async Task RunAsync(FlowSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var logger = context.Logger ?? NullLogger.Instance;
        var stop = context.Stopping;
        await using var session = await NatsSession.ConnectAsync(_options, "monitor", logger, context.Time, stop).ConfigureAwait(false);
        await session.EnsureStreamAsync(_options.FlowStream, _options.FlowSubjectPrefix, _options.FlowLimits, stop).ConfigureAwait(false);
        var consumer = await session.EnsureConsumerAsync(_options.FlowStream, _options.WorkerConsumer, null, stop).ConfigureAwait(false);
        while (!stop.IsCancellationRequested)
        {
            var fetched = new List<INatsJSMsg<byte[]>>();
            try
            {
                await foreach (var msg in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = _options.FetchBatch, Expires = TimeSpan.FromSeconds(2) }, cancellationToken: CancellationToken.None).ConfigureAwait(false))
                {
                    fetched.Add(msg);
                }
            }
            catch (Exception ex) when (NatsSession.IsTransient(ex))
            {
                ClusterLog.OperationRetry(logger, "monitor", "fetch flows", 1, NatsSession.Describe(ex), (int)_options.RetryInitial.TotalMilliseconds);
                await Task.Delay(_options.RetryInitial, context.Time, stop).ConfigureAwait(false);
                continue;
            }

            foreach (var msg in fetched)
            {
                if (stop.IsCancellationRequested)
                {
                    await msg.NakAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
                    continue;
                }

                FlowMessage batch;
                try
                {
                    batch = FlowBatchCodec.Decode(msg.Data ?? []);
                }
                catch (InvalidDataException ex)
                {
                    ClusterLog.BadMessage(logger, "monitor", msg.Subject, msg.Metadata?.Sequence.Stream ?? 0, ex.Message);
                    await msg.AckTerminateAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
                    continue;
                }

                // Not cancelled by stop: flows admitted (counted in) must reach the pipeline, which drains before it ends.
                await context.WriteFlowsAsync(batch.Flows, batch.Sensor + ":" + batch.Stream, CancellationToken.None).ConfigureAwait(false);
                await msg.AckAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}
