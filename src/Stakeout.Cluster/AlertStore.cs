namespace Stakeout.Cluster;

/// <summary>
/// Where the ledger writer puts alerts: an append-only store that takes each alert id once.
/// <see cref="LedgerAlertStore"/> is the threat ledger's (a signed Merkle log).
/// </summary>
public interface IAlertAppendStore : IDisposable
{
    /// <summary>Records held.</summary>
    long Count { get; }

    /// <summary>
    /// Appends <paramref name="record"/> (one alert as EVE JSON) under <paramref name="alertId"/> unless that id is
    /// already held; true when appended. Not durable until <see cref="FlushAsync"/> returns. Throws
    /// <see cref="InvalidDataException"/> (and appends nothing) for a record that is not a readable alert.
    /// </summary>
    bool AppendIfNew(string alertId, ReadOnlySpan<byte> record);

    /// <summary>Makes every append so far durable (fsync); only then may their messages be acknowledged.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}
