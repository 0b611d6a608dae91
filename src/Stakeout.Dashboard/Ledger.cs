using System.Text.Json.Serialization;

namespace Stakeout.Dashboard;

/// <summary>
/// Where the dashboard asks whether an alert is in the threat ledger and whether its record verifies. The ledger is
/// built elsewhere (Stakeout.Ledger): the CLI plugs an implementation in when the run writes or names one; without it
/// <see cref="NoLedger"/> answers "not recorded" for every alert.
/// </summary>
public interface IAlertLedger
{
    /// <summary>A short name of the ledger shown on the page ("none", "local log at ...").</summary>
    string Description { get; }

    /// <summary>The ledger record of <paramref name="alert"/>, or null when it is not recorded.</summary>
    ValueTask<LedgerRecordStatus?> FindAsync(DashboardAlert alert, CancellationToken cancellationToken);
}

/// <summary>An alert's ledger record as the detail page shows it.</summary>
/// <param name="RecordId">The record's id (the STIX bundle id).</param>
/// <param name="Verification">"verified", "failed" or "pending".</param>
/// <param name="Detail">What was checked, or why it failed.</param>
/// <param name="RecordedAt">When the checkpoint that holds it was signed (null while pending).</param>
public sealed record LedgerRecordStatus(
    [property: JsonPropertyName("record_id")] string RecordId,
    [property: JsonPropertyName("verification")] string Verification,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("recorded_at")] DateTimeOffset? RecordedAt)
{
    /// <summary>The record's index in the log.</summary>
    [JsonPropertyName("index")] public long? Index { get; init; }

    /// <summary>The failed check's name (e.g. <c>block-hash</c>), when verification failed.</summary>
    [JsonPropertyName("check")] public string? Check { get; init; }

    /// <summary>The head checkpoint's CID the record was checked against.</summary>
    [JsonPropertyName("checkpoint")] public string? Checkpoint { get; init; }

    /// <summary>Records in that checkpoint's tree.</summary>
    [JsonPropertyName("checkpoint_size")] public long? CheckpointSize { get; init; }

    /// <summary>The id of the key that must have signed it.</summary>
    [JsonPropertyName("key_id")] public string? KeyId { get; init; }

    /// <summary>True when the record is sealed to recipients (the log still verifies it without their keys).</summary>
    [JsonPropertyName("sealed")] public bool Sealed { get; init; }

    /// <summary>The stored record (canonical STIX JSON), null when sealed or when its bytes failed their check.</summary>
    [JsonPropertyName("record")] public string? Record { get; init; }
}

/// <summary>No ledger: every alert is "not recorded".</summary>
public sealed class NoLedger : IAlertLedger
{
    /// <summary>The one instance.</summary>
    public static NoLedger Instance { get; } = new();

    /// <inheritdoc />
    public string Description => "no ledger configured";

    /// <inheritdoc />
    public ValueTask<LedgerRecordStatus?> FindAsync(DashboardAlert alert, CancellationToken cancellationToken) => ValueTask.FromResult<LedgerRecordStatus?>(null);
}
