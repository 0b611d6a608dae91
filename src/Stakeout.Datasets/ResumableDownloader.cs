using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Stakeout.Datasets;

/// <summary>Progress of a download: bytes on disk so far and the total when the server said it.</summary>
public readonly record struct DownloadProgress(long BytesDone, long? TotalBytes, int Attempt);

/// <summary>The outcome of a finished download.</summary>
/// <param name="Path">The complete file.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Sha256">Its SHA-256, lower-case hex.</param>
/// <param name="ResumedFrom">Bytes that were already on disk from an earlier, interrupted transfer (0 when none).</param>
/// <param name="Attempts">HTTP requests it took.</param>
public sealed record DownloadResult(string Path, long Bytes, string Sha256, long ResumedFrom, int Attempts);

/// <summary>Options of <see cref="ResumableDownloader"/>, validated once.</summary>
public sealed record DownloadOptions
{
    /// <summary>Requests tried before giving up (each one resumes where the last stopped).</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>Wait before the second attempt; doubled after each failure, capped at 30 s.</summary>
    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Time without a single byte after which a transfer counts as stalled.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Refuse a body larger than this (a misconfigured server must not fill the disk).</summary>
    public long MaxBytes { get; init; } = 8L << 30;

    public DownloadOptions Validate()
    {
        if (MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "At least one attempt is needed.");
        }

        if (FirstBackoff < TimeSpan.Zero || StallTimeout <= TimeSpan.Zero || MaxBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(StallTimeout), "Backoff must be >= 0, the stall time-out and the size limit > 0.");
        }

        return this;
    }
}

/// <summary>
/// Downloads one file over HTTP(S) into <c>FILE.part</c>, resuming an interrupted transfer with a Range request,
/// and renames it to <c>FILE</c> only when the whole body has arrived. A server that answers with a web page instead
/// of the archive (a redirect to an index page is a known failure of dataset mirrors) is refused, not saved.
/// </summary>
public sealed class ResumableDownloader(HttpClient http, DownloadOptions options, TimeProvider time)
{
    private readonly DownloadOptions _options = options.Validate();

    /// <summary>Downloads <paramref name="url"/> to <paramref name="path"/>.</summary>
    /// <exception cref="DatasetException">The transfer failed after every attempt, or the server sent something else.</exception>
    public async Task<DownloadResult> DownloadAsync(Uri url, string path, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string part = path + ".part";
        long resumedFrom = File.Exists(part) ? new FileInfo(part).Length : 0;
        TimeSpan backoff = _options.FirstBackoff;
        Exception? last = null;
        for (int attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (await TryTransferAsync(url, part, attempt, progress, cancellationToken).ConfigureAwait(false))
                {
                    File.Move(part, path, overwrite: true);
                    var (bytes, sha) = await HashAsync(path, cancellationToken).ConfigureAwait(false);
                    return new DownloadResult(path, bytes, sha, resumedFrom, attempt);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException
                || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // A dropped connection or a stall: the bytes already in FILE.part stay, the next attempt resumes there.
                last = ex;
            }

            if (attempt < _options.MaxAttempts)
            {
                await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }

        long have = File.Exists(part) ? new FileInfo(part).Length : 0;
        throw new DatasetException(
            DatasetFailure.Transfer,
            $"Could not download {url} after {_options.MaxAttempts} attempts ({have:N0} bytes kept in {part}; run the command again to resume): {last?.Message}",
            last);
    }

    /// <summary>One request. True when the body is complete in <paramref name="part"/>.</summary>
    private async Task<bool> TryTransferAsync(Uri url, string part, int attempt, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        long have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0)
        {
            request.Headers.Range = new RangeHeaderValue(have, null);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
        {
            // The part file already holds the whole body (or more): 416 with "bytes */LENGTH" says which.
            long? length = response.Content.Headers.ContentRange?.Length;
            if (length == have)
            {
                return true;
            }

            File.Delete(part);
            throw new IOException($"{url}: the partial download ({have:N0} bytes) does not fit the file on the server ({length?.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"} bytes); starting over.");
        }

        if (!response.IsSuccessStatusCode)
        {
            if ((int)response.StatusCode is >= 400 and < 500 and not 408 and not 429)
            {
                throw new DatasetException(DatasetFailure.Transfer, $"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}: check the address (--url) or the publisher's page.");
            }

            throw new HttpRequestException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }

        string? mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is not null && mediaType.StartsWith("text/html", StringComparison.OrdinalIgnoreCase))
        {
            throw new DatasetException(
                DatasetFailure.Integrity,
                $"{url} answered with a web page ({mediaType}), not the archive: the address has moved or needs a sign-up. Find the current address on the publisher's page and pass it with --url.");
        }

        bool append = have > 0 && response.StatusCode == HttpStatusCode.PartialContent;
        if (append)
        {
            long? start = response.Content.Headers.ContentRange?.From;
            if (start != have)
            {
                throw new IOException($"{url}: asked to resume at byte {have:N0}, the server answered from byte {start?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}.");
            }
        }

        long? total = append ? response.Content.Headers.ContentRange?.Length : response.Content.Headers.ContentLength;
        if (total > _options.MaxBytes)
        {
            throw new DatasetException(DatasetFailure.Integrity, $"{url} is {total:N0} bytes, more than the limit of {_options.MaxBytes:N0}.");
        }

        long done = append ? have : 0;
        await using (var file = new FileStream(part, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                byte[] buffer = new byte[1 << 16];
                progress?.Report(new DownloadProgress(done, total, attempt));
                while (true)
                {
                    using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    stall.CancelAfter(_options.StallTimeout);
                    int n = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    done += n;
                    if (done > _options.MaxBytes)
                    {
                        throw new DatasetException(DatasetFailure.Integrity, $"{url} sent more than the limit of {_options.MaxBytes:N0} bytes.");
                    }

                    progress?.Report(new DownloadProgress(done, total, attempt));
                }

                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
        }

        if (total is long expected && done != expected)
        {
            // The connection closed early without an error: keep what came, resume on the next attempt.
            throw new IOException($"{url}: the transfer stopped at {done:N0} of {expected:N0} bytes.");
        }

        return true;
    }

    internal static async Task<(long Bytes, string Sha256)> HashAsync(string path, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            byte[] hash = await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
            return (file.Length, Convert.ToHexStringLower(hash));
        }
    }
}
