using System.Globalization;
using System.Text;
using Stakeout.Core;
using Stakeout.Ledger.Log;
using Stakeout.Ledger.Records;

namespace Stakeout.Cluster;

/// <summary>
/// The ledger writer's store in the threat ledger itself: each alert (its EVE JSON, as workers publish it) becomes a
/// threat record appended to a signed RFC 9162 log (<see cref="LedgerLog"/>), and <see cref="FlushAsync"/> is a signed,
/// fsynced checkpoint, so an alert is acknowledged only once a checkpoint that `ledger verify` checks holds it.
/// <para>
/// Deduplication by alert id needs the ids of records already in the log, and a sealed record's id cannot be read
/// without a recipient's key, so the store keeps them in <c>DIR/alert-ids.tsv</c>: one line <c>INDEX\tALERT_ID</c> per
/// record, in log order. The index is fsynced before the checkpoint that commits its records, so every durable record
/// has its line; on open, lines past the log's durable size (a commit that never finished: its messages were never
/// acknowledged and come again) are cut, and an index that covers fewer records than the log, or skips or repeats an
/// index or an id, is an error that names the line.
/// </para>
/// </summary>
public sealed class LedgerAlertStore : IAlertAppendStore
{
    /// <summary>The index file's name in the ledger directory.</summary>
    public const string IndexFile = "alert-ids.tsv";

    // What parse errors name as the alert's source (the line number is the record's position in the log, from 1).
    private const string Source = "alert stream";

    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly LedgerLog _log;
    private readonly Func<ThreatObservation, byte[]> _record;
    private readonly FileStream _index;
    private long _rejected;

    private LedgerAlertStore(LedgerLog log, Func<ThreatObservation, byte[]> record, FileStream index, string indexPath)
    {
        _log = log;
        _record = record;
        _index = index;
        IndexPath = indexPath;
    }

    /// <summary>The index file.</summary>
    public string IndexPath { get; }

    /// <summary>Index lines cut on open because their commit never became durable.</summary>
    public long IndexLinesCut { get; private set; }

    /// <summary>The log appended to.</summary>
    public LedgerLog Log => _log;

    /// <inheritdoc />
    public long Count => _log.Size;

    /// <summary>Alerts refused because their EVE JSON is not a readable alert.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>
    /// Opens the store over <paramref name="log"/> (already opened at its durable head), with its index in
    /// <paramref name="directory"/>; <paramref name="record"/> turns an alert into the record's bytes (canonical STIX, sealed
    /// when the ledger has recipients).
    /// </summary>
    public static LedgerAlertStore Open(string directory, LedgerLog log, Func<ThreatObservation, byte[]> record)
    {
        Guard.NotBlank(directory);
        Guard.NotNull(log);
        Guard.NotNull(record);
        if (log.PendingCount > 0)
        {
            throw new ArgumentException("the log has uncommitted records: open the store on a freshly opened log.", nameof(log));
        }

        string path = Path.Combine(directory, IndexFile);
        var index = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        try
        {
            var store = new LedgerAlertStore(log, record, index, path);
            store.Load();
            index.Seek(0, SeekOrigin.End);
            return store;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>Reads an index file: (log index, alert id) per line, for checks and tests.</summary>
    public static IEnumerable<(long Index, string AlertId)> ReadIndex(string path)
    {
        foreach (string line in File.ReadLines(path, Encoding.UTF8))
        {
            if (line.Length == 0)
            {
                continue;
            }

            int tab = line.IndexOf('\t', StringComparison.Ordinal);
            yield return (long.Parse(line.AsSpan(0, tab), NumberStyles.None, CultureInfo.InvariantCulture), line[(tab + 1)..]);
        }
    }

    /// <summary>True when <paramref name="alertId"/> is held.</summary>
    public bool Contains(string alertId) => _ids.Contains(alertId);

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">The alert's JSON is not a readable EVE alert (nothing is appended).</exception>
    public bool AppendIfNew(string alertId, ReadOnlySpan<byte> record)
    {
        Guard.NotBlank(alertId);
        if (alertId.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
        {
            throw Reject($"alert id '{alertId.ReplaceLineEndings(" ")}' holds a tab or line break.", null);
        }

        if (_ids.Contains(alertId))
        {
            return false;
        }

        ThreatObservation? observation;
        try
        {
            if (!EveObservationReader.TryRead(record, Source, _log.Size + 1, out observation))
            {
                throw Reject($"alert {alertId}: {Source}: an EVE event but not an alert", null);
            }
        }
        catch (EveFormatException e)
        {
            throw Reject($"alert {alertId}: {e.Message}", e);
        }

        long at = _log.Append(_record(observation!));
        _ids.Add(alertId);
        byte[] line = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{at}\t{alertId}\n"));
        _index.Write(line);
        return true;
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        // Index first: a durable record must always have its id line; a line without a durable record is cut on open.
        _index.Flush(flushToDisk: true);
        await _log.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose() => _index.Dispose();

    private InvalidDataException Reject(string message, Exception? inner)
    {
        Interlocked.Increment(ref _rejected);
        return new InvalidDataException(message, inner);
    }

    private void Load()
    {
        var bytes = new byte[_index.Length];
        _index.ReadExactly(bytes);
        long durable = _log.DurableSize;
        int start = 0, lineNumber = 0;
        long expected = 0;
        long keepBytes = 0;
        while (start < bytes.Length)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', start);
            if (nl < 0)
            {
                // A torn last line: its commit cannot have been durable (the index is fsynced before the checkpoint).
                break;
            }

            lineNumber++;
            string line = Encoding.UTF8.GetString(bytes, start, nl - start);
            int tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab <= 0 || !long.TryParse(line.AsSpan(0, tab), NumberStyles.None, CultureInfo.InvariantCulture, out long index) || tab == line.Length - 1)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{IndexPath}:{lineNumber}: not an index line (INDEX<tab>ALERT_ID)."));
            }

            if (index != expected)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{IndexPath}:{lineNumber}: field INDEX is {index}, expected {expected} (a gap or repeat: the index was edited or damaged)."));
            }

            if (index >= durable)
            {
                // Appended but never committed: cut here; the alerts come again and get these positions anew.
                break;
            }

            string id = line[(tab + 1)..];
            if (!_ids.Add(id))
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{IndexPath}:{lineNumber}: field ALERT_ID '{id}' appears a second time."));
            }

            expected++;
            start = nl + 1;
            keepBytes = start;
        }

        if (expected < durable)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{IndexPath}: names {expected} alert id(s) but the ledger holds {durable} durable record(s): records were appended without this index (by `ledger append` or `monitor --ledger` into the same directory), or the index was cut. Give the ledger writer a directory of its own."));
        }

        if (keepBytes < bytes.Length)
        {
            IndexLinesCut = bytes.AsSpan((int)keepBytes).Count((byte)'\n') + (bytes[^1] == (byte)'\n' ? 0 : 1);
            _index.SetLength(keepBytes);
            _index.Flush(flushToDisk: true);
        }
    }
}
