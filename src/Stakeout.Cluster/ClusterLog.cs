using Microsoft.Extensions.Logging;

namespace Stakeout.Cluster;

/// <summary>The cluster's log messages (structured, allocation-free when disabled).</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(101, LogLevel.Warning, "NATS at {Servers} unreachable (attempt {Attempt}): {Problem}; retrying in {DelayMs} ms")]
    public static partial void ConnectRetry(ILogger logger, string servers, int attempt, string problem, int delayMs);

    [LoggerMessage(102, LogLevel.Information, "{Who}: connected to NATS {Server}")]
    public static partial void Connected(ILogger logger, string who, string server);

    [LoggerMessage(103, LogLevel.Warning, "{Who}: lost the connection to NATS ({Reason}); the client reconnects to any server of {Servers}")]
    public static partial void Disconnected(ILogger logger, string who, string reason, string servers);

    [LoggerMessage(104, LogLevel.Warning, "{Who}: {Operation} failed (attempt {Attempt}): {Problem}; retrying in {DelayMs} ms")]
    public static partial void OperationRetry(ILogger logger, string who, string operation, int attempt, string problem, int delayMs);

    [LoggerMessage(105, LogLevel.Information, "{Who}: stream {Stream} created ({Replicas} replica(s), {Retention} retention, discard {Discard}, max age {MaxAge}, max bytes {MaxBytes}, max messages {MaxMessages})")]
    public static partial void StreamCreated(ILogger logger, string who, string stream, int replicas, string retention, string discard, TimeSpan maxAge, long maxBytes, long maxMessages);

    [LoggerMessage(106, LogLevel.Warning, "{Who}: stream {Stream} exists with {Existing}; the options asked for {Wanted} and are not applied (edit the stream to change it)")]
    public static partial void StreamDiffers(ILogger logger, string who, string stream, string existing, string wanted);

    [LoggerMessage(107, LogLevel.Error, "{Who}: message {Subject} #{Sequence} is not a flow batch and is terminated (never redelivered): {Problem}")]
    public static partial void BadMessage(ILogger logger, string who, string subject, ulong sequence, string problem);

    [LoggerMessage(108, LogLevel.Information, "{Who}: {Status}")]
    public static partial void Status(ILogger logger, string who, string status);

    [LoggerMessage(109, LogLevel.Warning, "{Who}: {Problem}")]
    public static partial void Warning(ILogger logger, string who, string problem);

    [LoggerMessage(110, LogLevel.Information, "{Who}: model {Sha} ({Source}) now scores new batches")]
    public static partial void ModelSwapped(ILogger logger, string who, string sha, string source);
}
