using System.Text.Json.Serialization;

namespace Stakeout.Dashboard;

/// <summary>
/// Where the dashboard asks whether an alert is in the threat ledger and whether its record verifies. The ledger is
/// built elsewhere; the CLI plugs an implementation in when it has one. Until then <see cref="NoLedger"/> answers "not
/// recorded" for every alert.
/// </summary>
public interface IAlertLedger
{
    /// <summary>A short name of the ledger shown on the page ("none", "local log at ...").</summary>
    string Description { get; }

    /// <summary>The ledger record of <paramref name="alert"/>, or null when it is not recorded.</summary>
    ValueTask<LedgerRecordStatus?> FindAsync(DashboardAlert alert, CancellationToken cancellationToken);
}

/// <summary>An alert's ledger record as the detail page shows it.</summary>
/// <param name="RecordId">The record's address (e.g. a CID) or index.</param>
/// <param name="Verification">"verified", "failed" or "pending".</param>
/// <param name="Detail">What was checked, or why it failed.</param>
/// <param name="RecordedAt">When the record was appended.</param>
public sealed record LedgerRecordStatus(
    [property: JsonPropertyName("record_id")] string RecordId,
    [property: JsonPropertyName("verification")] string Verification,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("recorded_at")] DateTimeOffset? RecordedAt);

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
