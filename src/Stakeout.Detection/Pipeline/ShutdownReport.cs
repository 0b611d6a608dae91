using System.Text.Json.Serialization;

namespace Stakeout.Detection;

/// <summary>
/// How a run ended once its sources were told to stop (summary.json's <c>shutdown</c>): how long the drain took against
/// its bound, and, when the bound ran out, exactly what was not flushed.
/// </summary>
/// <param name="Stopped">True when the run was told to stop (signal, duration, flow limit); false when its sources ended by themselves.</param>
/// <param name="Seconds">From the stop signal to the end of the drain.</param>
/// <param name="BoundSeconds">The shutdown bound in force (<c>--shutdown-timeout</c>).</param>
/// <param name="Complete">True when everything that came in was scored and written and every sink closed within the bound.</param>
/// <param name="AbandonedSources">Sources that did not stop within half the bound (their unread input was never read).</param>
/// <param name="FlowsNotProcessed">Flows counted in but not scored when the bound ran out (dropped as <c>shutdown_timeout</c>, or still in flight).</param>
/// <param name="AlertsNotWritten">Alerts the sinks could not write before the bound.</param>
/// <param name="SinksNotClosed">Sinks whose close (final flush) had not finished at the bound.</param>
/// <param name="Signal">True when a signal (Ctrl-C, SIGTERM) bounded the drain; a natural end (duration, flow limit) drains fully.</param>
public sealed record ShutdownReport(
    [property: JsonPropertyName("stopped")] bool Stopped,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("bound_seconds")] double BoundSeconds,
    [property: JsonPropertyName("complete")] bool Complete,
    [property: JsonPropertyName("abandoned_sources")] IReadOnlyList<string> AbandonedSources,
    [property: JsonPropertyName("flows_not_processed")] long FlowsNotProcessed,
    [property: JsonPropertyName("alerts_not_written")] long AlertsNotWritten,
    [property: JsonPropertyName("sinks_not_closed")] IReadOnlyList<string> SinksNotClosed,
    [property: JsonPropertyName("signal")] bool Signal = false)
{
    /// <summary>A run whose sources ended by themselves: nothing was cut short by a stop.</summary>
    public static ShutdownReport NotStopped { get; } = new(false, 0, 0, true, [], 0, 0, []);
}
