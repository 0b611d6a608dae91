using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Stakeout.Core;
using Stakeout.Ingest;

namespace Stakeout.Benchmarks;

/// <summary>Finds the real CIC file the micro benchmarks parse (../shared/data beside the clone, or STAKEOUT_SHARED_DATA).</summary>
internal static class BenchData
{
    public const string File = "cicids2017/mlcve_friday-ddos_head9998.csv";

    public static byte[] Load()
    {
        string? root = Environment.GetEnvironmentVariable("STAKEOUT_SHARED_DATA");
        if (string.IsNullOrEmpty(root))
        {
            // BenchmarkDotNet runs each benchmark in a child process under bin/, so look upwards for the clone's root.
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "Stakeout.slnx")))
                {
                    root = Path.Combine(dir.FullName, "..", "shared", "data");
                    break;
                }
            }
        }

        string path = Path.Combine(root ?? ".", File);
        return System.IO.File.Exists(path)
            ? System.IO.File.ReadAllBytes(path)
            : throw new FileNotFoundException($"the micro benchmarks parse {File} from ../shared/data; set STAKEOUT_SHARED_DATA to its directory.", path);
    }
}

/// <summary>
/// Text to float, per field, over every numeric cell of a real CIC file (integers, 10-digit decimals, Infinity, NaN).
/// Baseline: the framework's UTF-8 <see cref="float.TryParse(ReadOnlySpan{byte}, NumberStyles, IFormatProvider?, out float)"/>.
/// </summary>
[MemoryDiagnoser]
public class FloatParseBenchmarks
{
    private byte[] _text = [];
    private (int Start, int Length, int LineEnd)[] _fields = [];

    [GlobalSetup]
    public void Setup()
    {
        _text = BenchData.Load();
        var fields = new List<(int, int, int)>();
        int lineStart = Array.IndexOf(_text, (byte)'\n') + 1;
        while (lineStart < _text.Length)
        {
            int lineEnd = Array.IndexOf(_text, (byte)'\n', lineStart);
            int end = _text[lineEnd - 1] == (byte)'\r' ? lineEnd - 1 : lineEnd;
            int start = lineStart;
            for (int i = lineStart; i <= end; i++)
            {
                if (i == end || _text[i] == (byte)',')
                {
                    fields.Add((start, i - start, end));
                    start = i + 1;
                }
            }

            fields.RemoveAt(fields.Count - 1); // the label
            lineStart = lineEnd + 1;
        }

        _fields = [.. fields];
    }

    [Benchmark(Baseline = true, Description = "float.TryParse (UTF-8)")]
    public float Framework()
    {
        float sum = 0;
        foreach (var (start, length, _) in _fields)
        {
            if (float.TryParse(_text.AsSpan(start, length), NumberStyles.Float, CultureInfo.InvariantCulture, out float v))
            {
                sum += v;
            }
        }

        return sum;
    }

    // As ChunkParser calls it: from the field's start within its line, so the digit scan may look past the field.
    [Benchmark(Description = "FastFloat.TryParsePrefix")]
    public float Fast()
    {
        float sum = 0;
        foreach (var (start, length, lineEnd) in _fields)
        {
            int pos = start;
            if (FastFloat.TryParsePrefix(_text.AsSpan(0, lineEnd), ref pos, out float v) && pos == start + length)
            {
                sum += v;
            }
            else if (FastFloat.TryParseField(_text.AsSpan(start, length), out v))
            {
                sum += v;
            }
        }

        return sum;
    }
}

/// <summary>
/// Whole rows into a <see cref="FlowBatch"/>: ChunkParser (what each reader worker runs) against the obvious baseline,
/// decoding to strings, string.Split and float.Parse, on the 9,998 real rows of one CIC file.
/// </summary>
[MemoryDiagnoser]
public class RowParseBenchmarks
{
    private byte[] _rows = [];
    private int _lineCount;
    private HeaderMap? _map;
    private readonly FlowReaderOptions _options = new();

    [GlobalSetup]
    public void Setup()
    {
        byte[] text = BenchData.Load();
        int headerEnd = Array.IndexOf(text, (byte)'\n');
        _map = HeaderMap.Parse(text.AsSpan(0, headerEnd - 1), BenchData.File, _options);
        _rows = text[(headerEnd + 1)..];
        _lineCount = _rows.AsSpan().Count((byte)'\n');
    }

    [Benchmark(Baseline = true, Description = "string.Split + float.Parse")]
    public int SplitAndParse()
    {
        var batch = new FlowBatch(_lineCount, withIdentity: false);
        string[] lines = Encoding.UTF8.GetString(_rows).Split('\n');
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string line in lines)
        {
            if (line.Length == 0)
            {
                continue;
            }

            string[] cells = line.TrimEnd('\r').Split(',');
            var features = batch.Features.AsSpan(batch.Count * FeatureSchema.Count, FeatureSchema.Count);
            for (int c = 0; c < cells.Length - 1; c++)
            {
                int f = _map!.FeatureIndex[c];
                if (f >= 0)
                {
                    features[f] = float.Parse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture);
                }
            }

            string label = cells[^1].Trim();
            if (!labels.TryGetValue(label, out int id))
            {
                id = labels.Count;
                labels.Add(label, id);
            }

            batch.LabelIds[batch.Count++] = id;
        }

        return batch.Count;
    }

    [Benchmark(Description = "ChunkParser.Parse")]
    public int ChunkParserParse()
    {
        var batch = new FlowBatch(_lineCount, withIdentity: false);
        new ChunkParser(_map!, _options, new LabelVocabulary(), BenchData.File, new ChunkTally()).Parse(_rows, 2, batch);
        return batch.Count;
    }
}
