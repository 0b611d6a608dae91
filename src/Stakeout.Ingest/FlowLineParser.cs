using Stakeout.Core;

namespace Stakeout.Ingest;

/// <summary>What became of one line handed to <see cref="FlowLineParser.ParseLine"/>.</summary>
public enum LineOutcome
{
    /// <summary>The line became the next row of the batch.</summary>
    Parsed,
    /// <summary>The line could not be read as a flow; <see cref="FlowLineParser.LastReject"/> says why.</summary>
    Rejected,
    /// <summary>The row was read but not used (non-finite under <see cref="NonFinitePolicy.Drop"/>); <see cref="FlowLineParser.LastDrop"/> says why.</summary>
    Dropped,
    /// <summary>An empty line: not a row, as in the batch reader (counted there only as the quirk "blank_lines").</summary>
    Blank,
}

/// <summary>
/// Parses a stream of flow CSV lines one at a time, with the same header mapping and row rules as
/// <see cref="FlowCsvReader"/>: built once from the stream's header line, then fed lines as they arrive (a socket, a
/// growing file). Not thread-safe: one instance per stream.
/// </summary>
public sealed class FlowLineParser
{
    private readonly HeaderMap _map;
    private readonly ChunkParser _parser;
    private readonly ChunkTally _tally = new();

    private FlowLineParser(HeaderMap map, FlowReaderOptions options, LabelVocabulary labels, string source)
    {
        _map = map;
        Labels = labels;
        Source = source;
        _parser = new ChunkParser(map, options with { MaxRejectDetails = 1 }, labels, source, _tally);
        MissingFeatures = [.. map.AbsentFeatures];
    }

    /// <summary>
    /// Learns a stream's header (one line, without its line end; a UTF-8 BOM and a trailing '\r' are removed). Throws
    /// <see cref="FlowDataException"/> naming <paramref name="source"/> when the line is not a flow CSV header.
    /// </summary>
    public static FlowLineParser Create(ReadOnlySpan<byte> header, string source, FlowReaderOptions? options = null, LabelVocabulary? labels = null)
    {
        Guard.NotBlank(source);
        var validated = (options ?? new FlowReaderOptions()).Validate();
        if (header.StartsWith([(byte)0xEF, (byte)0xBB, (byte)0xBF]))
        {
            header = header[3..];
        }

        if (!header.IsEmpty && header[^1] == (byte)'\r')
        {
            header = header[..^1];
        }

        var map = HeaderMap.Parse(header, source, validated);
        return new FlowLineParser(map, validated, labels ?? new LabelVocabulary(), source);
    }

    /// <summary>The stream's name, used in reject details.</summary>
    public string Source { get; }

    /// <summary>Label ids written into batches index this vocabulary.</summary>
    public LabelVocabulary Labels { get; }

    /// <summary>The layout the header was recognised as.</summary>
    public FileLayout Layout => _map.Layout;

    /// <summary>Canonical feature indices the header lacks (written as NaN in every row).</summary>
    public IReadOnlyList<int> MissingFeatures { get; }

    /// <summary>True when the header has identity columns (IPs, ports, timestamp).</summary>
    public bool HasIdentity => _map.HasIdentity;

    /// <summary>True when rows carry identity or a flow id, so batches need identity arrays.</summary>
    public bool NeedsIdentity => _map.HasIdentity || _map.HasFlowId;

    /// <summary>True when the header has a label column.</summary>
    public bool HasLabel => _map.HasLabel;

    /// <summary>Number of columns in the header.</summary>
    public int ColumnCount => _map.ColumnCount;

    /// <summary>The header's column names, trimmed, in order.</summary>
    public IReadOnlyList<string> ColumnNames => _map.Names;

    /// <summary>Why the last <see cref="LineOutcome.Rejected"/> line was rejected.</summary>
    public RejectedRow? LastReject { get; private set; }

    /// <summary>Why the last <see cref="LineOutcome.Dropped"/> line was dropped.</summary>
    public DropReason LastDrop { get; private set; }

    /// <summary>True when the header has canonical feature <paramref name="feature"/>.</summary>
    public bool HasFeature(int feature) => _map.FeaturePresent[Guard.InRange(feature, 0, FeatureSchema.Count - 1)];

    /// <summary>
    /// Parses one line (without its '\n'; a trailing '\r' is removed) into the next row of <paramref name="batch"/>, which
    /// must have room and, when <see cref="NeedsIdentity"/>, identity arrays.
    /// </summary>
    public LineOutcome ParseLine(ReadOnlySpan<byte> line, long lineNumber, FlowBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count >= batch.Capacity)
        {
            throw new ArgumentException($"the batch is full ({batch.Capacity} rows).", nameof(batch));
        }

        if (NeedsIdentity && batch.Identities is null)
        {
            throw new ArgumentException($"stream '{Source}' has identity columns; the batch must be created with identity.", nameof(batch));
        }

        long rejected = _tally.RowsRejected;
        long blank = _tally.BlankLines;
        int before = batch.Count;
        _parser.ParseLine(line, lineNumber, batch);
        if (batch.Count > before)
        {
            return LineOutcome.Parsed;
        }

        if (_tally.RowsRejected > rejected)
        {
            LastReject = _tally.Rejects.Count > 0 ? _tally.Rejects[^1] : new RejectedRow(Source, lineNumber, null, RejectReason.FieldCount, "rejected");
            _tally.Rejects.Clear();
            return LineOutcome.Rejected;
        }

        if (_tally.BlankLines > blank)
        {
            return LineOutcome.Blank;
        }

        LastDrop = DropReason.NonFinite;
        return LineOutcome.Dropped;
    }
}
