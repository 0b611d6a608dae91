using Microsoft.Extensions.Logging;

namespace Stakeout.Detection;

/// <summary>The detection runtime's log messages (structured, allocation-free when disabled).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "Source {Source} failed: {Problem}")]
    public static partial void SourceFailed(ILogger logger, Exception exception, string source, string problem);

    [LoggerMessage(2, LogLevel.Error, "Scoring a batch of {Count} flows failed; they are counted as dropped (scoring_error)")]
    public static partial void ScoringFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(3, LogLevel.Error, "A pipeline stage failed: {Problem}")]
    public static partial void StageFailed(ILogger logger, Exception exception, string problem);

    [LoggerMessage(4, LogLevel.Error, "Sink {Sink} could not write {Lost} alert(s) before the drain timeout; last error: {Problem}")]
    public static partial void SinkLost(ILogger logger, string sink, long lost, string? problem);

    [LoggerMessage(5, LogLevel.Information, "Sink {Sink} recovered")]
    public static partial void SinkRecovered(ILogger logger, string sink);

    [LoggerMessage(6, LogLevel.Warning, "Sink {Sink} failed ({Alerts} alert(s) kept); retrying in {DelayMs} ms")]
    public static partial void SinkFailed(ILogger logger, Exception exception, string sink, int alerts, int delayMs);

    [LoggerMessage(7, LogLevel.Information, "{Source}: {Change}")]
    public static partial void FileChanged(ILogger logger, string source, string change);

    [LoggerMessage(8, LogLevel.Information, "Listening for flows on {Endpoint}")]
    public static partial void Listening(ILogger logger, string endpoint);

    [LoggerMessage(9, LogLevel.Warning, "Connection {Stream} ended: {Error}")]
    public static partial void ConnectionError(ILogger logger, string stream, string error);

    [LoggerMessage(10, LogLevel.Error, "Refused {Stream}: {Problem}")]
    public static partial void StreamRefused(ILogger logger, string stream, string problem);

    [LoggerMessage(11, LogLevel.Information, "Model reloaded from {Source} (sha256 {Sha256})")]
    public static partial void Reloaded(ILogger logger, string source, string sha256);

    [LoggerMessage(12, LogLevel.Error, "Model reload from {Source} refused, the current model stays: {Problem}")]
    public static partial void ReloadRefused(ILogger logger, string source, string problem);

    [LoggerMessage(13, LogLevel.Information, "{Source}: {Packets} packets, {Flows} flows metered, {HandedOver} handed to detection; weird: {Weird}")]
    public static partial void PacketSourceDone(ILogger logger, string source, long packets, long flows, long handedOver, string weird);

    [LoggerMessage(14, LogLevel.Warning, "Drift: {Description}; the model's figures may not hold for this traffic")]
    public static partial void DriftWarning(ILogger logger, string description);
    [LoggerMessage(15, LogLevel.Warning, "Source {Source} did not stop within {Seconds} s of the stop signal; it is abandoned (its unread input is not read)")]
    public static partial void SourceAbandoned(ILogger logger, string source, double seconds);

    [LoggerMessage(16, LogLevel.Error, "Shutdown bound of {Seconds} s reached; not flushed: {Flows} flow(s) unscored, {Alerts} alert(s) unwritten; not finished: {What}")]
    public static partial void ShutdownIncomplete(ILogger logger, double seconds, long flows, long alerts, string what);

    [LoggerMessage(17, LogLevel.Warning, "HTTP endpoint {Endpoint}: accepting a connection failed ({Problem}); serving goes on")]
    public static partial void HttpAcceptFailed(ILogger logger, Exception exception, string endpoint, string problem);

    [LoggerMessage(18, LogLevel.Error, "HTTP endpoint {Endpoint}: a connection failed: {Problem}")]
    public static partial void HttpConnectionFailed(ILogger logger, Exception exception, string endpoint, string problem);
}
