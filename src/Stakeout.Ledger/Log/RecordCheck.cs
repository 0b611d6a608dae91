using System.Globalization;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Crypto;
using Stakeout.Ledger.Storage;

namespace Stakeout.Ledger.Log;

/// <summary>How one record stands against the log's current head.</summary>
public enum RecordStanding
{
    /// <summary>The whole log verified with the trusted key, and the record is in the head's signed tree.</summary>
    Verified,

    /// <summary>The log does not verify; <see cref="RecordCheck.Failure"/> says where and which check.</summary>
    Failed,

    /// <summary>The record is not under a signed checkpoint yet (appended, not committed).</summary>
    Pending,
}

/// <summary>One record's verification, as a reader of a single alert wants it.</summary>
/// <param name="Index">The record's index in the log.</param>
/// <param name="Standing">Verified, failed or pending.</param>
/// <param name="Head">The head checkpoint checked against (null when the log has none or it could not be read).</param>
/// <param name="HeadCid">Its CID.</param>
/// <param name="Record">The record's bytes as stored (canonical JSON, or a sealed envelope); null when not reached.</param>
/// <param name="Failure">The first inconsistency of the log, when there is one.</param>
/// <param name="RecordsVerified">Records the walk checked.</param>
/// <param name="CheckpointsVerified">Checkpoints the walk checked.</param>
public sealed record RecordCheck(
    long Index,
    RecordStanding Standing,
    Checkpoint? Head,
    Cid? HeadCid,
    byte[]? Record,
    VerificationFailure? Failure,
    long RecordsVerified,
    int CheckpointsVerified)
{
    /// <summary>True when the stored record is a sealed envelope (readable only by its recipients).</summary>
    public bool Sealed => Record is not null && RecordSealer.IsSealed(Record);

    /// <summary>Whether the failure is this record's own (its bytes, its leaf), rather than elsewhere in the log.</summary>
    public bool FailureIsThisRecord => Failure?.RecordIndex == Index;

    /// <summary>What was checked, or why it failed, in one sentence.</summary>
    public string Describe(string keyId)
    {
        return Standing switch
        {
            RecordStanding.Verified => string.Create(CultureInfo.InvariantCulture,
                $"record {Index} of {Head!.Size}: its block and leaf hash checked, included in the signed tree of checkpoint {HeadCid} (root {Convert.ToHexStringLower(Head.Root)[..16]}…, signed by key {keyId}); {CheckpointsVerified} checkpoint(s) and {RecordsVerified} record(s) verified, each checkpoint consistent with the one before"),
            RecordStanding.Pending => Head is null
                ? string.Create(CultureInfo.InvariantCulture, $"record {Index}: appended, but the log has no signed checkpoint yet")
                : string.Create(CultureInfo.InvariantCulture, $"record {Index}: appended, not yet under a signed checkpoint (the head covers records 0-{Head.Size - 1})"),
            _ => FailureIsThisRecord
                ? $"this record fails verification: {Failure}"
                : $"the log does not verify, so this record cannot be trusted: {Failure}",
        };
    }
}

/// <summary>
/// Checks one record the way a skeptical reader would: the whole log from its head is walked with nothing but the sensor's
/// public key (<see cref="LedgerVerifier"/>: every block against its CID, every checkpoint's signature and consistency,
/// every leaf), and the record's own bytes are kept from that walk. A record is verified only when the whole walk holds,
/// because a tree whose root does not match includes nothing for certain. Costs one full verification per call (about
/// 10^5 records a second); nothing is cached, so a block altered on disk between two calls is caught by the second.
/// </summary>
public static class RecordChecker
{
    /// <summary>Checks record <paramref name="index"/> of the log whose head <paramref name="head"/> names.</summary>
    public static async Task<RecordCheck> CheckAsync(IBlockStore store, IHeadPointer head, byte[] trustedKey, long index, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(trustedKey);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var cid = await head.ResolveAsync(cancellationToken).ConfigureAwait(false);
        if (cid is null)
        {
            return new RecordCheck(index, RecordStanding.Pending, null, null, null, null, 0, 0);
        }

        byte[]? record = null;
        var report = await LedgerVerifier.VerifyAsync(store, cid.Value, new VerifyOptions
        {
            TrustedKey = trustedKey,
            OnRecord = (i, bytes) =>
            {
                if (i == index)
                {
                    record = bytes;
                }
            },
        }, cancellationToken).ConfigureAwait(false);
        RecordStanding standing = !report.Ok ? RecordStanding.Failed
            : index >= report.Head!.Size ? RecordStanding.Pending
            : RecordStanding.Verified;
        return new RecordCheck(index, standing, report.Head, cid, record, report.Failure, report.RecordsVerified, report.CheckpointsVerified);
    }
}
