using System.IO.Compression;
using System.Text;

namespace Stakeout.Datasets.Tests;

/// <summary>Zip archives written for the tests: a small CIC-like dataset, and hostile ones.</summary>
internal static class Fixtures
{
    public const string CsvHeader = " Destination Port, Flow Duration, Total Fwd Packets, Label\r\n";

    /// <summary>A dataset archive: two day files in a folder, as the official zip has them.</summary>
    public static byte[] DatasetZip(int rows = 2000, int seed = 1) => Zip(z =>
    {
        var random = new Random(seed);
        foreach (string day in new[] { "Monday-WorkingHours.pcap_ISCX.csv", "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv" })
        {
            var text = new StringBuilder(CsvHeader);
            for (int i = 0; i < rows; i++)
            {
                text.Append(random.Next(1, 65535)).Append(',').Append(random.Next(1, 1_000_000)).Append(',').Append(random.Next(1, 50))
                    .Append(day.StartsWith("Monday", StringComparison.Ordinal) ? ",BENIGN\r\n" : ",DDoS\r\n");
            }

            Add(z, "MachineLearningCVE/" + day, Encoding.ASCII.GetBytes(text.ToString()));
        }
    });

    /// <summary>An archive with one entry under <paramref name="name"/> (a path the extractor must refuse).</summary>
    public static byte[] WithEntry(string name, byte[] content, int? unixMode = null) => Zip(z =>
    {
        Add(z, "MachineLearningCVE/ok.csv", Encoding.ASCII.GetBytes(CsvHeader + "80,1,1,BENIGN\r\n"));
        var entry = Add(z, name, content);
        if (unixMode is int mode)
        {
            entry.ExternalAttributes = mode << 16;
        }
    });

    /// <summary>A small archive that inflates to <paramref name="megabytes"/> MB of zeros.</summary>
    public static byte[] Bomb(int megabytes) => Zip(z =>
    {
        var entry = z.CreateEntry("MachineLearningCVE/bomb.csv", CompressionLevel.SmallestSize);
        using var stream = entry.Open();
        byte[] zeros = new byte[1 << 20];
        for (int i = 0; i < megabytes; i++)
        {
            stream.Write(zeros);
        }
    });

    private static byte[] Zip(Action<ZipArchive> fill)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            fill(zip);
        }

        return memory.ToArray();
    }

    private static ZipArchiveEntry Add(ZipArchive zip, string name, byte[] content)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        using var stream = entry.Open();
        stream.Write(content);
        return entry;
    }
}
