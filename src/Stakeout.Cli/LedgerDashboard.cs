using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Stakeout.Dashboard;
using Stakeout.Detection;
using Stakeout.Ledger.Checkpoints;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Records;
using Stakeout.Ledger.Storage;

namespace Stakeout.Cli;

internal static partial class LedgerCommands
{
    /// <summary>
    /// The dashboard's view of the threat ledger: finds an alert's record by its id (derived from the alert, so a sealed
    /// record is found too) and verifies it on every request by walking the log from its head with the trusted key only
    /// (<see cref="RecordChecker"/>), so a block altered on disk shows as failed the next time the alert is opened.
    /// Live (`monitor --ledger --dashboard`) the ledger sink registers each record as it appends it; for a stored run
    /// (`dashboard RUN --ledger DIR`) the index is read once from the log's unsealed records.
    /// </summary>
    internal sealed class DashboardLedger : IAlertLedger
    {
        private readonly DirectoryBlockStore _store;
        private readonly FileHeadPointer _head;
        private readonly byte[] _trustedKey;
        private readonly StixRecordBuilder _builder;
        private readonly ConcurrentDictionary<string, long> _indexById = new(StringComparer.Ordinal);
        private readonly bool _live;

        private DashboardLedger(string dir, byte[] trustedKey, string sensor, bool live, string description)
        {
            _store = new DirectoryBlockStore(dir);
            _head = new FileHeadPointer(dir);
            _trustedKey = trustedKey;
            _builder = new StixRecordBuilder(sensor);
            _live = live;
            KeyId = Ed25519.KeyId(trustedKey);
            Description = description;
        }

        public string Description { get; }

        /// <summary>The id of the key every checkpoint must be signed with.</summary>
        public string KeyId { get; }

        /// <summary>Records indexed by id (sealed ones are counted apart for a stored run: they cannot be indexed unopened).</summary>
        public int Indexed => _indexById.Count;

        /// <summary>The view of the ledger a running monitor writes: checked against the sensor's own public key.</summary>
        internal static DashboardLedger ForWriter(string dir, LedgerLog log, byte[] publicKey, string sensor) =>
            new(dir, publicKey, sensor, live: true, $"local log {Path.GetFullPath(dir)} ({log.Origin}), written by this monitor");

        /// <summary>
        /// Opens the ledger of a stored run for reading: the sensor from DIR/ledger.json, the key from --trusted-key (else
        /// the directory's own, with a warning), and an index of the unsealed records' ids from a verified walk.
        /// </summary>
        internal static async Task<(DashboardLedger Ledger, int Sealed)> OpenStoredAsync(string dir, string? trustedKey, CancellationToken cancel)
        {
            var (_, headCid, key) = await ResolveAsync(dir, trustedKey, checkpoint: null, cancel).ConfigureAwait(false);
            var config = await ReadConfigAsync(dir, cancel).ConfigureAwait(false)
                ?? throw new ArgumentException($"{Path.Combine(dir, ConfigFile)} is missing or empty: {dir} is not a Stakeout ledger directory.");
            var ledger = new DashboardLedger(dir, key, config.Sensor, live: false,
                $"local log {Path.GetFullPath(dir)} ({config.Origin}), trusted key {Ed25519.KeyId(key)}{(trustedKey is null ? " read from the directory itself" : "")}");
            int sealedCount = 0;
            var report = await LedgerVerifier.VerifyAsync(ledger._store, headCid, new VerifyOptions
            {
                TrustedKey = key,
                OnRecord = (i, record) =>
                {
                    if (Stakeout.Ledger.Crypto.RecordSealer.IsSealed(record))
                    {
                        sealedCount++;
                        return;
                    }

                    using var doc = JsonDocument.Parse(record);
                    if (doc.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
                    {
                        ledger._indexById.TryAdd(id.GetString()!, i);
                    }
                },
            }, cancel).ConfigureAwait(false);
            if (!report.Ok)
            {
                // Still served: the detail page of every alert says the log fails and where; the operator sees it now too.
                await Console.Error.WriteLineAsync($"warning: {dir}: the ledger does not verify: {report.Failure}").ConfigureAwait(false);
            }

            return (ledger, sealedCount);
        }

        /// <summary>The ledger sink appended the record of <paramref name="observation"/> as record <paramref name="index"/>.</summary>
        public void Register(ThreatObservation observation, long index) => _indexById[_builder.RecordId(observation)] = index;

        public async ValueTask<LedgerRecordStatus?> FindAsync(DashboardAlert alert, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(alert);
            string recordId = _builder.RecordId(ObservationOf(alert));
            if (!_indexById.TryGetValue(recordId, out long index))
            {
                // Live, the sink has its own buffer: an alert just shown may not be appended yet. A stored run is complete.
                return _live
                    ? new LedgerRecordStatus(recordId, "pending", "not appended yet: the ledger sink has not reached this alert", null)
                    : null;
            }

            var check = await RecordChecker.CheckAsync(_store, _head, _trustedKey, index, cancellationToken).ConfigureAwait(false);
            return new LedgerRecordStatus(
                recordId,
                check.Standing switch { RecordStanding.Verified => "verified", RecordStanding.Pending => "pending", _ => "failed" },
                check.Describe(KeyId),
                check.Head?.Time)
            {
                Index = index,
                Check = check.Failure?.Check,
                Checkpoint = check.HeadCid?.ToString(),
                CheckpointSize = check.Head?.Size,
                KeyId = KeyId,
                Sealed = check.Sealed,
                Record = check.Record is { } bytes && !check.Sealed ? Encoding.UTF8.GetString(bytes) : null,
            };
        }

        /// <summary>
        /// The fields of the alert that make its record id, as the ledger sink saw them: the emission time goes through
        /// the EVE line's microsecond form, as the sink's records do.
        /// </summary>
        private static ThreatObservation ObservationOf(DashboardAlert alert)
        {
            if (!EveObservationReader.TryParseTimestamp(EveWriter.FormatTimestamp(alert.Timestamp), out var timestamp))
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"alert {alert.Id}: its timestamp does not round-trip through the EVE form."));
            }

            return new ThreatObservation
            {
                Timestamp = timestamp,
                FlowId = alert.FlowId,
                Signature = alert.Signature,
                Category = alert.Category,
                Severity = alert.Severity,
                Score = alert.Score,
                FirstSeen = alert.FirstSeen,
                LastSeen = alert.LastSeen,
                Stream = alert.Stream.Length > 0 ? alert.Stream : null,
                Line = alert.Line > 0 ? alert.Line : null,
            };
        }
    }
}
