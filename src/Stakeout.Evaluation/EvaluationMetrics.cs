using System.Text.Json.Serialization;
using Stakeout.Core;

namespace Stakeout.Evaluation;

/// <summary>Precision, recall, F1 and support (rows truly of the label) of one label.</summary>
public sealed record ClassMetrics(
    [property: JsonPropertyName("precision")] double Precision,
    [property: JsonPropertyName("recall")] double Recall,
    [property: JsonPropertyName("f1")] double F1,
    [property: JsonPropertyName("support")] long Support);

/// <summary>A confusion matrix: <c>Matrix[t][p]</c> counts rows of true label <c>Labels[t]</c> predicted as <c>Labels[p]</c>.</summary>
public sealed record ConfusionMatrix(
    [property: JsonPropertyName("labels")] IReadOnlyList<string> Labels,
    [property: JsonPropertyName("matrix")] IReadOnlyList<IReadOnlyList<long>> Matrix);

/// <summary>
/// Everything measured on one set of predictions at one level. Labels are those with rows or predictions (as
/// scikit-learn's <c>classification_report</c> lists them); averages are over those labels.
/// </summary>
public sealed record EvaluationMetrics
{
    /// <summary>The level compared at.</summary>
    [JsonPropertyName("level")] public required LabelLevel Level { get; init; }

    /// <summary>Rows scored.</summary>
    [JsonPropertyName("rows")] public required long Rows { get; init; }

    /// <summary>Fraction of rows whose predicted label is the true one.</summary>
    [JsonPropertyName("accuracy")] public required double Accuracy { get; init; }

    /// <summary>Unweighted mean of the per-label F1.</summary>
    [JsonPropertyName("macro_f1")] public required double MacroF1 { get; init; }

    /// <summary>Mean of the per-label F1 weighted by support.</summary>
    [JsonPropertyName("weighted_f1")] public required double WeightedF1 { get; init; }

    /// <summary>Fraction of BENIGN rows whose attack score reaches the threshold; null without BENIGN rows or a benign class.</summary>
    [JsonPropertyName("benign_fpr")] public required double? BenignFpr { get; init; }

    /// <summary>Fraction of attack rows whose attack score reaches the threshold; null without attack rows or a benign class.</summary>
    [JsonPropertyName("attack_recall")] public required double? AttackRecall { get; init; }

    /// <summary>Per label, in report order.</summary>
    [JsonPropertyName("per_class")] public required IReadOnlyDictionary<string, ClassMetrics> PerClass { get; init; }

    /// <summary>The confusion matrix over the report's labels.</summary>
    [JsonPropertyName("confusion")] public required ConfusionMatrix Confusion { get; init; }

    /// <summary>Average precision per label (one-vs-rest on the label's probability); null for a label without rows.</summary>
    [JsonPropertyName("pr_auc")] public required IReadOnlyDictionary<string, double?> PrAuc { get; init; }

    /// <summary>True labels the model has no class for at this level (it can never predict them: their recall is 0 by construction).</summary>
    [JsonPropertyName("labels_not_in_model")] public IReadOnlyList<string> LabelsNotInModel { get; init; } = [];

    /// <summary>The attack-score threshold of the binary view and of the decision rule.</summary>
    [JsonPropertyName("threshold")] public required double Threshold { get; init; }

    /// <summary>BENIGN rows scored.</summary>
    [JsonPropertyName("benign_rows")] public required long BenignRows { get; init; }

    /// <summary>BENIGN rows whose attack score reached the threshold (false alarms).</summary>
    [JsonPropertyName("benign_flagged")] public required long BenignFlagged { get; init; }

    /// <summary>Attack rows scored.</summary>
    [JsonPropertyName("attack_rows")] public required long AttackRows { get; init; }

    /// <summary>Attack rows whose attack score reached the threshold.</summary>
    [JsonPropertyName("attack_detected")] public required long AttackDetected { get; init; }
}
