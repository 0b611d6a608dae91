using System.Globalization;
using System.Text;
using System.Text.Json;
using Stakeout.Core;

namespace Stakeout.Cluster;

/// <summary>
/// Where the ledger writer puts alerts: an append-only store that takes each alert id once. The seam the threat ledger
/// (signed Merkle log) plugs into; <see cref="JsonlAlertStore"/> is the durable local implementation.
/// </summary>
public interface IAlertAppendStore : IDisposable
{
    /// <summary>Records held.</summary>
    long Count { get; }

    /// <summary>
    /// Appends <paramref name="record"/> (one alert as JSON) under <paramref name="alertId"/> unless that id is already
    /// held; true when appended. Not durable until <see cref="Flush"/> returns.
    /// </summary>
    bool AppendIfNew(string alertId, ReadOnlySpan<byte> record);

    /// <summary>Makes every append so far durable (fsync); only then may their messages be acknowledged.</summary>
    void Flush();
}

/// <summary>
/// Alerts as JSON lines in <c>DIR/alerts.jsonl</c>: <c>{"seq":N,"alert_id":"...","alert":{EVE}}</c> with <c>seq</c>
/// counting 1, 2, 3 ... without gaps, each id once. Opening reads the file back (so a restarted writer still
/// deduplicates), checks that sequence numbers run without gap or repeat and that no id appears twice (an error names
/// the line otherwise), and cuts off a last line left incomplete by a crash (its message was never acknowledged, so
/// it is delivered again). <see cref="Flush"/> fsyncs. One writer at a time (an exclusive lock file is held).
/// </summary>
public sealed class JsonlAlertStore : IAlertAppendStore
{
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly FileStream _file;
    private readonly FileStream _lock;
    private long _count;

    /// <summary>Opens (or creates) the store in <paramref name="directory"/>.</summary>
    public JsonlAlertStore(string directory)
    {
        Guard.NotBlank(directory);
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, "alerts.jsonl");
        try
        {
            _lock = new FileStream(System.IO.Path.Combine(directory, "alerts.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"{directory}: another ledger writer holds this store ({ex.Message}).", ex);
        }

        _file = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        Load();
        _file.Seek(0, SeekOrigin.End);
    }

    /// <summary>The JSONL file.</summary>
    public string Path { get; }

    /// <summary>Bytes cut off a torn last line when the store was opened (0 when it was clean).</summary>
    public long TruncatedBytes { get; private set; }

    /// <inheritdoc />
    public long Count => _count;

    /// <summary>True when <paramref name="alertId"/> is held.</summary>
    public bool Contains(string alertId) => _ids.Contains(alertId);

    /// <inheritdoc />
    public bool AppendIfNew(string alertId, ReadOnlySpan<byte> record)
    {
        Guard.NotBlank(alertId);
        if (!_ids.Add(alertId))
        {
            return false;
        }

        using var doc = JsonDocument.Parse(record.ToArray());
        var line = new MemoryStream(record.Length + 96);
        using (var w = new Utf8JsonWriter(line))
        {
            w.WriteStartObject();
            w.WriteNumber("seq", _count + 1);
            w.WriteString("alert_id", alertId);
            w.WritePropertyName("alert");
            doc.RootElement.WriteTo(w);
            w.WriteEndObject();
        }

        line.WriteByte((byte)'\n');
        _file.Write(line.GetBuffer(), 0, (int)line.Length);
        _count++;
        return true;
    }

    /// <inheritdoc />
    public void Flush() => _file.Flush(flushToDisk: true);

    /// <summary>Reads every record of a store file (for checks and tests): sequence number, alert id, alert JSON.</summary>
    public static IEnumerable<(long Seq, string AlertId, JsonElement Alert)> ReadAll(string path)
    {
        foreach (string line in File.ReadLines(path, Encoding.UTF8))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            yield return (root.GetProperty("seq").GetInt64(), root.GetProperty("alert_id").GetString()!, root.GetProperty("alert").Clone());
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        _lock.Dispose();
    }

    private void Load()
    {
        var bytes = new byte[_file.Length];
        _file.ReadExactly(bytes);
        int end = Array.LastIndexOf(bytes, (byte)'\n') + 1;
        if (end < bytes.Length)
        {
            // A crash mid-append: that alert was never flushed or acknowledged, so it comes again.
            TruncatedBytes = bytes.Length - end;
            _file.SetLength(end);
            _file.Flush(flushToDisk: true);
        }

        int start = 0;
        long lineNumber = 0;
        while (start < end)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', start, end - start);
            lineNumber++;
            var line = bytes.AsSpan(start, nl - start);
            start = nl + 1;
            long seq;
            string id;
            try
            {
                var reader = new Utf8JsonReader(line);
                using var doc = JsonDocument.ParseValue(ref reader);
                seq = doc.RootElement.GetProperty("seq").GetInt64();
                id = doc.RootElement.GetProperty("alert_id").GetString() ?? throw new InvalidDataException("alert_id is null");
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or InvalidDataException)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{Path}:{lineNumber}: not a store record ({ex.Message})."), ex);
            }

            if (seq != _count + 1)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{Path}:{lineNumber}: field seq is {seq}, expected {_count + 1} (a gap or repeat: the store was edited or damaged)."));
            }

            if (!_ids.Add(id))
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{Path}:{lineNumber}: field alert_id '{id}' appears a second time."));
            }

            _count++;
        }
    }
}
