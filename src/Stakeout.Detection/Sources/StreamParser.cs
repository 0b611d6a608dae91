using System.Text;
using System.Text.Json;
using Stakeout.Core;
using Stakeout.Ingest;

namespace Stakeout.Detection;

/// <summary>
/// One text stream's parser: the header learned once (a CSV header line, or the keys of the first JSON object), mapped
/// to canonical features by the reader's header mapping. Used by the single parse stage only.
/// </summary>
internal sealed class StreamParser
{
    private static readonly string[] RejectCodes = BuildRejectCodes();
    private readonly byte[][]? _jsonKeys;
    private byte[] _scratch = [];

    private StreamParser(string stream, FlowLineParser lines, byte[][]? jsonKeys, byte[] header)
    {
        Stream = stream;
        Lines = lines;
        _jsonKeys = jsonKeys;
        Header = header;
    }

    public string Stream { get; }

    public FlowLineParser Lines { get; }

    /// <summary>The header line as received (CSV) or the first JSON line's key list, to tell a repeated header from a new one.</summary>
    public byte[] Header { get; }

    public bool IsJson => _jsonKeys is not null;

    /// <summary>
    /// Learns the header from <paramref name="first"/> (a CSV header line, or a JSON object whose keys name the columns)
    /// and checks that the stream provides every feature the model reads. Throws <see cref="StreamSchemaException"/>.
    /// </summary>
    public static StreamParser Create(ReadOnlySpan<byte> first, string stream, FlowReaderOptions options, ModelHandle? model)
    {
        var trimmed = first.TrimStart(" \t\uFEFF"u8).TrimStart([(byte)0xEF, (byte)0xBB, (byte)0xBF]);
        byte[][]? keys = null;
        byte[] headerLine;
        if (!trimmed.IsEmpty && trimmed[0] == (byte)'{')
        {
            keys = ReadJsonKeys(trimmed, stream);
            headerLine = Encoding.UTF8.GetBytes(string.Join(',', keys.Select(k => Encoding.UTF8.GetString(k))));
        }
        else
        {
            headerLine = first.ToArray();
        }

        FlowLineParser parser;
        try
        {
            parser = FlowLineParser.Create(headerLine, stream, options);
        }
        catch (FlowDataException ex)
        {
            throw new StreamSchemaException(stream, ex.Message);
        }

        // Without a model (a sensor that only forwards flows) there is nothing to check the header against yet.
        var missing = model?.MissingFrom(parser.HasFeature) ?? [];
        if (missing.Count > 0)
        {
            throw new StreamSchemaException(
                stream,
                $"the stream lacks {missing.Count} feature(s) the model '{model?.Source}' reads: {string.Join(", ", missing.Select(m => $"'{m}'"))}.",
                missing);
        }

        return new StreamParser(stream, parser, keys, keys is null ? headerLine : first.ToArray());
    }

    /// <summary>True when <paramref name="line"/> is this stream's header again (a rotated file starts with it).</summary>
    public bool IsSameHeader(ReadOnlySpan<byte> line) => !IsJson && line.TrimEnd("\r"u8).SequenceEqual(Header.AsSpan().TrimEnd("\r"u8));

    /// <summary>Parses the lines of <paramref name="chunk"/> into <paramref name="batch"/>, counting every line not parsed.</summary>
    public void Parse(TextChunk chunk, FlowBatch batch, DetectionCounters counters)
    {
        ReadOnlySpan<byte> data = chunk.Buffer.AsSpan(0, chunk.Length);
        long line = chunk.FirstLine;
        while (!data.IsEmpty)
        {
            int nl = data.IndexOf((byte)'\n');
            var text = nl < 0 ? data : data[..nl];
            data = nl < 0 ? [] : data[(nl + 1)..];
            ParseOne(text, line, batch, counters);
            line++;
        }
    }

    private void ParseOne(ReadOnlySpan<byte> text, long line, FlowBatch batch, DetectionCounters counters)
    {
        if (_jsonKeys is not null && text.Trim(" \t\r"u8).Length > 0)
        {
            if (!TryJsonToCsv(text, out int length))
            {
                counters.AddRejected(PipelineRejectReasons.InvalidJson, 1);
                return;
            }

            text = _scratch.AsSpan(0, length);
        }

        switch (Lines.ParseLine(text, line, batch))
        {
            case LineOutcome.Rejected:
                counters.AddRejected(RejectCodes[(int)Lines.LastReject!.Reason], 1);
                break;
            case LineOutcome.Dropped:
                counters.AddDropped(DropReasons.NonFinite, 1);
                break;
            case LineOutcome.Blank:
                // Not a row: the feed did not count it in.
                break;
            default:
                break;
        }
    }

    private static byte[][] ReadJsonKeys(ReadOnlySpan<byte> json, string stream)
    {
        var keys = new List<byte[]>();
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new StreamSchemaException(stream, "the first JSON line is not an object.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                keys.Add(Encoding.UTF8.GetBytes(reader.GetString()!));
                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException ex)
        {
            throw new StreamSchemaException(stream, $"the first JSON line is not valid JSON: {ex.Message}");
        }

        if (keys.Count == 0)
        {
            throw new StreamSchemaException(stream, "the first JSON object has no keys; its keys name the columns.");
        }

        return [.. keys];
    }

    /// <summary>Rewrites a JSON object as a CSV line in the header's column order (missing keys become empty cells).</summary>
    private bool TryJsonToCsv(ReadOnlySpan<byte> json, out int length)
    {
        length = 0;
        var keys = _jsonKeys!;
        Span<Range> cells = keys.Length <= 256 ? stackalloc Range[keys.Length] : new Range[keys.Length];
        var values = new byte[json.Length + keys.Length + 16];
        int used = 0;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            int expected = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int column = -1;
                if (expected < keys.Length && reader.ValueTextEquals(keys[expected]))
                {
                    column = expected;
                }
                else
                {
                    for (int k = 0; k < keys.Length; k++)
                    {
                        if (reader.ValueTextEquals(keys[k]))
                        {
                            column = k;
                            break;
                        }
                    }
                }

                if (column < 0 || !reader.Read())
                {
                    return false;
                }

                expected = column + 1;
                int start = used;
                switch (reader.TokenType)
                {
                    case JsonTokenType.Number:
                        reader.ValueSpan.CopyTo(values.AsSpan(used));
                        used += reader.ValueSpan.Length;
                        break;
                    case JsonTokenType.String:
                        int need = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
                        if (used + need > values.Length)
                        {
                            return false;
                        }

                        used += reader.CopyString(values.AsSpan(used));
                        if (values.AsSpan(start, used - start).IndexOfAny((byte)',', (byte)'"') >= 0)
                        {
                            return false;
                        }

                        break;
                    case JsonTokenType.Null:
                        break;
                    case JsonTokenType.True or JsonTokenType.False:
                        values[used++] = reader.TokenType == JsonTokenType.True ? (byte)'1' : (byte)'0';
                        break;
                    default:
                        return false;
                }

                cells[column] = start..used;
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return false;
            }
        }
        catch (JsonException)
        {
            // A malformed line is a counted reject, like a malformed CSV row.
            return false;
        }

        int total = used + keys.Length;
        if (_scratch.Length < total)
        {
            _scratch = new byte[Math.Max(total, 4096)];
        }

        for (int c = 0; c < keys.Length; c++)
        {
            if (c > 0)
            {
                _scratch[length++] = (byte)',';
            }

            var (offset, count) = cells[c].GetOffsetAndLength(used);
            values.AsSpan(offset, count).CopyTo(_scratch.AsSpan(length));
            length += count;
        }

        return true;
    }

    private static string[] BuildRejectCodes()
    {
        var values = Enum.GetValues<RejectReason>();
        var codes = new string[values.Length];
        foreach (var v in values)
        {
            codes[(int)v] = JsonSerializer.Serialize(v).Trim('"');
        }

        return codes;
    }
}
