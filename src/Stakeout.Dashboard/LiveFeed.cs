using Stakeout.Detection;

namespace Stakeout.Dashboard;

/// <summary>Feeds a <see cref="DashboardState"/> from a running pipeline: its alerts (through an <see cref="AlertHub"/> subscription) and its counters.</summary>
public static class LiveFeed
{
    /// <summary>Takes every alert of <paramref name="subscription"/> into <paramref name="state"/> until the pipeline ends or the token fires.</summary>
    public static async Task PumpAlertsAsync(AlertHub.Subscription subscription, DashboardState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(state);
        try
        {
            await foreach (var alert in subscription.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                state.Add(AlertConversion.FromAlert(alert));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the dashboard keeps what it has.
        }
    }

    /// <summary>Samples <paramref name="counters"/> every <paramref name="interval"/> into <paramref name="state"/> until the token fires.</summary>
    public static async Task SampleCountersAsync(DetectionCounters counters, DashboardState state, TimeSpan interval, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counters);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        state.Record(Sample(counters, time));
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                state.Record(Sample(counters, time));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>The counters now, as a sample.</summary>
    public static CounterSample Sample(DetectionCounters counters, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(counters);
        ArgumentNullException.ThrowIfNull(time);
        var s = counters.Snapshot();
        return new CounterSample(time.GetUtcNow(), s.FlowsIn, s.FlowsScored, s.FlowsRejected, s.FlowsDropped, s.AlertFlows, s.AlertsEmitted);
    }
}
