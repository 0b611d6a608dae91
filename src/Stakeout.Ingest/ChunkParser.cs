using System.Text;
using System.Text.Unicode;
using Stakeout.Core;

namespace Stakeout.Ingest;

/// <summary>
/// Parses whole lines of one file into a <see cref="FlowBatch"/>. One instance per chunk: it holds small caches (labels)
/// and scratch space, so chunks parse in parallel without locks except the label vocabulary's, taken once per new label.
/// </summary>
internal sealed class ChunkParser
{
    private const byte Comma = (byte)',';

    // Datasets have a handful of labels; a file with thousands (a wrong column taken as the label) must not turn the
    // linear cache into a quadratic scan, so only the first few are cached and the rest are resolved each time.
    private const int LabelCacheSize = 64;
    private readonly HeaderMap _map;
    private readonly FlowReaderOptions _options;
    private readonly LabelVocabulary _labels;
    private readonly string _file;
    private readonly ChunkTally _tally;
    private readonly List<(byte[] Bytes, int Id, string? Unknown)> _labelCache = [];
    private List<(int Start, int Length)>? _quotedRanges;
    private List<byte>? _quotedScratch;
    private readonly bool _inferAfternoon;

    // Row state, reset per line.
    private FlowIdentity _identity;
    private int _labelId;
    private bool _nonFinite;
    private string? _flowId;

    public ChunkParser(HeaderMap map, FlowReaderOptions options, LabelVocabulary labels, string file, ChunkTally tally)
    {
        _map = map;
        _options = options;
        _labels = labels;
        _file = file;
        _tally = tally;
        _inferAfternoon = options.InferCicAfternoonHours && map.Layout is FileLayout.TrafficLabelling or FileLayout.PartialCicIds2017;
    }

    /// <summary>Parses <paramref name="data"/> (complete lines; the last may lack its newline) starting at line <paramref name="firstLine"/>.</summary>
    public void Parse(ReadOnlySpan<byte> data, long firstLine, FlowBatch batch)
    {
        long line = firstLine;
        int pos = 0;
        while (pos < data.Length)
        {
            int nl = data.Slice(pos).IndexOf((byte)'\n');
            ReadOnlySpan<byte> text;
            if (nl < 0)
            {
                text = data.Slice(pos);
                pos = data.Length;
                _tally.NoFinalNewline = true;
            }
            else
            {
                text = data.Slice(pos, nl);
                pos += nl + 1;
            }

            ParseLine(text, line, batch);
            line++;
        }
    }

    /// <summary>Parses one line (without its '\n') into the next row of <paramref name="batch"/>, or counts why not.</summary>
    public void ParseLine(ReadOnlySpan<byte> text, long line, FlowBatch batch)
    {
        if (!text.IsEmpty && text[^1] == (byte)'\r')
        {
            text = text[..^1];
            _tally.CrLines++;
        }

        // An empty line is not a row (the issue: rows read = non-empty data lines); it is only counted as a quirk.
        if (text.IsEmpty || text.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0)
        {
            _tally.BlankLines++;
            return;
        }

        _tally.RowsRead++;

        if (text.Length > _options.MaxLineBytes)
        {
            Reject(line, null, RejectReason.LineTooLong, $"line is {text.Length} bytes, over the limit of {_options.MaxLineBytes}");
            return;
        }

        int row = batch.Count;
        Span<float> features = batch.Features.AsSpan(row * FeatureSchema.Count, FeatureSchema.Count);
        _identity = FlowIdentity.Empty;
        _labelId = -1;
        _nonFinite = false;
        _flowId = null;

        bool ok = text.IndexOf((byte)'"') >= 0 ? ParseQuoted(text, line, features) : ParsePlain(text, line, features);
        if (!ok)
        {
            return;
        }

        foreach (int absent in _map.AbsentFeatures)
        {
            features[absent] = float.NaN;
        }

        if (_map.FillFwdHeaderDuplicate)
        {
            features[FeatureSchema.FwdHeaderLengthDuplicate] = features[FeatureSchema.FwdHeaderLength];
        }

        if (features[FeatureSchema.InitWinBytesForward] == -1f || features[FeatureSchema.InitWinBytesBackward] == -1f)
        {
            _tally.InitWinMinusOne++;
        }

        if (_nonFinite && _options.NonFinite == NonFinitePolicy.Drop)
        {
            _tally.NonFiniteDrops++;
            return;
        }

        batch.LabelIds[row] = _labelId;
        batch.Lines[row] = line;
        if (batch.Identities is not null)
        {
            if (_map.FeaturePresent[FeatureSchema.DestinationPort] && _identity.DestinationPort < 0)
            {
                float port = features[FeatureSchema.DestinationPort];
                if (port >= 0 && port <= 65535)
                {
                    _identity = _identity with { DestinationPort = (int)port };
                }
            }

            batch.Identities[row] = _identity;
            batch.FlowIds![row] = _flowId;
        }

        batch.Count = row + 1;
    }

    private bool ParsePlain(ReadOnlySpan<byte> text, long line, Span<float> features)
    {
        ColumnKind[] kinds = _map.Kinds;
        int[] featureIndex = _map.FeatureIndex;
        int pos = 0;
        for (int c = 0; c < kinds.Length; c++)
        {
            if (c > 0)
            {
                if (pos >= text.Length)
                {
                    return RejectFieldCount(text, line);
                }

                pos++; // the comma
            }

            if (kinds[c] == ColumnKind.Feature)
            {
                int start = pos;
                // A value that overflows float (1e39) takes the slow path, where the non-finite policy sees it.
                if (FastFloat.TryParsePrefix(text, ref pos, out float v) && (pos == text.Length || text[pos] == Comma) && float.IsFinite(v))
                {
                    features[featureIndex[c]] = v;
                    continue;
                }

                pos = start;
            }

            int end = text.Slice(pos).IndexOf(Comma);
            end = end < 0 ? text.Length : pos + end;
            if (!ProcessField(c, text[pos..end], line, features))
            {
                return false;
            }

            pos = end;
        }

        if (pos != text.Length)
        {
            return RejectFieldCount(text, line);
        }

        return true;
    }

    private bool ParseQuoted(ReadOnlySpan<byte> text, long line, Span<float> features)
    {
        _tally.QuotedLines++;
        _quotedRanges ??= [];
        _quotedScratch ??= [];
        if (!CsvSplit.TrySplitQuoted(text, _quotedRanges, _quotedScratch))
        {
            Reject(line, null, RejectReason.UnbalancedQuote, "a quoted field is not closed on this line");
            return false;
        }

        if (_quotedRanges.Count != _map.ColumnCount)
        {
            Reject(line, null, RejectReason.FieldCount, $"expected {_map.ColumnCount} fields, found {_quotedRanges.Count}");
            return false;
        }

        byte[] scratch = [.. _quotedScratch];
        for (int c = 0; c < _quotedRanges.Count; c++)
        {
            var (start, length) = _quotedRanges[c];
            if (!ProcessField(c, scratch.AsSpan(start, length), line, features))
            {
                return false;
            }
        }

        return true;
    }

    private bool ProcessField(int column, ReadOnlySpan<byte> field, long line, Span<float> features)
    {
        ColumnKind kind = _map.Kinds[column];
        if (!_options.ReadIdentity && kind is ColumnKind.FlowId or ColumnKind.SourceIp or ColumnKind.DestinationIp or ColumnKind.SourcePort or ColumnKind.Protocol or ColumnKind.Timestamp)
        {
            return true;
        }

        switch (kind)
        {
            case ColumnKind.Feature:
                return ParseFeature(column, field, line, features);
            case ColumnKind.Label:
                return ParseLabel(column, field, line);
            case ColumnKind.SourceIp:
            case ColumnKind.DestinationIp:
                return ParseAddress(column, field, line);
            case ColumnKind.SourcePort:
                return ParseSmallInt(column, field, line, 65535, out int sp) && Set(ref _identity, sp, ColumnKind.SourcePort);
            case ColumnKind.Protocol:
                return ParseSmallInt(column, field, line, 255, out int proto) && Set(ref _identity, proto, ColumnKind.Protocol);
            case ColumnKind.Timestamp:
                return ParseTimestamp(column, field, line);
            case ColumnKind.FlowId:
                field = field.Trim((byte)' ');
                _flowId = field.IsEmpty ? null : Encoding.UTF8.GetString(field);
                return true;
            default:
                return true;
        }
    }

    private static bool Set(ref FlowIdentity identity, int value, ColumnKind kind)
    {
        identity = kind == ColumnKind.SourcePort ? identity with { SourcePort = value } : identity with { Protocol = (short)value };
        return true;
    }

    private bool ParseFeature(int column, ReadOnlySpan<byte> field, long line, Span<float> features)
    {
        int f = _map.FeatureIndex[column];
        ReadOnlySpan<byte> t = field.Trim((byte)' ');
        float value;
        if (t.IsEmpty)
        {
            _tally.EmptyCells[f]++;
            value = float.NaN;
        }
        else if (!TrySpecial(t, f, out value) && !FastFloat.TryParseField(t, out value))
        {
            // Special tokens go first: the framework's parser would take "Infinity" and "NaN" silently, uncounted.
            return Reject(line, _map.Names[column], RejectReason.NotANumber, $"not a number: '{Quote(field)}'");
        }

        if (!float.IsFinite(value))
        {
            _nonFinite = true;
            value = _options.NonFinite switch
            {
                NonFinitePolicy.Missing => float.NaN,
                NonFinitePolicy.Zero => 0f,
                _ => value,
            };
        }

        features[f] = value;
        return true;
    }

    private bool TrySpecial(ReadOnlySpan<byte> t, int feature, out float value)
    {
        bool negative = t[0] == (byte)'-';
        ReadOnlySpan<byte> body = t[0] is (byte)'-' or (byte)'+' ? t[1..] : t;
        if (body.SequenceEqual("Infinity"u8) || Ascii.EqualsIgnoreCase(body, "infinity"u8))
        {
            _tally.InfinityTokens[feature]++;
            value = negative ? float.NegativeInfinity : float.PositiveInfinity;
            return true;
        }

        if (Ascii.EqualsIgnoreCase(body, "inf"u8))
        {
            _tally.LowerInfTokens[feature]++;
            value = negative ? float.NegativeInfinity : float.PositiveInfinity;
            return true;
        }

        if (Ascii.EqualsIgnoreCase(body, "nan"u8))
        {
            _tally.NanTokens[feature]++;
            value = float.NaN;
            return true;
        }

        value = 0;
        return false;
    }

    private bool ParseLabel(int column, ReadOnlySpan<byte> field, long line)
    {
        ReadOnlySpan<byte> t = field.Trim((byte)' ');
        if (t.IsEmpty)
        {
            return Reject(line, _map.Names[column], RejectReason.MissingLabel, "the label is empty");
        }

        foreach (var (bytes, id, unknown) in _labelCache)
        {
            if (t.SequenceEqual(bytes))
            {
                _labelId = id;
                CountLabel(t, unknown);
                return true;
            }
        }

        string text = DecodeLabel(t);
        var definition = LabelTaxonomy.Resolve(text);
        int newId = _labels.GetOrAdd(definition);
        string? unknownName = definition.Known ? null : definition.Name;
        if (_labelCache.Count < LabelCacheSize)
        {
            _labelCache.Add((t.ToArray(), newId, unknownName));
        }

        _labelId = newId;
        CountLabel(t, unknownName);
        if (_tally.CoarsestLevel is null || definition.Level > _tally.CoarsestLevel)
        {
            _tally.CoarsestLevel = definition.Level;
        }

        return true;
    }

    private void CountLabel(ReadOnlySpan<byte> t, string? unknown)
    {
        if (unknown is not null)
        {
            _tally.UnknownLabels ??= new(StringComparer.Ordinal);
            _tally.UnknownLabels[unknown] = _tally.UnknownLabels.GetValueOrDefault(unknown) + 1;
        }

        if (Ascii.IsValid(t))
        {
            return;
        }

        if (t.IndexOf("\u2013"u8) >= 0)
        {
            _tally.LabelEnDash++;
        }
        else if (t.IndexOf([(byte)0xC2, (byte)0x96]) >= 0)
        {
            _tally.LabelC2x96++;
        }
        else if (t.IndexOf((byte)0x96) >= 0)
        {
            _tally.LabelRaw0x96++;
        }
        else
        {
            _tally.LabelOtherNonAscii++;
        }
    }

    /// <summary>UTF-8 when valid; otherwise cp1252's en dash (0x96) and Latin-1 for the rest, as CIC's files were written.</summary>
    internal static string DecodeLabel(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return Encoding.UTF8.GetString(bytes);
        }

        var sb = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
        {
            sb.Append(b == 0x96 ? '\u2013' : (char)b);
        }

        return sb.ToString();
    }

    private bool ParseAddress(int column, ReadOnlySpan<byte> field, long line)
    {
        ReadOnlySpan<byte> t = field.Trim((byte)' ');
        if (t.IsEmpty)
        {
            return true;
        }

        if (!IpAddressValue.TryParse(t, out var address))
        {
            return Reject(line, _map.Names[column], RejectReason.InvalidAddress, $"not an IP address: '{Quote(field)}'");
        }

        _identity = _map.Kinds[column] == ColumnKind.SourceIp ? _identity with { SourceIp = address } : _identity with { DestinationIp = address };
        return true;
    }

    private bool ParseSmallInt(int column, ReadOnlySpan<byte> field, long line, int max, out int value)
    {
        value = -1;
        ReadOnlySpan<byte> t = field.Trim((byte)' ');
        if (t.IsEmpty)
        {
            return true;
        }

        if (!FastFloat.TryParseField(t, out float f) || f < 0 || f > max || f != MathF.Floor(f))
        {
            return Reject(line, _map.Names[column], RejectReason.InvalidPortOrProtocol, $"not an integer from 0 to {max}: '{Quote(field)}'");
        }

        if (t.IndexOf((byte)'.') >= 0)
        {
            _tally.PortsWrittenAsFloat++;
        }

        value = (int)f;
        return true;
    }

    private bool ParseTimestamp(int column, ReadOnlySpan<byte> field, long line)
    {
        ReadOnlySpan<byte> t = field.Trim((byte)' ');
        if (t.IsEmpty)
        {
            return true;
        }

        if (!FlowTimestamp.TryParse(t, _inferAfternoon, out DateTime value, out bool inferred))
        {
            return Reject(line, _map.Names[column], RejectReason.InvalidTimestamp, $"not a timestamp (expected d/M/yyyy H:mm[:ss] [AM|PM] or yyyy-MM-dd HH:mm:ss): '{Quote(field)}'");
        }

        if (inferred)
        {
            _tally.AfternoonInferred++;
        }

        _identity = _identity with { Timestamp = value };
        return true;
    }

    private bool RejectFieldCount(ReadOnlySpan<byte> text, long line)
    {
        int fields = text.Count(Comma) + 1;
        return Reject(line, null, RejectReason.FieldCount, $"expected {_map.ColumnCount} fields, found {fields}");
    }

    private bool Reject(long line, string? field, RejectReason reason, string detail)
    {
        _tally.RowsRejected++;
        _tally.RejectCounts[(int)reason]++;
        // Strict mode reports the first reject in full even when no details are kept (MaxRejectDetails = 0).
        if (_tally.Rejects.Count < _options.MaxRejectDetails || (_options.Strict && _tally.Rejects.Count == 0))
        {
            _tally.Rejects.Add(new RejectedRow(_file, line, field, reason, detail));
        }

        return false;
    }

    private static string Quote(ReadOnlySpan<byte> field)
    {
        string s = DecodeLabel(field.Length > 40 ? field[..40] : field);
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            sb.Append(char.IsControl(c) ? '?' : c);
        }

        return field.Length > 40 ? sb.Append("...").ToString() : sb.ToString();
    }
}
