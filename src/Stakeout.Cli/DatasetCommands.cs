using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Stakeout.Datasets;

namespace Stakeout.Cli;

/// <summary>`stakeout dataset fetch`: download a public dataset, check it and unpack it safely.</summary>
internal static class DatasetCommands
{
    /// <summary>Exit code of a transfer that failed after every retry.</summary>
    public const int TransferFailed = 4;

    /// <summary>Exit code of bytes that are not what was expected (checksum, lock, not an archive, unsafe archive).</summary>
    public const int IntegrityFailed = 3;

    public static Command Create()
    {
        var dataset = new Command("dataset", "Fetch public flow datasets (CIC-IDS2017) to train on.");
        dataset.Subcommands.Add(CreateFetch());
        return dataset;
    }

    private static Command CreateFetch()
    {
        var name = new Argument<string>("DATASET") { Description = "The dataset: cicids2017." };
        var variant = new Option<string>("--variant")
        {
            Description = "machinelearning (MachineLearningCVE: 78 features + Label) or trafficlabelling (with Flow ID, IPs, ports, timestamps).",
            DefaultValueFactory = _ => "machinelearning",
        };
        var dir = new Option<string>("--dir") { Description = "Where the archive, its lock file and the extracted CSVs go.", DefaultValueFactory = _ => Path.Combine("data", "cicids2017") };
        var url = new Option<string?>("--url") { Description = "Download from this address instead of the publisher's (a mirror, or a copy you host)." };
        var checksumUrl = new Option<string?>("--checksum-url") { Description = "Where an md5sum-style checksum of the archive is published (default: the publisher's, with the default address)." };
        var lockFile = new Option<string?>("--lock") { Description = "The lock file that records size and SHA-256 (default DIR/stakeout-dataset.lock.json)." };
        var noExtract = new Option<bool>("--no-extract") { Description = "Download and check the archive, but do not unpack it (`train` reads the zip directly)." };
        var force = new Option<bool>("--force") { Description = "Download again even when the archive is already there." };
        var retries = new Option<int>("--retries") { Description = "Requests tried before giving up; each resumes where the last stopped.", DefaultValueFactory = _ => 8 };
        var maxBytes = new Option<long>("--max-extracted-bytes") { Description = "Refuse an archive that inflates to more than this many bytes.", DefaultValueFactory = _ => 16L << 30 };
        var fetch = new Command(
            "fetch",
            """
            Download a dataset archive from its publisher (resuming an interrupted transfer), check it, and unpack it.
            Integrity: the first download records the archive's size and SHA-256 in a lock file; every later download must
            match it (no checksum of the CIC archives is recorded in Stakeout itself). The publisher's MD5 is checked too
            when it can be read. Extraction refuses paths outside DIR, links and zip bombs, and writes nothing unless the
            whole archive passes.

            Exit codes: 0 fetched and checked, 1 usage, 3 integrity failure (checksum, lock, unsafe or corrupt archive),
            4 transfer failed (run again to resume).

            Examples:
              stakeout dataset fetch cicids2017
              stakeout dataset fetch cicids2017 --variant trafficlabelling --dir data/cic-traffic
              stakeout dataset fetch cicids2017 --url http://mirror.example/MachineLearningCSV.zip
            Then train on it:
              stakeout train data/cicids2017/MachineLearningCVE --output-dir logs/full
            """)
        {
            name, variant, dir, url, checksumUrl, lockFile, noExtract, force, retries, maxBytes,
        };
        fetch.SetAction(async (parse, cancel) =>
        {
            try
            {
                var source = DatasetCatalog.Find(parse.GetValue(name)!, parse.GetValue(variant)!);
                var options = new FetchOptions
                {
                    Directory = parse.GetValue(dir)!,
                    Url = ParseUrl("--url", parse.GetValue(url)),
                    ChecksumUrl = ParseUrl("--checksum-url", parse.GetValue(checksumUrl)),
                    LockPath = parse.GetValue(lockFile),
                    Extract = !parse.GetValue(noExtract),
                    Force = parse.GetValue(force),
                    Download = new DownloadOptions { MaxAttempts = parse.GetValue(retries) },
                    Limits = new ExtractionLimits { MaxTotalBytes = parse.GetValue(maxBytes) },
                };
                Terminal.Err.MarkupLine($"Fetching [bold]{Markup.Escape(source.Description)}[/]");
                Terminal.Err.MarkupLine($"  from {Markup.Escape((options.Url ?? source.Url).ToString())}");
                using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
                var fetcher = new DatasetFetcher(http, TimeProvider.System);
                var result = await RunWithProgressAsync(fetcher, source, options, cancel).ConfigureAwait(false);
                Print(result, options);
                return 0;
            }
            catch (ArgumentException ex)
            {
                return Terminal.Fail(ex.Message);
            }
            catch (DatasetException ex)
            {
                Terminal.Fail(ex.Message);
                return ex.Failure == DatasetFailure.Transfer ? TransferFailed : IntegrityFailed;
            }
        });
        return fetch;
    }

    private static Uri? ParseUrl(string option, string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{option} '{text}' is not an http:// or https:// address.");
        }

        return uri;
    }

    private static async Task<FetchResult> RunWithProgressAsync(DatasetFetcher fetcher, DatasetSource source, FetchOptions options, CancellationToken cancel)
    {
        if (!Terminal.ShowProgress)
        {
            // A log: one line every 10 % instead of a bar.
            int lastDecile = -1;
            var lines = new Progress<DownloadProgress>(p =>
            {
                if (p.TotalBytes is long total && total > 0)
                {
                    int decile = (int)(10 * p.BytesDone / total);
                    if (decile != lastDecile)
                    {
                        lastDecile = decile;
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  downloaded {p.BytesDone:N0} of {total:N0} bytes ({10 * decile} %), attempt {p.Attempt}"));
                    }
                }
            });
            return await fetcher.FetchAsync(source, options, lines, null, cancel).ConfigureAwait(false);
        }

        FetchResult result = null!;
        await Terminal.Err.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var download = ctx.AddTask("Downloading", maxValue: 1);
                var extract = ctx.AddTask("Extracting", autoStart: false, maxValue: 1);
                var downloadProgress = new SyncProgress<DownloadProgress>(p =>
                {
                    if (p.TotalBytes is long total)
                    {
                        download.MaxValue = total;
                    }

                    download.Value = p.BytesDone;
                    download.Description = p.Attempt > 1 ? $"Downloading (attempt {p.Attempt})" : "Downloading";
                });
                var extractProgress = new SyncProgress<long>(bytes =>
                {
                    if (!extract.IsStarted)
                    {
                        download.Value = download.MaxValue;
                        extract.StartTask();
                    }

                    extract.MaxValue = Math.Max(extract.MaxValue, bytes + 1);
                    extract.Value = bytes;
                });
                result = await fetcher.FetchAsync(source, options, downloadProgress, extractProgress, cancel).ConfigureAwait(false);
                download.Value = download.MaxValue;
                extract.Value = extract.MaxValue;
            }).ConfigureAwait(false);
        return result;
    }

    private static void Print(FetchResult result, FetchOptions options)
    {
        var d = result.Download;
        string how = result.AlreadyPresent ? "already present" : d.ResumedFrom > 0 ? $"resumed at {d.ResumedFrom:N0} bytes" : $"{d.Attempts} request(s)";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"archive   {d.Path}  ({d.Bytes:N0} bytes, {how})"));
        Console.WriteLine($"sha256    {d.Sha256}");
        Console.WriteLine(result.Check switch
        {
            IntegrityCheck.KnownHash => "integrity matches the checksum recorded in Stakeout",
            IntegrityCheck.LockFile => $"integrity matches the lock file {result.LockPath}",
            _ => $"integrity first download: recorded in {result.LockPath}; later downloads must match it (keep this file, e.g. in version control)",
        });
        Console.WriteLine(result.PublisherMd5Matched switch
        {
            true => "publisher MD5 matches",
            false => "publisher MD5 DOES NOT match",
            null => "publisher MD5 not available (not checked)",
        });
        if (result.Extracted.Count > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"extracted {result.Extracted.Count} file(s) into {Path.GetFullPath(options.Directory)}"));
            string? folder = result.Extracted.Select(Path.GetDirectoryName).GroupBy(f => f).OrderByDescending(g => g.Count()).First().Key;
            Console.WriteLine($"next      stakeout data inspect {folder}");
            Console.WriteLine($"          stakeout train {folder} --output-dir logs/full");
        }
        else
        {
            Console.WriteLine($"next      stakeout train {d.Path} --output-dir logs/full");
        }
    }

    /// <summary>Reports on the caller's thread: Progress&lt;T&gt; would post to the thread pool and race the bar.</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
