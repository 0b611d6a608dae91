using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>
/// Prometheus text exposition of a pipeline's metrics. Names (all prefixed <c>stakeout_</c>): flows_in_total,
/// flows_scored_total, flows_rejected_total{reason}, flows_dropped_total{reason}, alert_flows_total{class},
/// alerts_emitted_total, alerts_suppressed_total, batches_total, queue_depth{queue}, batch_score_seconds (histogram),
/// alert_latency_seconds (histogram), sink_written_total{sink}, sink_failures_total{sink}, sink_overflow_total{sink},
/// sink_lost_total{sink}, streams_opened_total, streams_failed_total, model_reloads_total{result}, aggregation_groups_open.
/// </summary>
public static class PrometheusText
{
    /// <summary>Renders every metric of <paramref name="pipeline"/>.</summary>
    public static string Render(DetectionPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var c = pipeline.Counters;
        var s = c.Snapshot();
        var sb = new StringBuilder(4096);
        Counter(sb, "stakeout_flows_in_total", "Flows that came in.", s.FlowsIn);
        Counter(sb, "stakeout_flows_scored_total", "Flows scored by the model.", s.FlowsScored);
        AppendLabelled(sb, "stakeout_flows_rejected_total", "counter", "Rows that could not be read as flows, by reason.", "reason", s.RejectedByReason);
        AppendLabelled(sb, "stakeout_flows_dropped_total", "counter", "Flows read but not scored, by reason.", "reason", s.DroppedByReason);
        AppendLabelled(sb, "stakeout_alert_flows_total", "counter", "Flows over the threshold, by class (before aggregation).", "class", s.AlertsByClass);
        Counter(sb, "stakeout_alerts_emitted_total", "Alert events handed to the sinks (after aggregation).", s.AlertsEmitted);
        Counter(sb, "stakeout_alerts_suppressed_total", "Flows over the threshold silenced by an allow-list.", s.SuppressedByAllowList);
        Counter(sb, "stakeout_batches_total", "Batches scored.", c.Batches);
        Counter(sb, "stakeout_streams_opened_total", "Text streams whose header was accepted.", c.StreamsOpened);
        Counter(sb, "stakeout_streams_failed_total", "Text streams refused (bad header or missing features).", c.StreamsFailed);
        AppendLabelled(sb, "stakeout_model_reloads_total", "counter", "Model reloads, by result.", "result", new Dictionary<string, long> { ["ok"] = c.Reloads, ["refused"] = c.ReloadFailures });
        AppendLabelled(sb, "stakeout_queue_depth", "gauge", "Items waiting in each queue.", "queue", pipeline.QueueDepths.ToDictionary(kv => kv.Key, kv => (long)kv.Value));
        Gauge(sb, "stakeout_aggregation_groups_open", "Aggregation groups open.", pipeline.OpenAggregates);
        Histogram(sb, "stakeout_batch_score_seconds", "Time to score one batch.", pipeline.BatchLatency);
        Histogram(sb, "stakeout_alert_latency_seconds", "Time from a flow's bytes being received to its alert being emitted.", pipeline.AlertLatency);
        var sinks = pipeline.SinkStatuses;
        AppendLabelled(sb, "stakeout_sink_written_total", "counter", "Alerts written, by sink.", "sink", sinks.ToDictionary(x => x.Name, x => x.Written));
        AppendLabelled(sb, "stakeout_sink_failures_total", "counter", "Failed sink writes (retried), by sink.", "sink", sinks.ToDictionary(x => x.Name, x => x.Failures));
        AppendLabelled(sb, "stakeout_sink_overflow_total", "counter", "Alerts dropped from a full sink buffer, by sink.", "sink", sinks.ToDictionary(x => x.Name, x => x.Overflow));
        AppendLabelled(sb, "stakeout_sink_lost_total", "counter", "Alerts unwritten at the drain timeout, by sink.", "sink", sinks.ToDictionary(x => x.Name, x => x.Lost));
        Drift(sb, pipeline.Drift);
        return sb.ToString();
    }

    /// <summary>drift_windows_total{result}, drift_feature_psi{feature} (last window), drift_anomaly_share (last window).</summary>
    private static void Drift(StringBuilder sb, DriftMonitor drift)
    {
        if (!drift.Active)
        {
            return;
        }

        var summary = drift.Summary();
        AppendLabelled(sb, "stakeout_drift_windows_total", "counter", "Windows of flows compared with the training profile, by result.", "result", new Dictionary<string, long> { ["ok"] = summary.Windows - summary.DriftedWindows, ["drift"] = summary.DriftedWindows });
        if (drift.Last is not { } last)
        {
            return;
        }

        sb.Append("# HELP stakeout_drift_feature_psi Population stability index of each feature in the last window against the training profile.\n");
        sb.Append("# TYPE stakeout_drift_feature_psi gauge\n");
        foreach (var f in last.Features)
        {
            sb.Append("stakeout_drift_feature_psi{feature=\"").Append(EscapeLabelValue(f.Feature)).Append("\"} ").Append(f.Psi.ToString("0.######", CultureInfo.InvariantCulture)).Append('\n');
        }

        sb.Append("# HELP stakeout_drift_feature_divergence Out-of-profile divergence KL(window || training) of each feature in the last window.\n");
        sb.Append("# TYPE stakeout_drift_feature_divergence gauge\n");
        foreach (var f in last.Features)
        {
            sb.Append("stakeout_drift_feature_divergence{feature=\"").Append(EscapeLabelValue(f.Feature)).Append("\"} ").Append(f.Divergence.ToString("0.######", CultureInfo.InvariantCulture)).Append('\n');
        }

        if (last.AnomalyShare is { } share)
        {
            sb.Append("# HELP stakeout_drift_anomaly_share Share of the last window's benign-called flows with a high anomaly score.\n");
            sb.Append("# TYPE stakeout_drift_anomaly_share gauge\n");
            sb.Append("stakeout_drift_anomaly_share ").Append(share.ToString("0.######", CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    /// <summary>Appends one unlabelled metric: its HELP and TYPE lines, then <c>NAME VALUE</c>.</summary>
    public static void AppendMetric(StringBuilder sb, string name, string type, string help, long value)
    {
        AppendHeader(sb, name, type, help);
        sb.Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>
    /// Appends one metric with a sample per key of <paramref name="values"/> (label <paramref name="label"/>, keys in
    /// ordinal order, escaped): HELP and TYPE once, as the exposition format requires.
    /// </summary>
    public static void AppendLabelled(StringBuilder sb, string name, string type, string help, string label, IReadOnlyDictionary<string, long> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        AppendHeader(sb, name, type, help);
        foreach (var (key, value) in values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.Append(name).Append('{').Append(label).Append("=\"").Append(EscapeLabelValue(key)).Append("\"} ")
              .Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static void AppendHeader(StringBuilder sb, string name, string type, string help)
    {
        ArgumentNullException.ThrowIfNull(sb);
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static void Counter(StringBuilder sb, string name, string help, long value) => AppendMetric(sb, name, "counter", help, value);

    private static void Gauge(StringBuilder sb, string name, string help, long value) => AppendMetric(sb, name, "gauge", help, value);

    private static void Histogram(StringBuilder sb, string name, string help, LatencyHistogram histogram)
    {
        AppendHeader(sb, name, "histogram", help);
        var cumulative = histogram.Cumulative();
        long count = histogram.Count;
        for (int i = 0; i < cumulative.Length; i++)
        {
            sb.Append(name).Append("_bucket{le=\"").Append(LatencyHistogram.PrometheusBounds[i].ToString(CultureInfo.InvariantCulture)).Append("\"} ")
              .Append(Math.Min(cumulative[i], count).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        sb.Append(name).Append("_bucket{le=\"+Inf\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append(name).Append("_sum ").Append(histogram.SumSeconds.ToString("0.######", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append(name).Append("_count ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>A label value as the text exposition format writes it: backslash, double quote and newline escaped.</summary>
    public static string EscapeLabelValue(string value) => Guard.NotNull(value).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

/// <summary>
/// Serves <c>/metrics</c> (Prometheus text) and <c>/health</c> (JSON: status, model, flows in/scored, in flight) on a
/// loopback port, for as long as the monitor runs.
/// </summary>
public sealed class MetricsServer : IAsyncDisposable
{
    private readonly LoopbackHttpServer _server;
    private readonly DetectionPipeline _pipeline;

    /// <summary>Prepares a server for <paramref name="pipeline"/> on 127.0.0.1:<paramref name="port"/> (connection failures to <paramref name="logger"/>).</summary>
    public MetricsServer(DetectionPipeline pipeline, int port, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        _pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
        _server = new LoopbackHttpServer(IPAddress.Loopback, port, Answer, logger: logger);
    }

    /// <summary>The port served.</summary>
    public int Port => _server.EndPoint.Port;

    /// <summary>Binds the port and starts serving.</summary>
    /// <exception cref="IOException">The port could not be bound.</exception>
    public void Start() => _server.Start();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private HttpReply Answer(string path)
    {
        if (path == "/metrics")
        {
            return new HttpReply(200, "text/plain; version=0.0.4; charset=utf-8", PrometheusText.Render(_pipeline));
        }

        if (path == "/health")
        {
            var model = _pipeline.Model.Current;
            var counters = _pipeline.Counters;
            string body = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["status"] = _pipeline.Running ? "ok" : "stopped",
                ["model"] = model.Source,
                ["model_sha256"] = model.Sha256,
                ["flows_in"] = counters.FlowsIn,
                ["flows_scored"] = counters.FlowsScored,
                ["in_flight"] = counters.InFlight,
            });
            return new HttpReply(_pipeline.Running ? 200 : 503, "application/json", body);
        }

        return HttpReply.Text(404, "not found: try /metrics or /health\n");
    }
}
