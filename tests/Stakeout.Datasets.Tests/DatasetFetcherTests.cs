using System.Security.Cryptography;
using System.Text;

namespace Stakeout.Datasets.Tests;

public sealed class DatasetFetcherTests : IDisposable
{
    private static readonly DatasetSource Source = DatasetCatalog.Find("cicids2017", "machinelearning");
    private readonly LoopbackServer _server = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "stakeout-fetch-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        _http.Dispose();
        _server.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task Fetch_FirstDownload_ExtractsAndWritesTheLock()
    {
        byte[] zip = Fixtures.DatasetZip();
        _server.Serve("/MachineLearningCSV.zip", zip);

        var result = await FetchAsync();

        Assert.Equal(IntegrityCheck.LockWritten, result.Check);
        Assert.Equal(zip.Length, result.Download.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(zip)), result.Download.Sha256);
        Assert.Equal(2, result.Extracted.Count);
        Assert.All(result.Extracted, f => Assert.StartsWith(Path.GetFullPath(_dir), f, StringComparison.Ordinal));
        Assert.StartsWith(Fixtures.CsvHeader, File.ReadAllText(Path.Combine(_dir, "MachineLearningCVE", "Monday-WorkingHours.pcap_ISCX.csv")), StringComparison.Ordinal);
        var entry = Assert.Single(IntegrityLock.Read(result.LockPath));
        Assert.Equal((zip.Length, result.Download.Sha256), (entry.Bytes, entry.Sha256));
        Assert.False(File.Exists(Path.Combine(_dir, Source.FileName + ".part")));
        Assert.Empty(Directory.GetDirectories(_dir, ".stakeout-extract-*"));
    }

    [Fact]
    public async Task Fetch_TransferCutTwice_ResumesWithRangeAndGetsTheSameBytes()
    {
        byte[] zip = Fixtures.DatasetZip(rows: 20_000);
        _server.Serve("/MachineLearningCSV.zip", zip, cutAfter: zip.Length / 3, cutTimes: 2);

        var result = await FetchAsync();

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(zip)), result.Download.Sha256);
        Assert.Equal(3, result.Download.Attempts);
        var ranges = _server.Requests.Where(r => r.Path == "/MachineLearningCSV.zip").Select(r => r.Range).ToList();
        Assert.Null(ranges[0]);
        Assert.Equal($"bytes={zip.Length / 3}-", ranges[1]);
        Assert.Equal($"bytes={2 * (zip.Length / 3)}-", ranges[2]);
    }

    [Fact]
    public async Task Fetch_PartFileFromAnEarlierRun_ResumesWhereItStopped()
    {
        byte[] zip = Fixtures.DatasetZip();
        Directory.CreateDirectory(_dir);
        File.WriteAllBytes(Path.Combine(_dir, Source.FileName + ".part"), zip[..1000]);
        _server.Serve("/MachineLearningCSV.zip", zip);

        var result = await FetchAsync();

        Assert.Equal(1000, result.Download.ResumedFrom);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(zip)), result.Download.Sha256);
        Assert.Equal("bytes=1000-", _server.Requests.Single().Range);
    }

    [Fact]
    public async Task Fetch_ArchiveChangedSinceTheLock_FailsIntegrityAndQuarantines()
    {
        _server.Serve("/MachineLearningCSV.zip", Fixtures.DatasetZip(seed: 1));
        await FetchAsync();
        _server.Serve("/MachineLearningCSV.zip", Fixtures.DatasetZip(seed: 2));

        var error = await Assert.ThrowsAsync<DatasetException>(() => FetchAsync(force: true));

        Assert.Equal(DatasetFailure.Integrity, error.Failure);
        Assert.Contains(DatasetFetcher.LockFileName, error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, Source.FileName + ".bad")));
        Assert.False(File.Exists(Path.Combine(_dir, Source.FileName)));
    }

    [Fact]
    public async Task Fetch_SameArchiveAgain_MatchesTheLock()
    {
        _server.Serve("/MachineLearningCSV.zip", Fixtures.DatasetZip());
        await FetchAsync();

        var again = await FetchAsync(force: true);

        Assert.Equal(IntegrityCheck.LockFile, again.Check);
    }

    [Fact]
    public async Task Fetch_CorruptArchive_FailsWithoutTrustingIt()
    {
        byte[] zip = Fixtures.DatasetZip();
        // Flip bytes inside the first entry's compressed data (its local header is 30 bytes + the name).
        for (int i = 200; i < 260; i++)
        {
            zip[i] ^= 0x5A;
        }

        _server.Serve("/MachineLearningCSV.zip", zip);

        var error = await Assert.ThrowsAsync<DatasetException>(() => FetchAsync());

        Assert.Equal(DatasetFailure.Integrity, error.Failure);
        Assert.Contains("corrupt", error.Message, StringComparison.Ordinal);
        Assert.Empty(IntegrityLock.Read(Path.Combine(_dir, DatasetFetcher.LockFileName)));
        Assert.False(File.Exists(Path.Combine(_dir, "MachineLearningCVE", "Monday-WorkingHours.pcap_ISCX.csv")));
    }

    [Fact]
    public async Task Fetch_TruncatedArchive_IsNotAZip()
    {
        byte[] zip = Fixtures.DatasetZip();
        _server.Serve("/MachineLearningCSV.zip", zip[..(zip.Length - 40)]);

        var error = await Assert.ThrowsAsync<DatasetException>(() => FetchAsync());

        Assert.Equal(DatasetFailure.Integrity, error.Failure);
        Assert.Contains("not a readable zip", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_ServerAnswersWithAWebPage_IsRefusedWithWhatToDo()
    {
        _server.Serve("/MachineLearningCSV.zip", Encoding.UTF8.GetBytes("<html><body>Datasets index</body></html>"), contentType: "text/html");

        var error = await Assert.ThrowsAsync<DatasetException>(() => FetchAsync());

        Assert.Equal(DatasetFailure.Integrity, error.Failure);
        Assert.Contains("--url", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, Source.FileName)));
    }

    [Fact]
    public async Task Fetch_PublisherMd5Mismatch_FailsIntegrity()
    {
        _server.Serve("/MachineLearningCSV.zip", Fixtures.DatasetZip());
        _server.Serve("/MachineLearningCSV.md5", Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef  MachineLearningCSV.zip\n"), contentType: "text/plain");

        var error = await Assert.ThrowsAsync<DatasetException>(() => FetchAsync(md5: true));

        Assert.Equal(DatasetFailure.Integrity, error.Failure);
        Assert.Contains("MD5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_PublisherMd5Matches_IsReported()
    {
        byte[] zip = Fixtures.DatasetZip();
#pragma warning disable CA5351 // the publisher's checksum format
        string md5 = Convert.ToHexStringLower(MD5.HashData(zip));
#pragma warning restore CA5351
        _server.Serve("/MachineLearningCSV.zip", zip);
        _server.Serve("/MachineLearningCSV.md5", Encoding.ASCII.GetBytes($"{md5.ToUpperInvariant()} *MachineLearningCSV.zip\r\n"), contentType: "text/plain");

        var result = await FetchAsync(md5: true);

        Assert.True(result.PublisherMd5Matched);
    }

    [Fact]
    public async Task Fetch_NotFound_SaysToCheckTheAddress()
    {
        var error = await Assert.ThrowsAsync<DatasetException>(() => FetchAsync());

        Assert.Equal(DatasetFailure.Transfer, error.Failure);
        Assert.Contains("404", error.Message, StringComparison.Ordinal);
    }

    private Task<FetchResult> FetchAsync(bool force = false, bool md5 = false)
    {
        var fetcher = new DatasetFetcher(_http, TimeProvider.System);
        var options = new FetchOptions
        {
            Directory = _dir,
            Url = _server.Url("/MachineLearningCSV.zip"),
            ChecksumUrl = md5 ? _server.Url("/MachineLearningCSV.md5") : null,
            Force = force,
            Download = new DownloadOptions { MaxAttempts = 4, FirstBackoff = TimeSpan.FromMilliseconds(10) },
        };
        return fetcher.FetchAsync(Source, options, null, null, CancellationToken.None);
    }
}
