using System.Globalization;
using System.Text;
using Stakeout.Core;
using static Stakeout.Ingest.Tests.FlowCsv;

namespace Stakeout.Ingest.Tests;

/// <summary>
/// Seeded fuzzing of the whole reader: real-looking files of every layout, mutated (truncated lines, random bytes, huge
/// fields, missing or extra columns, special tokens, blank lines), read under random options. The reader may refuse a
/// file only with <see cref="FlowDataException"/>; otherwise the accounting balances and rows read is the number of
/// non-empty data lines. A failure names the seed and case, so <c>FuzzCase(seed, case)</c> replays it.
/// </summary>
public sealed class ReaderFuzzTests : IDisposable
{
    private const int CasesPerSeed = 500;
    private static readonly string[] Tokens =
    [
        "Infinity", "-Infinity", "inf", "-inf", "NaN", "nan", "", " ", "-1", "0", "-0", "1e39", "-1e39", "1e-50", "80.0", "6.0",
        "0x1F", "1,5", "\"", "\"\"", "\"1\"", "\"a,b\"", "1e", ".", "-", "+", "12abc", "\u00e9", "\t", "3.4028236e38", "00000000000000000000001",
        "123456789012345678901234567890", "7/7/2017 3:30", "BENIGN", "Web Attack \u0096 XSS", "192.168.10.5",
    ];

    private static readonly string[] Labels =
    [
        "BENIGN", "DDoS", "PortScan", "Bot", "DoS Hulk", "Web Attack \u2013 XSS", "Web Attack \u0096 Sql Injection", "Infilteration",
        "DoS attacks-Hulk", "NeedManualLabel", "WebAttack", "", " ", "ATTACK",
    ];

    private readonly TempDir _dir = new();
    private long _used;
    private long _rejected;
    private long _dropped;

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(20251125)]
    [InlineData(7)]
    [InlineData(424242)]
    [InlineData(1337)]
    public void Read_MutatedFiles_NeverCrashAndAlwaysBalance(int seed)
    {
        var random = new Random(seed);
        int refused = 0;
        for (int i = 0; i < CasesPerSeed; i++)
        {
            refused += FuzzCase(seed, i, new Random(random.Next())) ? 0 : 1;
        }

        // The mutations must leave most files readable, or the fuzzing would only exercise the header checks.
        Assert.True(refused < CasesPerSeed / 3, $"{refused} of {CasesPerSeed} files were refused");
        Assert.True(_used > 0 && _rejected > 0 && _dropped > 0, $"used {_used}, rejected {_rejected}, dropped {_dropped}: every outcome is exercised");
    }

    /// <summary>Runs one case; true when the file was read, false when it was refused with a FlowDataException.</summary>
    private bool FuzzCase(int seed, int index, Random random)
    {
        byte[] bytes = MakeFile(random);
        string path = _dir.Write($"case-{seed}-{index}.csv", bytes);
        var options = new FlowReaderOptions
        {
            NonFinite = (NonFinitePolicy)random.Next(4),
            Duplicates = (DuplicatePolicy)random.Next(3),
            Strict = random.Next(10) == 0,
            MaxRejectDetails = random.Next(3) == 0 ? 0 : 1000,
            ChunkBytes = random.Next(20) == 0 ? 4 << 20 : 64 * 1024 * random.Next(1, 4), // small chunks: more chunk boundaries, less memory
            MaxLineBytes = random.Next(4) == 0 ? 1024 : 1 << 20,
            Parallelism = random.Next(1, 3),
        };
        string where = $"seed {seed}, case {index} ({path}), options {options}";

        FlowRead? read = null;
        var used = new List<(long Line, int Label, float[] Row)>();
        try
        {
            read = new FlowCsvReader(options).Open([path]);
            foreach (var batch in read.ReadBatches())
            {
                for (int r = 0; r < batch.Count; r++)
                {
                    used.Add((batch.Lines[r], batch.LabelIds[r], batch.Row(r).ToArray()));
                }
            }
        }
        catch (FlowDataException ex)
        {
            Assert.True(ex.File == path, $"{where}: the error names {ex.File}");
            Assert.False(string.IsNullOrWhiteSpace(ex.Reason), where);
            if (read is not null && ex.Line > 1)
            {
                Assert.True(options.Strict, $"{where}: a bad row stopped a non-strict read: {ex.Message}");
            }

            return false;
        }
        catch (Exception ex)
        {
            Assert.Fail($"{where}: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
        }

        var report = read!.Report;
        var file = report.Files.Single();
        long expectedRows = NonEmptyDataLines(bytes);
        Assert.True(report.RowsRead == report.RowsUsed + report.RowsRejected + report.RowsDropped, $"{where}: not balanced");
        Assert.True(file.RowsRead == file.RowsUsed + file.RowsRejected + file.RowsDropped, $"{where}: file not balanced");
        Assert.True(report.RowsRead == expectedRows, $"{where}: rows read {report.RowsRead}, non-empty data lines {expectedRows}");
        Assert.True(report.RowsUsed == used.Count, $"{where}: rows used {report.RowsUsed}, rows handed out {used.Count}");
        Assert.True(report.RowsRejected == report.RejectedByReason.Values.Sum(), where);
        Assert.True(report.RowsDropped == report.DroppedByReason.Values.Sum(), where);
        Assert.True(!options.Strict || report.RowsRejected == 0, $"{where}: strict read finished with rejects");
        Assert.True(report.Rejects.Count <= Math.Min(report.RowsRejected, options.MaxRejectDetails), where);
        long lines = bytes.Count(b => b == (byte)'\n') + 1;
        Assert.All(report.Rejects, r => Assert.True(r.File == path && r.Line >= 2 && r.Line <= lines, $"{where}: reject at {r.File}:{r.Line}"));
        for (int i = 0; i < used.Count; i++)
        {
            Assert.True(used[i].Line >= 2 && used[i].Line <= lines && (i == 0 || used[i].Line > used[i - 1].Line), $"{where}: line {used[i].Line}");
            Assert.True(used[i].Label < read.Labels.Count, where);
            Assert.True(used[i].Label >= 0 || !file.HasLabel, where);
            if (options.NonFinite != NonFinitePolicy.Keep)
            {
                Assert.True(!used[i].Row.Any(float.IsInfinity), $"{where}: infinity under {options.NonFinite} at line {used[i].Line}");
            }

            if (options.NonFinite is NonFinitePolicy.Drop or NonFinitePolicy.Zero)
            {
                for (int f = 0; f < FeatureSchema.Count; f++)
                {
                    Assert.True(float.IsFinite(used[i].Row[f]) || file.MissingFeatures.Contains(FeatureSchema.Names[f]), $"{where}: {FeatureSchema.Names[f]} not finite at line {used[i].Line}");
                }
            }
        }

        _used += report.RowsUsed;
        _rejected += report.RowsRejected;
        _dropped += report.RowsDropped;
        return true;
    }

    /// <summary>The issue's definition: data lines (after the header) with something besides spaces and tabs.</summary>
    private static long NonEmptyDataLines(byte[] bytes)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i <= bytes.Length; i++)
        {
            if (i == bytes.Length || bytes[i] == (byte)'\n')
            {
                if (i < bytes.Length || start < bytes.Length)
                {
                    lines.Add(bytes[start..i]);
                }

                start = i + 1;
            }
        }

        return lines.Skip(1).Count(l =>
        {
            var t = l.AsSpan();
            if (!t.IsEmpty && t[^1] == (byte)'\r')
            {
                t = t[..^1];
            }

            return t.IndexOfAnyExcept((byte)' ', (byte)'\t') >= 0;
        });
    }

    private static byte[] MakeFile(Random random)
    {
        int layout = random.Next(6);
        string header = layout switch
        {
            0 => MlcveHeader,
            1 => TrafficLabellingHeader,
            2 => CicFlowMeterV4Header,
            3 => CseCicIds2018Header,
            4 => string.Join(',', FeatureSchema.Names.Skip(1)) + ",Label",
            _ => RandomSubsetHeader(random),
        };
        int columns = header.Split(',').Length;
        string newline = random.Next(3) == 0 ? "\r\n" : "\n";
        var lines = new List<byte[]> { Bytes(header) };
        int rowCount = random.Next(0, 40);
        for (int r = 0; r < rowCount; r++)
        {
            lines.Add(Mutate(random, RealLookingRow(random, layout, columns, header)));
            if (random.Next(12) == 0)
            {
                lines.Add(random.Next(2) == 0 ? [] : Bytes(new string(' ', random.Next(1, 4)) + (random.Next(2) == 0 ? "\t" : "")));
            }

            if (random.Next(15) == 0 && lines.Count > 2)
            {
                lines.Add(lines[random.Next(1, lines.Count)]); // an exact duplicate
            }
        }

        if (random.Next(20) == 0)
        {
            lines[0] = Mutate(random, Bytes(header)); // a damaged header
        }

        var file = new List<byte>();
        if (random.Next(10) == 0)
        {
            file.AddRange([0xEF, 0xBB, 0xBF]);
        }

        for (int i = 0; i < lines.Count; i++)
        {
            file.AddRange(lines[i]);
            if (i < lines.Count - 1 || random.Next(4) != 0)
            {
                file.AddRange(Bytes(random.Next(8) == 0 ? "\r\n" : newline));
            }
        }

        if (random.Next(40) == 0)
        {
            var noise = new byte[random.Next(1, 3000)];
            random.NextBytes(noise);
            return random.Next(2) == 0 ? noise : [.. file, .. noise];
        }

        return [.. file];
    }

    private static string RandomSubsetHeader(Random random)
    {
        var names = FeatureSchema.Names.Where(_ => random.Next(4) != 0).ToList();
        if (names.Count == 0)
        {
            names.Add("Flow Duration");
        }

        if (random.Next(2) == 0)
        {
            names.Insert(random.Next(names.Count + 1), "Label");
        }

        if (random.Next(3) == 0)
        {
            names.Insert(0, "Timestamp");
            names.Insert(0, "Src IP");
        }

        if (random.Next(4) == 0)
        {
            names.Insert(random.Next(names.Count + 1), "Extra Column");
        }

        return string.Join(',', names.Select(n => random.Next(3) == 0 ? " " + n : n));
    }

    private static byte[] RealLookingRow(Random random, int layout, int columns, string header)
    {
        var names = header.Split(',').Select(n => n.Trim()).ToArray();
        var cells = new string[columns];
        for (int c = 0; c < columns; c++)
        {
            cells[c] = names[c] switch
            {
                "Label" => Labels[random.Next(Labels.Length)],
                "Flow ID" => "192.168.10.5-104.16.207.165-54865-443-6",
                "Source IP" or "Src IP" or "Destination IP" or "Dst IP" => $"{random.Next(1, 255)}.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}",
                "Source Port" or "Src Port" => random.Next(65536).ToString(CultureInfo.InvariantCulture),
                "Protocol" => random.Next(2) == 0 ? "6" : "17.0",
                "Timestamp" => layout == 3 ? "14/02/2018 08:31:01" : layout == 2 ? "09/04/2014 02:30:35 AM" : $"{random.Next(3, 8)}/7/2017 {random.Next(1, 13)}:{random.Next(60):00}",
                _ => Number(random),
            };
        }

        return Bytes(string.Join(',', cells));
    }

    private static string Number(Random random) => random.Next(10) switch
    {
        0 => (random.NextDouble() * 1e7).ToString("R", CultureInfo.InvariantCulture),
        1 => (random.NextDouble() * 1000).ToString("0.0", CultureInfo.InvariantCulture),
        2 => "-1",
        3 => "0",
        4 => random.Next(2) == 0 ? "Infinity" : "NaN",
        _ => random.Next(0, 2_000_000).ToString(CultureInfo.InvariantCulture),
    };

    private static byte[] Mutate(Random random, byte[] line)
    {
        var bytes = new List<byte>(line);
        int mutations = random.Next(4) == 0 ? 0 : random.Next(1, 4);
        for (int m = 0; m < mutations; m++)
        {
            switch (random.Next(9))
            {
                case 0 when bytes.Count > 0: // truncate
                    int at = random.Next(bytes.Count);
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 1: // random bytes (not newlines: those would make new lines the count could not see)
                    for (int k = random.Next(1, 6); k > 0; k--)
                    {
                        byte b = (byte)random.Next(256);
                        bytes.Insert(random.Next(bytes.Count + 1), b == (byte)'\n' ? (byte)0x96 : b);
                    }

                    break;
                case 2: // a huge field
                    string huge = random.Next(2) == 0 ? new string('9', random.Next(1000, 100_000)) : new string('x', random.Next(1000, 50_000));
                    bytes.InsertRange(random.Next(bytes.Count + 1), Encoding.ASCII.GetBytes(huge));
                    break;
                case 3: // remove a field
                    RemoveField(random, bytes);
                    break;
                case 4: // an extra field
                    bytes.InsertRange(random.Next(bytes.Count + 1), Bytes(","));
                    break;
                case 5: // a special token in place of a field
                    ReplaceField(random, bytes, Tokens[random.Next(Tokens.Length)]);
                    break;
                case 6: // a carriage return inside the line
                    bytes.Insert(random.Next(bytes.Count + 1), (byte)'\r');
                    break;
                case 7: // the raw cp1252 dash or its mis-encoding
                    bytes.InsertRange(random.Next(bytes.Count + 1), random.Next(2) == 0 ? [0x96] : [0xC2, 0x96]);
                    break;
                default: // a different label
                    ReplaceField(random, bytes, Labels[random.Next(Labels.Length)], last: true);
                    break;
            }
        }

        return [.. bytes];
    }

    private static void RemoveField(Random random, List<byte> bytes)
    {
        var commas = Enumerable.Range(0, bytes.Count).Where(i => bytes[i] == (byte)',').ToList();
        if (commas.Count < 2)
        {
            return;
        }

        int k = random.Next(commas.Count - 1);
        bytes.RemoveRange(commas[k], commas[k + 1] - commas[k]);
    }

    private static void ReplaceField(Random random, List<byte> bytes, string value, bool last = false)
    {
        var commas = Enumerable.Range(0, bytes.Count).Where(i => bytes[i] == (byte)',').ToList();
        if (commas.Count == 0)
        {
            return;
        }

        int k = last ? commas.Count - 1 : random.Next(commas.Count);
        int start = commas[k] + 1;
        int end = k + 1 < commas.Count ? commas[k + 1] : bytes.Count;
        bytes.RemoveRange(start, end - start);
        bytes.InsertRange(start, Bytes(value));
    }
}
