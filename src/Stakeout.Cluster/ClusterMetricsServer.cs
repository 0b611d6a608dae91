using System.Net;
using System.Text;
using Stakeout.Detection;

namespace Stakeout.Cluster;

/// <summary>Prometheus text for the cluster commands: a worker's scoring and delivery counters and its consumer lag.</summary>
public static class ClusterMetrics
{
    /// <summary>Renders a worker's metrics (names prefixed <c>stakeout_worker_</c>).</summary>
    public static string Render(ClusterWorker worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        var f = worker.Flows.Snapshot();
        var c = worker.Counters;
        var sb = new StringBuilder(2048);
        PrometheusText.AppendMetric(sb, "stakeout_worker_flows_in_total", "counter", "Flows received in batches.", f.FlowsIn);
        PrometheusText.AppendMetric(sb, "stakeout_worker_flows_scored_total", "counter", "Flows scored.", f.FlowsScored);
        PrometheusText.AppendLabelled(sb, "stakeout_worker_flows_rejected_total", "counter", "Flows not scored, by reason.", "reason", f.RejectedByReason);
        PrometheusText.AppendMetric(sb, "stakeout_worker_batches_total", "counter", "Batches scored, published and acknowledged.", c.Batches);
        PrometheusText.AppendMetric(sb, "stakeout_worker_batches_redelivered_total", "counter", "Batches this worker got on a second or later delivery.", c.Redelivered);
        PrometheusText.AppendMetric(sb, "stakeout_worker_bad_messages_total", "counter", "Messages that were not flow batches (terminated).", c.BadMessages);
        PrometheusText.AppendMetric(sb, "stakeout_worker_alerts_published_total", "counter", "Alerts stored in the alert stream.", c.AlertsPublished);
        PrometheusText.AppendMetric(sb, "stakeout_worker_alerts_duplicate_total", "counter", "Alert publishes recognised as already stored.", c.AlertDuplicates);
        PrometheusText.AppendMetric(sb, "stakeout_worker_consumer_lag", "gauge", "Batches in the flow stream not yet delivered to any worker.", c.LagPending);
        PrometheusText.AppendMetric(sb, "stakeout_worker_consumer_ack_pending", "gauge", "Batches delivered and not yet acknowledged.", c.LagAckPending);
        PrometheusText.AppendLabelled(sb, "stakeout_worker_model_info", "gauge", "The model in force (label sha256).", "sha256", new Dictionary<string, long> { [worker.Model.Current.Sha256 ?? ""] = 1 });
        return sb.ToString();
    }
}

/// <summary>Serves <c>/metrics</c> from a render function on 127.0.0.1:PORT while a cluster command runs.</summary>
public sealed class ClusterMetricsServer : IAsyncDisposable
{
    private readonly LoopbackHttpServer _server;

    /// <summary>Starts serving <paramref name="render"/> on <paramref name="port"/>.</summary>
    /// <exception cref="IOException">The port could not be bound.</exception>
    public ClusterMetricsServer(int port, Func<string> render, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(render);
        _server = new LoopbackHttpServer(
            IPAddress.Loopback,
            port,
            path => path == "/metrics" ? new HttpReply(200, "text/plain; version=0.0.4; charset=utf-8", render()) : HttpReply.Text(404, "not found: try /metrics\n"),
            logger: logger);
        _server.Start();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
