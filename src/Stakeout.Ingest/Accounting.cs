using System.Text.Json.Serialization;
using Stakeout.Core;

namespace Stakeout.Ingest;

/// <summary>Why a row was rejected (it could not be read as a flow). Serialised in snake_case.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RejectReason>))]
public enum RejectReason
{
    /// <summary>The row has more or fewer fields than the header.</summary>
    [JsonStringEnumMemberName("field_count")] FieldCount,
    /// <summary>A feature value is not a number.</summary>
    [JsonStringEnumMemberName("not_a_number")] NotANumber,
    /// <summary>An IP address column holds something that is not an address.</summary>
    [JsonStringEnumMemberName("invalid_address")] InvalidAddress,
    /// <summary>A port or protocol column holds something that is not one.</summary>
    [JsonStringEnumMemberName("invalid_port_or_protocol")] InvalidPortOrProtocol,
    /// <summary>The timestamp cannot be read.</summary>
    [JsonStringEnumMemberName("invalid_timestamp")] InvalidTimestamp,
    /// <summary>The label cell is empty in a labelled file.</summary>
    [JsonStringEnumMemberName("missing_label")] MissingLabel,
    /// <summary>The line is longer than the configured limit.</summary>
    [JsonStringEnumMemberName("line_too_long")] LineTooLong,
    /// <summary>A quoted field is not closed on its line.</summary>
    [JsonStringEnumMemberName("unbalanced_quote")] UnbalancedQuote,
}

/// <summary>Why a row that could be read was not used. Serialised in snake_case. (Empty lines are not rows: see the quirk "blank_lines".)</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DropReason>))]
public enum DropReason
{
    /// <summary>A non-finite feature under <see cref="NonFinitePolicy.Drop"/>.</summary>
    [JsonStringEnumMemberName("non_finite")] NonFinite,
    /// <summary>An exact repeat of an earlier row under <see cref="DuplicatePolicy.Drop"/>.</summary>
    [JsonStringEnumMemberName("duplicate")] Duplicate,
}

/// <summary>One rejected row, with where and why.</summary>
/// <param name="File">File (or archive entry) it came from.</param>
/// <param name="Line">1-based line number.</param>
/// <param name="Field">Column name, when one field is at fault.</param>
/// <param name="Reason">The reason code.</param>
/// <param name="Detail">A human explanation, quoting the offending text (shortened).</param>
public sealed record RejectedRow(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("line")] long Line,
    [property: JsonPropertyName("field")] string? Field,
    [property: JsonPropertyName("reason")] RejectReason Reason,
    [property: JsonPropertyName("detail")] string Detail);

/// <summary>The layout a file's header was recognised as.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FileLayout>))]
public enum FileLayout
{
    /// <summary>Not recognised (the file could not be read).</summary>
    [JsonStringEnumMemberName("unknown")] Unknown,
    /// <summary>CIC-IDS2017 MachineLearningCVE: 78 features and Label.</summary>
    [JsonStringEnumMemberName("cicids2017-machinelearningcve")] MachineLearningCve,
    /// <summary>CIC-IDS2017 TrafficLabelling: Flow ID, IPs, ports, protocol, timestamp, 78 features, Label.</summary>
    [JsonStringEnumMemberName("cicids2017-trafficlabelling")] TrafficLabelling,
    /// <summary>CICFlowMeter-V4 output ("Src IP", "Total Fwd Packet", ...).</summary>
    [JsonStringEnumMemberName("cicflowmeter-v4")] CicFlowMeterV4,
    /// <summary>CSE-CIC-IDS2018 abbreviated names ("Tot Fwd Pkts", "Flow Byts/s", ...).</summary>
    [JsonStringEnumMemberName("cse-cic-ids2018")] CseCicIds2018,
    /// <summary>CIC-IDS2017 feature names with some features missing (e.g. a research sample without Destination Port).</summary>
    [JsonStringEnumMemberName("cicids2017-partial")] PartialCicIds2017,
}

/// <summary>What happened to one file.</summary>
public sealed class FileReport
{
    internal FileReport(string path) => Path = path;

    /// <summary>The file as given (or "archive.zip!entry.csv").</summary>
    [JsonPropertyName("path")] public string Path { get; }

    /// <summary>Recognised layout.</summary>
    [JsonPropertyName("layout")] public FileLayout Layout { get; internal set; }

    /// <summary>Columns in the header.</summary>
    [JsonPropertyName("columns")] public int Columns { get; internal set; }

    /// <summary>Features found, of 78.</summary>
    [JsonPropertyName("features_present")] public int FeaturesPresent { get; internal set; }

    /// <summary>Canonical names of the features this file lacks (NaN in its rows).</summary>
    [JsonPropertyName("missing_features")] public IReadOnlyList<string> MissingFeatures { get; internal set; } = [];

    /// <summary>True when the file has IP/port/timestamp columns.</summary>
    [JsonPropertyName("has_identity")] public bool HasIdentity { get; internal set; }

    /// <summary>True when the file has a label column.</summary>
    [JsonPropertyName("has_label")] public bool HasLabel { get; internal set; }

    /// <summary>The coarsest label level seen in this file (class, family or binary), or null without labels.</summary>
    [JsonPropertyName("label_level")] public LabelLevel? LabelLevel { get; internal set; }

    /// <summary>Non-empty data lines read (empty lines are not rows; they are counted as the quirk "blank_lines").</summary>
    [JsonPropertyName("rows_read")] public long RowsRead { get; internal set; }

    /// <summary>Rows handed out in batches.</summary>
    [JsonPropertyName("rows_used")] public long RowsUsed { get; internal set; }

    /// <summary>Rows that could not be read.</summary>
    [JsonPropertyName("rows_rejected")] public long RowsRejected { get; internal set; }

    /// <summary>Rows read but not used, by reason.</summary>
    [JsonPropertyName("rows_dropped")] public long RowsDropped { get; internal set; }

    /// <summary>Bytes of input read (compressed size for .gz).</summary>
    [JsonPropertyName("bytes")] public long Bytes { get; internal set; }

    /// <summary>The error that stopped this file, when <see cref="FlowReaderOptions.SkipBadFiles"/> let the read go on.</summary>
    [JsonPropertyName("error")] public string? Error { get; internal set; }
}
