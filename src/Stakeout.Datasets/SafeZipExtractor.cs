using System.IO.Compression;

namespace Stakeout.Datasets;

/// <summary>Limits that make extraction safe against hostile archives; validated once.</summary>
public sealed record ExtractionLimits
{
    /// <summary>Entries in one archive.</summary>
    public int MaxEntries { get; init; } = 10_000;

    /// <summary>Bytes written in all, counted as they are written (the sizes in the archive's headers can lie).</summary>
    public long MaxTotalBytes { get; init; } = 16L << 30;

    /// <summary>Uncompressed : compressed bytes an entry may reach once past <see cref="RatioFloorBytes"/>.</summary>
    public double MaxRatio { get; init; } = 200;

    /// <summary>Entries smaller than this are never refused for their ratio (tiny files compress absurdly well).</summary>
    public long RatioFloorBytes { get; init; } = 1 << 20;

    public ExtractionLimits Validate()
    {
        if (MaxEntries < 1 || MaxTotalBytes < 1 || MaxRatio < 1 || RatioFloorBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxEntries), "Extraction limits must be positive (ratio at least 1).");
        }

        return this;
    }
}

/// <summary>
/// Extracts a zip archive into a directory, refusing what a hostile archive could do: an entry whose path leaves the
/// directory (<c>../</c>, an absolute path, a drive letter, a backslash path), a symbolic link, more entries or bytes
/// than the limits, or an entry that inflates far beyond its compressed size (a zip bomb). Everything is written to a
/// staging directory first and moved into place only when the whole archive passed, so a refused archive leaves
/// nothing behind.
/// </summary>
public static class SafeZipExtractor
{
    /// <summary>Extracts <paramref name="zipPath"/> into <paramref name="targetDir"/>; returns the files written.</summary>
    /// <exception cref="DatasetException">The archive is unsafe or corrupt; the message names the entry and the rule.</exception>
    public static IReadOnlyList<string> Extract(string zipPath, string targetDir, ExtractionLimits limits, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        string target = Path.GetFullPath(targetDir);
        Directory.CreateDirectory(target);
        string staging = Path.Combine(target, ".stakeout-extract-" + Guid.NewGuid().ToString("N")[..8]);
        var written = new List<string>();
        try
        {
            ZipArchive archive;
            try
            {
                archive = ZipFile.OpenRead(zipPath);
            }
            catch (InvalidDataException ex)
            {
                throw new DatasetException(DatasetFailure.Integrity, $"{zipPath} is not a readable zip archive ({ex.Message}); delete it and download again.", ex);
            }

            using (archive)
            {
                if (archive.Entries.Count > limits.MaxEntries)
                {
                    throw Unsafe(zipPath, null, $"it has {archive.Entries.Count:N0} entries, more than the limit of {limits.MaxEntries:N0}");
                }

                long total = 0;
                byte[] buffer = new byte[1 << 16];
                foreach (var entry in archive.Entries)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    string relative = CheckedRelativePath(zipPath, entry);
                    if (relative.Length == 0)
                    {
                        continue; // a directory entry
                    }

                    string destination = Path.GetFullPath(Path.Combine(staging, relative));
                    if (!destination.StartsWith(staging + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    {
                        throw Unsafe(zipPath, entry.FullName, "its path leaves the target directory");
                    }

                    Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                    long entryBytes = 0;
                    try
                    {
                        using var input = entry.Open();
                        using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write);
                        int n;
                        while ((n = input.Read(buffer, 0, buffer.Length)) > 0)
                        {
                            entryBytes += n;
                            total += n;
                            if (total > limits.MaxTotalBytes)
                            {
                                throw Unsafe(zipPath, entry.FullName, $"the archive inflates to more than {limits.MaxTotalBytes:N0} bytes");
                            }

                            if (entryBytes > limits.RatioFloorBytes && entryBytes > limits.MaxRatio * Math.Max(1, entry.CompressedLength))
                            {
                                throw Unsafe(zipPath, entry.FullName, $"it inflates more than {limits.MaxRatio:0}x its compressed size of {entry.CompressedLength:N0} bytes (a zip bomb)");
                            }

                            output.Write(buffer, 0, n);
                            progress?.Report(total);
                        }
                    }
                    catch (InvalidDataException ex)
                    {
                        throw new DatasetException(DatasetFailure.Integrity, $"{zipPath}: entry '{entry.FullName}' is corrupt ({ex.Message}); delete the archive and download again.", ex);
                    }

                    written.Add(relative);
                }
            }

            var placed = new List<string>(written.Count);
            foreach (string relative in written)
            {
                string final = Path.Combine(target, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(final)!);
                File.Move(Path.Combine(staging, relative), final, overwrite: true);
                placed.Add(final);
            }

            return placed;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>The entry's path with forward slashes, checked for every way it could escape; empty for a directory.</summary>
    private static string CheckedRelativePath(string zipPath, ZipArchiveEntry entry)
    {
        string name = entry.FullName;
        // Unix mode bits live in the high half of the external attributes; 0xA000 is a symbolic link.
        if (((entry.ExternalAttributes >> 16) & 0xF000) == 0xA000)
        {
            throw Unsafe(zipPath, name, "it is a symbolic link");
        }

        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw Unsafe(zipPath, name, "its name holds a NUL character");
        }

        string normalized = name.Replace('\\', '/');
        if (normalized.StartsWith('/') || (normalized.Length >= 2 && normalized[1] == ':'))
        {
            throw Unsafe(zipPath, name, "its path is absolute");
        }

        var parts = normalized.Split('/');
        if (parts.Any(p => p == ".."))
        {
            throw Unsafe(zipPath, name, "its path climbs out with '..'");
        }

        var kept = parts.Where(p => p.Length > 0 && p != ".").ToArray();
        return normalized.EndsWith('/') || kept.Length == 0 ? "" : Path.Combine(kept);
    }

    private static DatasetException Unsafe(string zipPath, string? entry, string why) =>
        new(DatasetFailure.UnsafeArchive, entry is null
            ? $"{zipPath} was not extracted: {why}."
            : $"{zipPath} was not extracted: entry '{entry}' is refused because {why}.");
}
