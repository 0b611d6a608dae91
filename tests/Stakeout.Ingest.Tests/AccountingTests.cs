using System.Text;
using Stakeout.Core;
using static Stakeout.Ingest.Tests.FlowCsv;

namespace Stakeout.Ingest.Tests;

/// <summary>Accounting, bad rows, bad files, strict mode, duplicates and streaming.</summary>
public sealed class AccountingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Read_BadRows_AreRejectedWithFileLineFieldAndReasonAndTheReadGoesOn()
    {
        string tooMany = MlcveRow(3, "BENIGN") + ",extra";
        string tooFew = string.Join(',', MlcveRow(4, "BENIGN").Split(',')[..40]);
        string text = MlcveHeader + "\n" +
            MlcveRow(1, "BENIGN") + "\n" +                                                      // 2 ok
            MlcveRow(2, "BENIGN", new Dictionary<int, string> { [5] = "12abc" }) + "\n" +        // 3 not a number
            tooMany + "\n" +                                                                    // 4 field count
            tooFew + "\n" +                                                                     // 5 field count
            MlcveRow(5, "") + "\n" +                                                            // 6 missing label
            MlcveRow(6, "BENIGN", new Dictionary<int, string> { [1] = "\"unclosed" }) + "\n" +  // 7 unbalanced quote
            MlcveRow(7, "DDoS") + "\n";                                                         // 8 ok
        string file = _dir.Write("bad-rows.csv", text);

        var (rows, read) = Read([file]);

        Assert.Equal([Expected(1), Expected(7)], rows.Select(r => r.Features));
        var r = read.Report;
        Assert.Equal((7L, 2L, 5L, 0L), (r.RowsRead, r.RowsUsed, r.RowsRejected, r.RowsDropped));
        Assert.Equal(1, r.RejectedByReason[RejectReason.NotANumber]);
        Assert.Equal(2, r.RejectedByReason[RejectReason.FieldCount]);
        Assert.Equal(1, r.RejectedByReason[RejectReason.MissingLabel]);
        Assert.Equal(1, r.RejectedByReason[RejectReason.UnbalancedQuote]);
        Assert.Equal([3L, 4L, 5L, 6L, 7L], r.Rejects.Select(x => x.Line));
        Assert.All(r.Rejects, x => Assert.Equal(file, x.File));
        var nan = r.Rejects[0];
        Assert.Equal(RejectReason.NotANumber, nan.Reason);
        Assert.Equal("Total Length of Bwd Packets", nan.Field);
        Assert.Contains("'12abc'", nan.Detail, StringComparison.Ordinal);
        Assert.Contains("expected 79 fields, found 80", r.Rejects[1].Detail, StringComparison.Ordinal);
        Assert.Contains("expected 79 fields, found 40", r.Rejects[2].Detail, StringComparison.Ordinal);
        Assert.Equal("Label", r.Rejects[3].Field);
        var f = r.Files.Single();
        Assert.Equal((7L, 2L, 5L, 0L), (f.RowsRead, f.RowsUsed, f.RowsRejected, f.RowsDropped));
    }

    [Fact]
    public void Read_BadIdentity_IsRejectedNamingTheColumn()
    {
        string text = TrafficLabellingHeader + "\n" +
            TrafficRow(1, "BENIGN", "192.168.10.999", 1, "10.0.0.1", "80", "6", "7/7/2017 3:30") + "\n" +
            TrafficRow(2, "BENIGN", "10.0.0.2", 70000, "10.0.0.1", "80", "6", "7/7/2017 3:30") + "\n" +
            TrafficRow(3, "BENIGN", "10.0.0.2", 1, "10.0.0.1", "80", "6", "31/2/2017 3:30") + "\n" +
            TrafficRow(4, "BENIGN", "10.0.0.2", 1, "10.0.0.1", "80", "6.5", "7/7/2017 3:30") + "\n" +
            TrafficRow(5, "BENIGN", "10.0.0.2", 1, "10.0.0.1", "80", "6", "7/7/2017 3:30") + "\n";
        string file = _dir.Write("identity.csv", text);

        var (rows, read) = Read([file]);

        Assert.Equal([6L], rows.Select(x => x.Line));
        var rejects = read.Report.Rejects;
        Assert.Equal((RejectReason.InvalidAddress, "Source IP"), (rejects[0].Reason, rejects[0].Field));
        Assert.Equal((RejectReason.InvalidPortOrProtocol, "Source Port"), (rejects[1].Reason, rejects[1].Field));
        Assert.Equal((RejectReason.InvalidTimestamp, "Timestamp"), (rejects[2].Reason, rejects[2].Field));
        Assert.Equal((RejectReason.InvalidPortOrProtocol, "Protocol"), (rejects[3].Reason, rejects[3].Field));
    }

    [Fact]
    public void Read_Strict_StopsAtTheFirstBadRowNamingFileLineAndField()
    {
        string file = _dir.Write("strict.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n" +
            MlcveRow(2, "BENIGN", new Dictionary<int, string> { [14] = "fast" }) + "\n" + MlcveRow(3, "BENIGN") + "\n");

        var read = new FlowCsvReader(new FlowReaderOptions { Strict = true }).Open([file]);
        var ex = Assert.Throws<FlowDataException>(() => read.ReadBatches().ToList());

        Assert.Equal(file, ex.File);
        Assert.Equal(3, ex.Line);
        Assert.Equal("Flow Bytes/s", ex.Field);
        Assert.StartsWith($"{file}:3: field 'Flow Bytes/s': not a number: 'fast'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_StrictWithNoRejectDetailsKept_StillStopsAtTheFirstBadRow()
    {
        string file = _dir.Write("strict0.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + ",x\n");

        var read = new FlowCsvReader(new FlowReaderOptions { Strict = true, MaxRejectDetails = 0 }).Open([file]);
        var ex = Assert.Throws<FlowDataException>(() => read.ReadBatches().ToList());

        Assert.Equal(2, ex.Line);
        Assert.Contains("expected 79 fields, found 80", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MaxRejectDetails_KeepsTheFirstInFullAndCountsAll()
    {
        var text = new StringBuilder(MlcveHeader + "\n");
        for (int i = 0; i < 10; i++)
        {
            text.Append(MlcveRow(i, "BENIGN", new Dictionary<int, string> { [3] = "x" })).Append('\n');
        }

        string file = _dir.Write("many-bad.csv", text.ToString());

        var (_, read) = Read([file], new FlowReaderOptions { MaxRejectDetails = 3 });

        Assert.Equal(10, read.Report.RowsRejected);
        Assert.Equal([2L, 3L, 4L], read.Report.Rejects.Select(r => r.Line));
    }

    [Theory]
    [InlineData(";", "';'")]
    [InlineData("\t", "a tab")]
    [InlineData("|", "'|'")]
    public void Open_WrongDelimiter_ErrorNamesFileLineAndDelimiter(string delimiter, string shown)
    {
        string file = _dir.Write("semi.csv", MlcveHeader.Replace(",", delimiter, StringComparison.Ordinal) + "\n" + MlcveRow(1, "BENIGN").Replace(",", delimiter, StringComparison.Ordinal) + "\n");

        var ex = Assert.Throws<FlowDataException>(() => new FlowCsvReader().Open([file]).ReadBatches().ToList());

        Assert.Equal(file, ex.File);
        Assert.Equal(1, ex.Line);
        Assert.Contains($"wrong delimiter: the header is separated by {shown}", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{file}:1: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_NotAFlowCsv_ErrorSaysSoAndShowsTheHeader()
    {
        string file = _dir.Write("people.csv", "name,age,city\nbob,3,Paris\n");

        var ex = Assert.Throws<FlowDataException>(() => new FlowCsvReader().Open([file]).ReadBatches().ToList());

        Assert.Equal(1, ex.Line);
        Assert.Contains("not a flow CSV", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'name', 'age', 'city'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_BinaryOrUtf16File_IsRefusedClearly()
    {
        string png = _dir.Write("image.csv", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52]);
        string utf16 = _dir.Write("utf16.csv", Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(MlcveHeader + "\n")).ToArray());

        var binary = Assert.Throws<FlowDataException>(() => new FlowCsvReader().Open([png]).ReadBatches().ToList());
        var wide = Assert.Throws<FlowDataException>(() => new FlowCsvReader().Open([utf16]).ReadBatches().ToList());

        Assert.Contains("not a flow CSV", binary.Message, StringComparison.Ordinal);
        Assert.Contains("UTF-16", wide.Message, StringComparison.Ordinal);
        Assert.Equal(utf16, wide.File);
    }

    [Fact]
    public void Open_CarriageReturnOnlyLineEnds_AreRefusedInsteadOfReadAsOneHeader()
    {
        // Classic Mac line ends: without a check the whole file is one header line and reads as zero rows, silently.
        string file = _dir.Write("mac.csv", MlcveHeader + "\r" + MlcveRow(1, "BENIGN") + "\r" + MlcveRow(2, "BENIGN") + "\r");

        var ex = Assert.Throws<FlowDataException>(() => new FlowCsvReader().Open([file]).ReadBatches().ToList());

        Assert.Equal(1, ex.Line);
        Assert.Contains("carriage return", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_HeaderMissingRequiredFeatures_ErrorNamesThem()
    {
        string header = string.Join(',', FeatureSchema.Names.Skip(2)) + ",Label";
        string file = _dir.Write("partial.csv", header + "\n");
        var options = new FlowReaderOptions { RequiredFeatures = [FeatureSchema.DestinationPort, FeatureSchema.FlowDuration, FeatureSchema.TotalFwdPackets] };

        var ex = Assert.Throws<FlowDataException>(() => new FlowCsvReader(options).Open([file]).ReadBatches().ToList());

        Assert.Equal(1, ex.Line);
        Assert.Contains("lacks required features: 'Destination Port', 'Flow Duration'.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RequireLabelOnUnlabelledFile_Fails()
    {
        string file = _dir.Write("unlabelled.csv", string.Join(',', FeatureSchema.Names) + "\n");

        var ex = Assert.Throws<FlowDataException>(() => new FlowCsvReader(new FlowReaderOptions { RequireLabel = true }).Open([file]).ReadBatches().ToList());

        Assert.Contains("no 'Label' column", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RepeatedColumn_ErrorNamesBothPositions()
    {
        string file = _dir.Write("repeat.csv", "Flow Duration,Flow IAT Mean,Flow Duration,Label\n1,2,3,BENIGN\n");

        var ex = Assert.Throws<FlowDataException>(() => new FlowCsvReader().Open([file]).ReadBatches().ToList());

        Assert.Contains("appears twice (columns 1 and 3)", ex.Message, StringComparison.Ordinal);
        Assert.Equal("Flow Duration", ex.Field);
    }

    [Fact]
    public void Open_MissingPath_ErrorNamesIt()
    {
        string missing = Path.Combine(_dir.Root, "nope", "Monday.csv");

        var ex = Assert.Throws<FlowDataException>(() => new FlowCsvReader().Open([missing]));

        Assert.Equal(missing, ex.File);
        Assert.Contains("no such file or directory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SkipBadFiles_RecordsTheErrorAndReadsTheOthers()
    {
        string bad = _dir.Write("a-bad.csv", "Flow Duration;Label\n1;BENIGN\n");
        string good = _dir.Write("b-good.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n");

        var (rows, read) = Read([bad, good], new FlowReaderOptions { SkipBadFiles = true });

        Assert.Single(rows);
        Assert.Contains("wrong delimiter", read.Report.Files[0].Error, StringComparison.Ordinal);
        Assert.Null(read.Report.Files[1].Error);
        Assert.Equal(1, read.Report.Quirks["unreadable_file"]);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("garbage")]
    [InlineData("flipped")]
    public void Read_TruncatedOrCorruptGzip_FailsNamingTheFileInsteadOfLosingRows(string damage)
    {
        // .NET's GZipStream ends quietly at a cut: without the trailer check half a download would read as a whole file.
        byte[] gz = QuirkTests.Gzip(MlcveHeader + "\n" + string.Join("\n", Enumerable.Range(1, 300).Select(i => MlcveRow(i, "BENIGN"))) + "\n");
        byte[] bad = damage switch
        {
            "truncated" => gz[..(gz.Length / 2)],
            "garbage" => [.. gz[..(gz.Length / 2)], .. Enumerable.Repeat((byte)0xAB, 64)],
            _ => [.. gz[..^8], (byte)(gz[^8] ^ 1), .. gz[^7..]], // one bit of the CRC-32
        };
        string file = _dir.Write("Monday.csv.gz", bad);

        var ex = Assert.Throws<FlowDataException>(() => new FlowCsvReader().Open([file]).ReadBatches().ToList());

        Assert.Equal(file, ex.File);
        Assert.Contains("gzip", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SkipBadFilesWithACorruptionFoundMidFile_RecordsTheErrorAndReadsTheNextFile()
    {
        byte[] gz = QuirkTests.Gzip(MlcveHeader + "\n" + string.Join("\n", Enumerable.Range(1, 3000).Select(i => MlcveRow(i, "BENIGN"))) + "\n");
        string bad = _dir.Write("a-cut.csv.gz", gz[..(gz.Length * 3 / 5)]);
        string good = _dir.Write("b-good.csv", MlcveHeader + "\n" + MlcveRow(1, "DDoS") + "\n");

        var (rows, read) = Read([bad, good], new FlowReaderOptions { SkipBadFiles = true, ChunkBytes = 64 * 1024 });

        var files = read.Report.Files;
        Assert.Contains("gzip data is truncated or corrupt", files[0].Error, StringComparison.Ordinal);
        Assert.True(files[0].RowsUsed > 100, "the rows before the cut were read and are accounted for");
        Assert.Null(files[1].Error);
        Assert.Equal(1, files[1].RowsUsed);
        Assert.Equal("DDoS", rows[^1].Label);
        Assert.Equal(1, read.Report.Quirks["unreadable_file"]);
    }

    [Fact]
    public void Open_CorruptZip_FailsWithAFlowDataExceptionNamingTheFile()
    {
        string file = _dir.Write("MachineLearningCSV.zip", [(byte)'P', (byte)'K', 3, 4, .. Enumerable.Repeat((byte)0x11, 100)]);

        var ex = Assert.Throws<FlowDataException>(() => new FlowCsvReader().Open([file]).ReadBatches().ToList());

        Assert.Equal(file, ex.File);
        Assert.Contains("zip", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ZipEntryWithCorruptData_FailsNamingTheEntry()
    {
        string zip = Path.Combine(_dir.Root, "flows.zip");
        using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Create))
        {
            using var entry = archive.CreateEntry("Monday.csv").Open();
            entry.Write(Encoding.UTF8.GetBytes(MlcveHeader + "\n" + string.Join("\n", Enumerable.Range(1, 300).Select(i => MlcveRow(i, "BENIGN"))) + "\n"));
        }

        byte[] bytes = File.ReadAllBytes(zip);
        int dataStart = 30 + BitConverter.ToUInt16(bytes, 26) + BitConverter.ToUInt16(bytes, 28); // after the local file header
        for (int i = dataStart + 40; i < dataStart + 80; i++)
        {
            bytes[i] ^= 0x5A;
        }

        File.WriteAllBytes(zip, bytes);

        var ex = Assert.Throws<FlowDataException>(() => new FlowCsvReader().Open([zip]).ReadBatches().ToList());

        Assert.Equal(zip + "!Monday.csv", ex.File);
    }

    [Theory]
    [InlineData(DuplicatePolicy.Ignore, 0, 3)]
    [InlineData(DuplicatePolicy.Count, 2, 3)]
    [InlineData(DuplicatePolicy.Drop, 2, 1)]
    public void Read_ExactDuplicatesAcrossFiles_FollowThePolicy(DuplicatePolicy policy, long duplicates, int used)
    {
        string a = _dir.Write("a.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n" + MlcveRow(1, "BENIGN") + "\n" + MlcveRow(1, "DDoS") + "\n");
        string b = _dir.Write("b.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n");

        var (rows, read) = Read([a, b], new FlowReaderOptions { Duplicates = policy });

        // Row 1 labelled DDoS differs from row 1 labelled BENIGN: not a duplicate.
        Assert.Equal(used + 1, rows.Count);
        Assert.Equal(duplicates, read.Report.Duplicates);
        Assert.Equal(4, read.Report.RowsRead);
        Assert.Equal(policy == DuplicatePolicy.Drop ? 2 : 0, read.Report.RowsDropped);
        Assert.Equal(policy == DuplicatePolicy.Drop ? 2 : 0, read.Report.DroppedByReason.GetValueOrDefault(DropReason.Duplicate));
        if (policy == DuplicatePolicy.Drop)
        {
            Assert.Equal([2L, 4L], rows.Select(r => r.Line));
            Assert.Equal(0, read.Report.Files[1].RowsUsed);
            Assert.Equal(1, read.Report.Files[1].RowsDropped);
        }
    }

    [Fact]
    public void ReadBatches_ManyChunks_StreamsBatchesInLineOrder()
    {
        var text = new StringBuilder(MlcveHeader + "\n");
        const int rowCount = 2000; // about 600 KB: ten 64 KiB chunks
        for (int i = 0; i < rowCount; i++)
        {
            text.Append(MlcveRow(i, i % 3 == 0 ? "DoS Hulk" : "BENIGN")).Append('\n');
        }

        string file = _dir.Write("big.csv", text.ToString());
        var read = new FlowCsvReader(new FlowReaderOptions { ChunkBytes = 64 * 1024, Parallelism = 2 }).Open([file]);

        int batches = 0;
        long next = 2;
        long readWhenFirstBatchArrived = -1;
        foreach (var batch in read.ReadBatches())
        {
            if (batches++ == 0)
            {
                readWhenFirstBatchArrived = read.Report.RowsRead;
            }

            for (int r = 0; r < batch.Count; r++)
            {
                Assert.Equal(next, batch.Lines[r]);
                Assert.Equal(Expected((int)(next - 2)), batch.Row(r).ToArray());
                Assert.Equal((next - 2) % 3 == 0 ? "DoS Hulk" : "BENIGN", read.Labels[batch.LabelIds[r]].Name);
                next++;
            }
        }

        Assert.True(batches >= 8, $"{batches} batches");
        Assert.True(readWhenFirstBatchArrived < rowCount, "the first batch is handed out before the whole file is read");
        Assert.Equal(rowCount + 2, next);
        Assert.Equal(rowCount, read.Report.RowsUsed);
        Assert.Equal(667, read.Report.Classes["DoS Hulk"]);
    }

    [Fact]
    public void Read_HundredsOfThousandsOfDistinctLabels_AreCountedWithoutExhaustingTheStack()
    {
        // A site's own labels survive as classes; a file where every row has its own label must not bring the reader down.
        const int rowCount = 300_000;
        var text = new StringBuilder("Flow Duration,Label\n", rowCount * 12);
        for (int i = 0; i < rowCount; i++)
        {
            text.Append(i % 10).Append(",L").Append(i).Append('\n');
        }

        string file = _dir.Write("labels.csv", text.ToString());

        var (rows, read) = Read([file]); // one 4 MiB chunk holds them all

        Assert.Equal(rowCount, rows.Count);
        Assert.Equal(rowCount, read.Labels.Count);
        Assert.Equal(rowCount, read.Report.Classes.Count);
        Assert.Equal("L123456", rows[123456].Label);
        Assert.Equal(1, read.Report.Classes["L299999"]);
    }

    [Fact]
    public void ReadBatches_Progress_GrowsToTheTotalBytesAndNamesTheFile()
    {
        var text = new StringBuilder(MlcveHeader + "\n");
        for (int i = 0; i < 1000; i++)
        {
            text.Append(MlcveRow(i, "BENIGN")).Append('\n');
        }

        string a = _dir.Write("a.csv", text.ToString());
        string b = _dir.Write("b.csv.gz", QuirkTests.Gzip(text.ToString()));
        var read = new FlowCsvReader(new FlowReaderOptions { ChunkBytes = 64 * 1024, Parallelism = 1 }).Open([a, b]);
        var seen = new List<ReadProgress>();

        _ = read.ReadBatches(new SynchronousProgress(seen.Add)).ToList();

        Assert.True(seen.Count >= 3, $"{seen.Count} progress reports");
        Assert.Equal(read.TotalBytes, new FileInfo(a).Length + new FileInfo(b).Length);
        Assert.Equal(read.TotalBytes, seen[^1].BytesDone);
        Assert.Equal(2000, seen[^1].RowsRead);
        Assert.Equal(b, seen[^1].File);
        Assert.Contains(seen, p => p.File == a && p.BytesDone < read.TotalBytes);
        for (int i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i].BytesDone >= seen[i - 1].BytesDone && seen[i].RowsRead >= seen[i - 1].RowsRead);
        }
    }

    [Fact]
    public void ReadBatches_Cancelled_StopsWithOperationCanceled()
    {
        string file = _dir.Write("c.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n");
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        var read = new FlowCsvReader().Open([file]);

        Assert.ThrowsAny<OperationCanceledException>(() => read.ReadBatches(cancellationToken: cancel.Token).ToList());
    }

    [Fact]
    public void ReadBatches_Twice_Throws()
    {
        string file = _dir.Write("once.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n");
        var read = new FlowCsvReader().Open([file]);
        _ = read.ReadBatches().ToList();

        Assert.Throws<InvalidOperationException>(() => read.ReadBatches());
    }

    [Fact]
    public void Read_LineLongerThanAChunk_IsRejectedAndTheNextLinesKeepTheirNumbers()
    {
        string huge = MlcveRow(1, "BENIGN", new Dictionary<int, string> { [5] = new string('9', 200_000) });
        string file = _dir.Write("long.csv", MlcveHeader + "\n" + MlcveRow(1, "BENIGN") + "\n" + huge + "\n" + MlcveRow(2, "BENIGN") + "\n");

        var (rows, read) = Read([file], new FlowReaderOptions { ChunkBytes = 64 * 1024, MaxLineBytes = 16 * 1024 });

        Assert.Equal([2L, 4L], rows.Select(r => r.Line));
        Assert.Equal(1, read.Report.RejectedByReason[RejectReason.LineTooLong]);
        Assert.Equal(3, read.Report.Rejects.Single().Line);
    }

    [Theory]
    [InlineData(-1, 1 << 20, 4 << 20, 0, "MaxRejectDetails")]
    [InlineData(10, 100, 4 << 20, 0, "MaxLineBytes")]
    [InlineData(10, 1 << 20, 1000, 0, "ChunkBytes")]
    [InlineData(10, 1 << 20, 4 << 20, -2, "Parallelism")]
    public void Options_Invalid_AreRefusedNamingTheOption(int maxRejects, int maxLine, int chunk, int parallelism, string name)
    {
        var options = new FlowReaderOptions { MaxRejectDetails = maxRejects, MaxLineBytes = maxLine, ChunkBytes = chunk, Parallelism = parallelism };

        var ex = Assert.Throws<ArgumentException>(() => new FlowCsvReader(options));

        Assert.Equal(name, ex.ParamName);
        Assert.StartsWith(name, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Reports on the reading thread (Progress&lt;T&gt; would post to the thread pool and race the asserts).</summary>
    private sealed class SynchronousProgress(Action<ReadProgress> report) : IProgress<ReadProgress>
    {
        public void Report(ReadProgress value) => report(value);
    }
}
