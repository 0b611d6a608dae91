using System.Security.Cryptography;

namespace Stakeout.Datasets;

/// <summary>How the archive's bytes were checked.</summary>
public enum IntegrityCheck
{
    /// <summary>Against the size and SHA-256 recorded in this repository.</summary>
    KnownHash,

    /// <summary>Against the lock file written by an earlier download.</summary>
    LockFile,

    /// <summary>No earlier record: this download wrote the lock file that later ones must match.</summary>
    LockWritten,
}

/// <summary>What a fetch did.</summary>
public sealed record FetchResult(
    DatasetSource Source,
    DownloadResult Download,
    IntegrityCheck Check,
    bool? PublisherMd5Matched,
    string LockPath,
    IReadOnlyList<string> Extracted,
    bool AlreadyPresent);

/// <summary>Options of one fetch.</summary>
public sealed record FetchOptions
{
    /// <summary>Where the archive, the lock file and the extracted files go.</summary>
    public required string Directory { get; init; }

    /// <summary>Overrides the catalog's address (a mirror, or a local server in tests).</summary>
    public Uri? Url { get; init; }

    /// <summary>Overrides where the publisher's MD5 is read; null keeps the catalog's (only with the default address).</summary>
    public Uri? ChecksumUrl { get; init; }

    /// <summary>The lock file; default <c>DIR/stakeout-dataset.lock.json</c>.</summary>
    public string? LockPath { get; init; }

    /// <summary>Extract the archive after checking it.</summary>
    public bool Extract { get; init; } = true;

    /// <summary>Download again even when a checked archive is already there.</summary>
    public bool Force { get; init; }

    public DownloadOptions Download { get; init; } = new();

    public ExtractionLimits Limits { get; init; } = new();
}

/// <summary>
/// Fetches one archive of a public dataset: resumable download, integrity check (recorded hash, the publisher's MD5
/// when it can be read, and the trust-on-first-use lock file), then safe extraction.
/// </summary>
public sealed class DatasetFetcher(HttpClient http, TimeProvider time)
{
    /// <summary>Lock file name inside the dataset directory.</summary>
    public const string LockFileName = "stakeout-dataset.lock.json";

    public async Task<FetchResult> FetchAsync(DatasetSource source, FetchOptions options, IProgress<DownloadProgress>? download, IProgress<long>? extraction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        System.IO.Directory.CreateDirectory(options.Directory);
        string archive = Path.Combine(options.Directory, source.FileName);
        string lockPath = options.LockPath ?? Path.Combine(options.Directory, LockFileName);
        Uri url = options.Url ?? source.Url;
        Uri? checksumUrl = options.ChecksumUrl ?? (options.Url is null ? source.ChecksumUrl : null);
        var locked = IntegrityLock.Read(lockPath).FirstOrDefault(e => e.Dataset == source.Dataset && e.Variant == source.Variant);

        DownloadResult result;
        bool present = false;
        if (!options.Force && File.Exists(archive))
        {
            var (bytes, sha) = await ResumableDownloader.HashAsync(archive, cancellationToken).ConfigureAwait(false);
            result = new DownloadResult(archive, bytes, sha, bytes, 0);
            present = true;
        }
        else
        {
            var downloader = new ResumableDownloader(http, options.Download, time);
            result = await downloader.DownloadAsync(url, archive, download, cancellationToken).ConfigureAwait(false);
        }

        bool? md5 = checksumUrl is null ? null : await CheckPublisherMd5Async(checksumUrl, archive, cancellationToken).ConfigureAwait(false);
        if (md5 == false)
        {
            Quarantine(archive);
            throw new DatasetException(DatasetFailure.Integrity, $"{archive} does not match the MD5 the publisher lists at {checksumUrl}; it was moved to {archive}.bad. Run the command again to download it anew.");
        }

        IntegrityCheck check;
        if (source.KnownSha256 is not null)
        {
            if (result.Bytes != source.KnownSize || !string.Equals(result.Sha256, source.KnownSha256, StringComparison.Ordinal))
            {
                Quarantine(archive);
                throw new DatasetException(DatasetFailure.Integrity, $"{archive} ({result.Bytes:N0} bytes, SHA-256 {result.Sha256}) is not the archive recorded in Stakeout ({source.KnownSize:N0} bytes, {source.KnownSha256}); moved to {archive}.bad.");
            }

            check = IntegrityCheck.KnownHash;
        }
        else if (locked is not null)
        {
            if (result.Bytes != locked.Bytes || !string.Equals(result.Sha256, locked.Sha256, StringComparison.Ordinal))
            {
                Quarantine(archive);
                throw new DatasetException(
                    DatasetFailure.Integrity,
                    $"{archive} ({result.Bytes:N0} bytes, SHA-256 {result.Sha256}) does not match {lockPath} ({locked.Bytes:N0} bytes, {locked.Sha256}, fetched {locked.FetchedUtc:yyyy-MM-dd}); moved to {archive}.bad. If the publisher really changed the file, delete that entry of the lock file and fetch again.");
            }

            check = IntegrityCheck.LockFile;
        }
        else
        {
            IntegrityLock.Write(lockPath, new LockEntry(source.Dataset, source.Variant, source.FileName, url.ToString(), result.Bytes, result.Sha256, time.GetUtcNow()));
            check = IntegrityCheck.LockWritten;
        }

        IReadOnlyList<string> extracted = [];
        if (options.Extract)
        {
            try
            {
                extracted = SafeZipExtractor.Extract(archive, options.Directory, options.Limits, extraction, cancellationToken);
            }
            catch (DatasetException) when (check == IntegrityCheck.LockWritten)
            {
                // A broken or hostile archive must not become the trusted first download.
                IntegrityLock.Remove(lockPath, source.Dataset, source.Variant);
                Quarantine(archive);
                throw;
            }
        }

        return new FetchResult(source, result, check, md5, lockPath, extracted, present);
    }

    /// <summary>True or false when the publisher's MD5 could be read; null when it could not (said, not fatal).</summary>
    private async Task<bool?> CheckPublisherMd5Async(Uri checksumUrl, string archive, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            using var response = await http.GetAsync(checksumUrl, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }

        // md5sum's format: "HEX  NAME" per line; take the line naming the archive, or the only hash there is.
        string name = Path.GetFileName(archive);
        var hashes = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(p => p.Length >= 1 && p[0].Length == 32 && p[0].All(Uri.IsHexDigit))
            .ToList();
        var mine = hashes.FirstOrDefault(p => p.Length == 2 && p[1].TrimStart('*').EndsWith(name, StringComparison.OrdinalIgnoreCase))
            ?? (hashes.Count == 1 ? hashes[0] : null);
        if (mine is null)
        {
            return null;
        }

        await using var file = File.OpenRead(archive);
#pragma warning disable CA5351 // MD5 only because it is what the publisher lists; the lock file's SHA-256 is the real check.
        byte[] md5 = await MD5.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
#pragma warning restore CA5351
        return string.Equals(Convert.ToHexStringLower(md5), mine[0].ToLowerInvariant(), StringComparison.Ordinal);
    }

    private static void Quarantine(string archive)
    {
        if (File.Exists(archive))
        {
            File.Move(archive, archive + ".bad", overwrite: true);
        }
    }
}
