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
/// Everything measured on one set of predictions at one level. The confusion matrix has every label with rows or
/// predictions (scikit-learn's label set); per-class figures and the macro and weighted averages are over the classes
/// present in the data (<see cref="ClassesPresent"/>); classes predicted but absent from the data are listed apart
/// (<see cref="PredictedNotInData"/>) with the rows predicted as them.
/// </summary>
public sealed record EvaluationMetrics
{
    /// <summary>The level compared at.</summary>
    [JsonPropertyName("level")] public required LabelLevel Level { get; init; }

    /// <summary>Rows scored.</summary>
    [JsonPropertyName("rows")] public required long Rows { get; init; }

    /// <summary>Fraction of rows whose predicted label is the true one.</summary>
    [JsonPropertyName("accuracy")] public required double Accuracy { get; init; }

    /// <summary>
    /// Unweighted mean of the F1 of the classes present in the data (support &gt; 0). Before issue 23 this field averaged
    /// over every label with rows or predictions; that figure is now <see cref="MacroF1AllLabels"/>.
    /// </summary>
    [JsonPropertyName("macro_f1")] public required double MacroF1 { get; init; }

    /// <summary>Mean of the per-class F1 weighted by support (classes absent from the data weigh 0, so the rule does not change it).</summary>
    [JsonPropertyName("weighted_f1")] public required double WeightedF1 { get; init; }

    /// <summary>What the averages are taken over: always <c>classes_present_in_data</c>.</summary>
    [JsonPropertyName("averages_over")] public string AveragesOver { get; init; } = "classes_present_in_data";

    /// <summary>Unweighted mean precision over the classes present in the data.</summary>
    [JsonPropertyName("macro_precision")] public double MacroPrecision { get; init; }

    /// <summary>Unweighted mean recall over the classes present in the data.</summary>
    [JsonPropertyName("macro_recall")] public double MacroRecall { get; init; }

    /// <summary>Support-weighted mean precision.</summary>
    [JsonPropertyName("weighted_precision")] public double WeightedPrecision { get; init; }

    /// <summary>Support-weighted mean recall.</summary>
    [JsonPropertyName("weighted_recall")] public double WeightedRecall { get; init; }

    /// <summary>
    /// Macro-F1 over every label with rows or predictions, classes predicted but absent from the data included at F1 0
    /// (scikit-learn's <c>classification_report</c> default; what <c>macro_f1</c> meant before issue 23).
    /// </summary>
    [JsonPropertyName("macro_f1_all_labels")] public double MacroF1AllLabels { get; init; }

    /// <summary>The classes with rows in the data, over which per-class figures and averages are given.</summary>
    [JsonPropertyName("classes_present")] public IReadOnlyList<string> ClassesPresent { get; init; } = [];

    /// <summary>Classes the model predicted that have no row in the data, with the rows predicted as each (all of them errors).</summary>
    [JsonPropertyName("predicted_not_in_data")] public IReadOnlyDictionary<string, long> PredictedNotInData { get; init; } = new Dictionary<string, long>();

    /// <summary>Labels compared as one (<c>--merge-labels</c>): each merged label and the label it counts as.</summary>
    [JsonPropertyName("merged_labels")] public IReadOnlyDictionary<string, string> MergedLabels { get; init; } = new Dictionary<string, string>();

    /// <summary>Fraction of BENIGN rows whose attack score reaches the threshold; null without BENIGN rows or a benign class.</summary>
    [JsonPropertyName("benign_fpr")] public required double? BenignFpr { get; init; }

    /// <summary>Fraction of attack rows whose attack score reaches the threshold; null without attack rows or a benign class.</summary>
    [JsonPropertyName("attack_recall")] public required double? AttackRecall { get; init; }

    /// <summary>Per class present in the data, in report order (classes predicted but absent: <see cref="PredictedNotInData"/>).</summary>
    [JsonPropertyName("per_class")] public required IReadOnlyDictionary<string, ClassMetrics> PerClass { get; init; }

    /// <summary>The confusion matrix over the report's labels.</summary>
    [JsonPropertyName("confusion")] public required ConfusionMatrix Confusion { get; init; }

    /// <summary>Average precision per class present in the data (one-vs-rest on the class's probability).</summary>
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
