using Stakeout.Core;

namespace Stakeout.Detection;

/// <summary>
/// The pipeline's score and policy stages for one batch at a time, for callers that own their delivery (a cluster
/// worker acknowledges a batch only once its alerts are durably published). The same <see cref="ScoringBatch"/>,
/// <see cref="AlertPolicy"/> and explanation as <see cref="DetectionPipeline"/>, so a worker alerts on exactly the
/// flows a monitor would; aggregation is off (every alerting flow is one alert), because folding across batches would
/// tie one batch's acknowledgement to another's. Not thread-safe: one per scoring loop.
/// </summary>
public sealed class FlowBatchScorer
{
    private readonly AlertPolicy _policy;
    private readonly AlertAggregator _aggregator;
    private readonly TimeProvider _time;
    private readonly double[] _contributions = new double[FeatureSchema.Count + 1];
    private ScoringBatch _batch;

    /// <summary>Creates a scorer with the threshold, allow-list and explanation settings of <paramref name="options"/>.</summary>
    public FlowBatchScorer(DetectionOptions options, TimeProvider? time = null)
    {
        var validated = Guard.NotNull(options).Validate() with { AggregationWindow = TimeSpan.Zero };
        _time = time ?? TimeProvider.System;
        _policy = new AlertPolicy(validated);
        _aggregator = new AlertAggregator(TimeSpan.Zero, validated.MaxAggregationGroups, closeOnClock: false, _time);
        _batch = new ScoringBatch(validated.BatchSize);
    }

    /// <summary>Accounting over every batch scored: in, scored, alerting flows by class, alerts, allow-listed.</summary>
    public DetectionCounters Counters { get; } = new();

    /// <summary>Top sources and targets of alerting flows.</summary>
    public AlertStatistics Statistics { get; } = new();

    /// <summary>Time to score one batch (model only, not the policy).</summary>
    public LatencyHistogram BatchLatency { get; } = new();

    /// <summary>
    /// Scores the first <see cref="FlowBatch.Count"/> rows of <paramref name="flows"/> with <paramref name="model"/> and
    /// returns one alert per flow (with its row index) that reaches its class's threshold (allow-listed flows excepted), in row order, each
    /// naming <paramref name="stream"/>, the row's line and the model's SHA-256.
    /// </summary>
    public IReadOnlyList<BatchAlert> Score(ModelHandle model, FlowBatch flows, string stream)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(flows);
        Guard.NotBlank(stream);
        if (flows.Count > _batch.Capacity)
        {
            _batch = new ScoringBatch(flows.Count);
        }

        var batch = _batch;
        batch.Flows.Count = 0;
        long received = _time.GetTimestamp();
        for (int r = 0; r < flows.Count; r++)
        {
            batch.Add(flows, r, stream, received);
        }

        Counters.AddIn(flows.Count);
        var alerts = new List<BatchAlert>();
        if (flows.Count == 0)
        {
            return alerts;
        }

        batch.Score(model);
        BatchLatency.Record(_time.GetElapsedTime(received));
        Counters.AddScored(batch.Count);
        Counters.AddBatch();
        _policy.Evaluate(batch, _time, Counters, Statistics, _aggregator, (candidate, count, first, last, _) =>
        {
            Counters.AddEmitted(1);
            alerts.Add(new BatchAlert(candidate.BatchRow, _policy.ToAlert(candidate, count, first, last, _time.GetUtcNow(), _contributions)));
        });
        return alerts;
    }

    /// <summary>Counts flows that reached the caller but could not be scored (e.g. an undecodable message), by reason.</summary>
    public void CountRejected(string reason, long flows)
    {
        Guard.NotBlank(reason);
        Counters.AddIn(flows);
        Counters.AddRejected(reason, flows);
    }
}

/// <summary>An alert and the index of the row of the scored batch it is for (stable across re-scoring the same batch).</summary>
/// <param name="Row">0-based row in the batch.</param>
/// <param name="Alert">The alert.</param>
public sealed record BatchAlert(int Row, Alert Alert);
