using Microsoft.Extensions.Logging;

namespace Stakeout.Ledger.Ipfs;

/// <summary>The replicator's log lines, compiled once (no formatting when the level is off).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Replication to IPFS node {Node} failed ({Pending} steps pending, retrying with backoff): {Problem}")]
    public static partial void ReplicationFailed(ILogger logger, string node, int pending, string problem);

    [LoggerMessage(2, LogLevel.Information, "IPFS node {Node} is back: replication resumed after {Failures} failed rounds, {Pending} steps pending")]
    public static partial void ReplicationResumed(ILogger logger, string node, int failures, int pending);
}
