using System.Runtime.CompilerServices;
using Stakeout.Detection;

namespace Stakeout.Cluster.Tests;

public sealed class ClusterMetricsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stakeout-cluster-metrics-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Render_SeveralRejectReasons_OneHelpAndTypeForTheMetric_AndEscapedLabels()
    {
        // The text exposition format allows one HELP and one TYPE line per metric name; Prometheus' parser refuses the
        // page at a second one.
        var (_, model) = ClusterTestKit.Model(_dir);
        var worker = new ClusterWorker(new ClusterOptions(), "metrics", new ModelHolder(model));
        worker.Flows.Rejected["field_count"] = new StrongBox<long>(3);
        worker.Flows.Rejected["bad\"value\\"] = new StrongBox<long>(2);

        string text = ClusterMetrics.Render(worker);

        Assert.Single(text.Split('\n'), l => l.StartsWith("# HELP stakeout_worker_flows_rejected_total ", StringComparison.Ordinal));
        Assert.Single(text.Split('\n'), l => l.StartsWith("# TYPE stakeout_worker_flows_rejected_total ", StringComparison.Ordinal));
        Assert.Contains("stakeout_worker_flows_rejected_total{reason=\"field_count\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("stakeout_worker_flows_rejected_total{reason=\"bad\\\"value\\\\\"} 2\n", text, StringComparison.Ordinal);
        var names = text.Split('\n').Where(l => l.StartsWith("# HELP ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
    }
}
