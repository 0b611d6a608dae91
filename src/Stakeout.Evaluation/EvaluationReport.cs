using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Stakeout.Core;
using Stakeout.Ingest;

namespace Stakeout.Evaluation;

/// <summary>How the evaluated data was read: rows read = rows used (scored) + rejected + dropped.</summary>
public sealed record ReadAccounting
{
    /// <summary>Data lines read.</summary>
    [JsonPropertyName("rows_read")] public required long RowsRead { get; init; }

    /// <summary>Rows scored.</summary>
    [JsonPropertyName("rows_used")] public required long RowsUsed { get; init; }

    /// <summary>Rows that could not be read (reasons below).</summary>
    [JsonPropertyName("rows_rejected")] public required long RowsRejected { get; init; }

    /// <summary>Rows read and not scored (duplicates under --dedupe, blank lines).</summary>
    [JsonPropertyName("rows_dropped")] public required long RowsDropped { get; init; }

    /// <summary>Exact duplicates found (counted only under --dedupe).</summary>
    [JsonPropertyName("duplicates")] public required long Duplicates { get; init; }

    /// <summary>True when every row read is accounted for.</summary>
    [JsonPropertyName("balanced")] public required bool Balanced { get; init; }

    /// <summary>Rejects by reason.</summary>
    [JsonPropertyName("rejected_by_reason")] public required IReadOnlyDictionary<string, long> RejectedByReason { get; init; }

    /// <summary>Drops by reason.</summary>
    [JsonPropertyName("dropped_by_reason")] public required IReadOnlyDictionary<string, long> DroppedByReason { get; init; }

    /// <summary>The accounting of a reader's report.</summary>
    public static ReadAccounting From(ReadReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new ReadAccounting
        {
            RowsRead = report.RowsRead,
            RowsUsed = report.RowsUsed,
            RowsRejected = report.RowsRejected,
            RowsDropped = report.RowsDropped,
            Duplicates = report.Duplicates,
            Balanced = report.IsBalanced,
            RejectedByReason = report.RejectedByReason.ToDictionary(kv => Snake(kv.Key.ToString()), kv => kv.Value, StringComparer.Ordinal),
            DroppedByReason = report.DroppedByReason.ToDictionary(kv => Snake(kv.Key.ToString()), kv => kv.Value, StringComparer.Ordinal),
        };
    }

    private static string Snake(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}

/// <summary>
/// The report of one evaluation, as `stakeout evaluate --json` prints it: the metrics at the shared level (top-level
/// fields <c>level</c>, <c>rows</c>, <c>accuracy</c>, <c>macro_f1</c> and <c>weighted_f1</c> (over the classes present in the
/// data), <c>classes_present</c>, <c>predicted_not_in_data</c>, <c>macro_f1_all_labels</c>, <c>benign_fpr</c>,
/// <c>attack_recall</c>, <c>per_class</c>, <c>confusion</c>, <c>pr_auc</c>, <c>threshold</c>), what was compared, and the
/// reader's accounting.
/// </summary>
public sealed record EvaluationReport
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>A report of <paramref name="metrics"/>.</summary>
    public EvaluationReport(EvaluationMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        Metrics = metrics;
    }

    /// <summary>The metrics.</summary>
    [JsonIgnore] public EvaluationMetrics Metrics { get; }

    /// <summary>The level compared at.</summary>
    [JsonPropertyName("level")] public LabelLevel Level => Metrics.Level;

    /// <summary>Rows scored.</summary>
    [JsonPropertyName("rows")] public long Rows => Metrics.Rows;

    /// <summary>See <see cref="EvaluationMetrics.Accuracy"/>.</summary>
    [JsonPropertyName("accuracy")] public double Accuracy => Metrics.Accuracy;

    /// <summary>See <see cref="EvaluationMetrics.MacroF1"/>.</summary>
    [JsonPropertyName("macro_f1")] public double MacroF1 => Metrics.MacroF1;

    /// <summary>See <see cref="EvaluationMetrics.WeightedF1"/>.</summary>
    [JsonPropertyName("weighted_f1")] public double WeightedF1 => Metrics.WeightedF1;

    /// <summary>See <see cref="EvaluationMetrics.AveragesOver"/>.</summary>
    [JsonPropertyName("averages_over")] public string AveragesOver => Metrics.AveragesOver;

    /// <summary>See <see cref="EvaluationMetrics.MacroPrecision"/>.</summary>
    [JsonPropertyName("macro_precision")] public double MacroPrecision => Metrics.MacroPrecision;

    /// <summary>See <see cref="EvaluationMetrics.MacroRecall"/>.</summary>
    [JsonPropertyName("macro_recall")] public double MacroRecall => Metrics.MacroRecall;

    /// <summary>See <see cref="EvaluationMetrics.WeightedPrecision"/>.</summary>
    [JsonPropertyName("weighted_precision")] public double WeightedPrecision => Metrics.WeightedPrecision;

    /// <summary>See <see cref="EvaluationMetrics.WeightedRecall"/>.</summary>
    [JsonPropertyName("weighted_recall")] public double WeightedRecall => Metrics.WeightedRecall;

    /// <summary>See <see cref="EvaluationMetrics.MacroF1AllLabels"/>.</summary>
    [JsonPropertyName("macro_f1_all_labels")] public double MacroF1AllLabels => Metrics.MacroF1AllLabels;

    /// <summary>See <see cref="EvaluationMetrics.ClassesPresent"/>.</summary>
    [JsonPropertyName("classes_present")] public IReadOnlyList<string> ClassesPresent => Metrics.ClassesPresent;

    /// <summary>See <see cref="EvaluationMetrics.PredictedNotInData"/>.</summary>
    [JsonPropertyName("predicted_not_in_data")] public IReadOnlyDictionary<string, long> PredictedNotInData => Metrics.PredictedNotInData;

    /// <summary>See <see cref="EvaluationMetrics.MergedLabels"/>.</summary>
    [JsonPropertyName("merged_labels")] public IReadOnlyDictionary<string, string> MergedLabels => Metrics.MergedLabels;

    /// <summary>See <see cref="EvaluationMetrics.BenignFpr"/>.</summary>
    [JsonPropertyName("benign_fpr")] public double? BenignFpr => Metrics.BenignFpr;

    /// <summary>See <see cref="EvaluationMetrics.AttackRecall"/>.</summary>
    [JsonPropertyName("attack_recall")] public double? AttackRecall => Metrics.AttackRecall;

    /// <summary>See <see cref="EvaluationMetrics.PerClass"/>.</summary>
    [JsonPropertyName("per_class")] public IReadOnlyDictionary<string, ClassMetrics> PerClass => Metrics.PerClass;

    /// <summary>See <see cref="EvaluationMetrics.Confusion"/>.</summary>
    [JsonPropertyName("confusion")] public ConfusionMatrix Confusion => Metrics.Confusion;

    /// <summary>See <see cref="EvaluationMetrics.PrAuc"/>.</summary>
    [JsonPropertyName("pr_auc")] public IReadOnlyDictionary<string, double?> PrAuc => Metrics.PrAuc;

    /// <summary>See <see cref="EvaluationMetrics.LabelsNotInModel"/>.</summary>
    [JsonPropertyName("labels_not_in_model")] public IReadOnlyList<string> LabelsNotInModel => Metrics.LabelsNotInModel;

    /// <summary>See <see cref="EvaluationMetrics.Threshold"/>.</summary>
    [JsonPropertyName("threshold")] public double Threshold => Metrics.Threshold;

    /// <summary>BENIGN rows, and those flagged (false alarms).</summary>
    [JsonPropertyName("benign_rows")] public long BenignRows => Metrics.BenignRows;

    /// <summary>BENIGN rows whose attack score reached the threshold.</summary>
    [JsonPropertyName("benign_flagged")] public long BenignFlagged => Metrics.BenignFlagged;

    /// <summary>Attack rows.</summary>
    [JsonPropertyName("attack_rows")] public long AttackRows => Metrics.AttackRows;

    /// <summary>Attack rows whose attack score reached the threshold.</summary>
    [JsonPropertyName("attack_detected")] public long AttackDetected => Metrics.AttackDetected;

    /// <summary>The level of the model's classes.</summary>
    [JsonPropertyName("model_level")] public required LabelLevel ModelLevel { get; init; }

    /// <summary>The coarsest level of the data's labels.</summary>
    [JsonPropertyName("data_level")] public required LabelLevel DataLevel { get; init; }

    /// <summary>SHA-256 of the model artifact, when it was read from a file.</summary>
    [JsonPropertyName("model_sha256")] public string? ModelSha256 { get; init; }

    /// <summary>The model's kind (manifest model_kind).</summary>
    [JsonPropertyName("model_kind")] public string? ModelKind { get; init; }

    /// <summary>The files read, with their layouts and accounting.</summary>
    [JsonPropertyName("files")] public IReadOnlyList<FileReport> Files { get; init; } = [];

    /// <summary>The reader's accounting.</summary>
    [JsonPropertyName("reading")] public ReadAccounting? Reading { get; init; }

    /// <summary>PR, ROC and threshold curves, when <see cref="EvaluationOptions.Curves"/> asked for them (not part of the JSON report).</summary>
    [JsonIgnore] public EvaluationCurves? Curves { get; init; }

    /// <summary>Wall time of reading and scoring, in seconds.</summary>
    [JsonPropertyName("elapsed_seconds")] public double ElapsedSeconds { get; init; }

    /// <summary>The report as indented JSON (snake_case fields, enums as lower-case names, undefined ratios as null).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The report as text: the classification report and confusion matrix (what validation_report.log holds).</summary>
    public string ToText()
    {
        var header = new List<string>
        {
            $"Model: {ModelKind ?? "?"}, {EvaluationLevels.Name(ModelLevel)}-level{(ModelSha256 is null ? "" : $", sha256 {ModelSha256}")}",
            $"Data: {Files.Count} file(s), {EvaluationLevels.Name(DataLevel)}-level labels",
        };
        foreach (var f in Files)
        {
            header.Add($"  {f.Path}: {f.RowsUsed:N0} rows scored of {f.RowsRead:N0} read");
        }

        if (Reading is { } r)
        {
            header.Add($"Rows: {r.RowsRead:N0} read = {r.RowsUsed:N0} scored + {r.RowsRejected:N0} rejected + {r.RowsDropped:N0} dropped{(r.Duplicates > 0 ? $" ({r.Duplicates:N0} duplicates)" : "")}");
        }

        return string.Join('\n', header) + "\n\n" + ClassificationReportText.Format(Metrics);
    }
}
