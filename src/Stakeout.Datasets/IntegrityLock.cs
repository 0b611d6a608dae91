using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stakeout.Datasets;

/// <summary>
/// The size and SHA-256 of an archive as first downloaded, kept beside the data (<c>stakeout-dataset.lock.json</c>).
/// Trust on first use: a later download of the same archive must match it byte for byte, so a mirror that changes
/// the file, or a transfer that corrupts it, is caught even where the publisher records no checksum.
/// </summary>
public sealed record LockEntry(
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("variant")] string Variant,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("fetched_utc")] DateTimeOffset FetchedUtc);

/// <summary>Reads and writes the lock file; one entry per archive.</summary>
public static class IntegrityLock
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The entries in <paramref name="path"/>; empty when the file does not exist.</summary>
    /// <exception cref="DatasetException">The file exists but is not a lock file.</exception>
    public static IReadOnlyList<LockEntry> Read(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<List<LockEntry>>(File.ReadAllText(path), Json) ?? [];
        }
        catch (JsonException ex)
        {
            throw new DatasetException(DatasetFailure.Integrity, $"{path} is not a Stakeout dataset lock file (line {ex.LineNumber + 1}: {ex.Message}); restore it, or delete it to trust the next download.", ex);
        }
    }

    /// <summary>Removes the entry of <paramref name="dataset"/>/<paramref name="variant"/>, if there is one.</summary>
    public static void Remove(string path, string dataset, string variant)
    {
        var entries = Read(path);
        var kept = entries.Where(e => !(e.Dataset == dataset && e.Variant == variant)).ToList();
        if (kept.Count == entries.Count)
        {
            return;
        }

        string temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(kept, Json) + "\n");
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Replaces or adds <paramref name="entry"/> (matched by dataset and variant) and writes the file atomically.</summary>
    public static void Write(string path, LockEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var entries = Read(path).Where(e => !(e.Dataset == entry.Dataset && e.Variant == entry.Variant)).Append(entry)
            .OrderBy(e => e.Dataset, StringComparer.Ordinal).ThenBy(e => e.Variant, StringComparer.Ordinal).ToList();
        string temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(entries, Json) + "\n");
        File.Move(temp, path, overwrite: true);
    }
}
