using System.Text;

namespace Stakeout.Datasets.Tests;

public sealed class SafeZipExtractorTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "stakeout-zip-" + Guid.NewGuid().ToString("N")[..8]);

    public SafeZipExtractorTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("../evil.csv", "'..'")]
    [InlineData("MachineLearningCVE/../../evil.csv", "'..'")]
    [InlineData("..\\evil.csv", "'..'")]
    [InlineData("/tmp/evil.csv", "absolute")]
    [InlineData("C:/evil.csv", "absolute")]
    public void Extract_EntryLeavingTheTarget_IsRefusedAndNothingIsWritten(string name, string why)
    {
        string zip = WriteZip(Fixtures.WithEntry(name, Encoding.ASCII.GetBytes("pwned")));
        string target = Path.Combine(_root, "data");

        var error = Assert.Throws<DatasetException>(() => SafeZipExtractor.Extract(zip, target, new ExtractionLimits()));

        Assert.Equal(DatasetFailure.UnsafeArchive, error.Failure);
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "evil.csv")));
        Assert.False(File.Exists(Path.Combine(target, "MachineLearningCVE", "ok.csv"))); // all or nothing
        Assert.Empty(Directory.GetFileSystemEntries(target));
    }

    [Fact]
    public void Extract_SymbolicLinkEntry_IsRefused()
    {
        string zip = WriteZip(Fixtures.WithEntry("MachineLearningCVE/link.csv", Encoding.ASCII.GetBytes("/etc/passwd"), unixMode: 0xA1FF));

        var error = Assert.Throws<DatasetException>(() => SafeZipExtractor.Extract(zip, Path.Combine(_root, "data"), new ExtractionLimits()));

        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extract_ZipBomb_IsRefusedByItsRatio()
    {
        string zip = WriteZip(Fixtures.Bomb(megabytes: 64));

        var error = Assert.Throws<DatasetException>(() => SafeZipExtractor.Extract(zip, Path.Combine(_root, "data"), new ExtractionLimits()));

        Assert.Equal(DatasetFailure.UnsafeArchive, error.Failure);
        Assert.Contains("zip bomb", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_root, "data")));
    }

    [Fact]
    public void Extract_MoreBytesThanTheTotalLimit_IsRefused()
    {
        string zip = WriteZip(Fixtures.DatasetZip(rows: 5000));

        var error = Assert.Throws<DatasetException>(() => SafeZipExtractor.Extract(zip, Path.Combine(_root, "data"), new ExtractionLimits { MaxTotalBytes = 10_000 }));

        Assert.Contains("more than 10,000 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extract_MoreEntriesThanTheLimit_IsRefused()
    {
        string zip = WriteZip(Fixtures.DatasetZip());

        var error = Assert.Throws<DatasetException>(() => SafeZipExtractor.Extract(zip, Path.Combine(_root, "data"), new ExtractionLimits { MaxEntries = 1 }));

        Assert.Contains("2 entries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extract_DotSegmentsInside_StayInsideTheTarget()
    {
        string zip = WriteZip(Fixtures.WithEntry("./MachineLearningCVE/./b.csv", Encoding.ASCII.GetBytes(Fixtures.CsvHeader)));
        string target = Path.Combine(_root, "data");

        var files = SafeZipExtractor.Extract(zip, target, new ExtractionLimits());

        Assert.Contains(Path.Combine(target, "MachineLearningCVE", "b.csv"), files);
    }

    private string WriteZip(byte[] bytes)
    {
        string path = Path.Combine(_root, "fixture-" + Guid.NewGuid().ToString("N")[..6] + ".zip");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
