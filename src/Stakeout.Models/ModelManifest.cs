using System.Text.Json.Serialization;

namespace Stakeout.Models;

/// <summary>A model input: a canonical feature (see <c>Stakeout.Core.FeatureSchema</c>) in the model's input order.</summary>
/// <param name="Index">Canonical feature index (0..77).</param>
/// <param name="Name">Canonical feature name; checked against this Stakeout's schema when the model is loaded.</param>
public sealed record ManifestFeature(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("name")] string Name);

/// <summary>One file the model was trained on.</summary>
/// <param name="Path">The path as given.</param>
/// <param name="Rows">Rows read from it.</param>
/// <param name="Sha256">SHA-256 of its bytes (for a zip entry, of the entry's uncompressed bytes).</param>
public sealed record ManifestDataFile(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("sha256")] string Sha256);

/// <summary>What the model was trained on, and how it was split.</summary>
public sealed record ManifestTrainingData
{
    /// <summary>Files read.</summary>
    [JsonPropertyName("files")] public IReadOnlyList<ManifestDataFile> Files { get; init; } = [];

    /// <summary>Rows read in all.</summary>
    [JsonPropertyName("rows_read")] public long RowsRead { get; init; }

    /// <summary>Exact duplicates removed before the split.</summary>
    [JsonPropertyName("duplicates_removed")] public long DuplicatesRemoved { get; init; }

    /// <summary>Rows in the training split.</summary>
    [JsonPropertyName("train_rows")] public long TrainRows { get; init; }

    /// <summary>Rows in the held-out test split.</summary>
    [JsonPropertyName("test_rows")] public long TestRows { get; init; }

    /// <summary>"random" (stratified) or "by-file".</summary>
    [JsonPropertyName("split")] public string Split { get; init; } = "random";

    /// <summary>Fraction held out for testing.</summary>
    [JsonPropertyName("test_fraction")] public double TestFraction { get; init; }

    /// <summary>Seed of the split and of training.</summary>
    [JsonPropertyName("seed")] public int Seed { get; init; }

    /// <summary>Training rows per class.</summary>
    [JsonPropertyName("class_counts")] public IReadOnlyDictionary<string, long> ClassCounts { get; init; } = new Dictionary<string, long>();
}

/// <summary>An ancestor of this model (fine-tuning keeps the chain).</summary>
/// <param name="Sha256">Digest of the parent artifact.</param>
/// <param name="CreatedUtc">When the parent was created.</param>
/// <param name="Note">What was done to it (e.g. "fine-tuned on 3 files, 12,000 rows").</param>
public sealed record ManifestLineage(
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("created_utc")] DateTimeOffset CreatedUtc,
    [property: JsonPropertyName("note")] string Note);

/// <summary>
/// Everything a reader of the artifact needs to know about the model besides its parameters. Serialised as the
/// artifact's "manifest" section (JSON); the contract is documented in docs/model-format.md.
/// </summary>
public sealed record ModelManifest
{
    /// <summary>Version of the manifest and model payload schema (independent of the container version).</summary>
    [JsonPropertyName("schema_version")] public int SchemaVersion { get; init; } = 1;

    /// <summary>Stakeout version that wrote it.</summary>
    [JsonPropertyName("stakeout_version")] public string StakeoutVersion { get; init; } = "";

    /// <summary>When it was written.</summary>
    [JsonPropertyName("created_utc")] public DateTimeOffset CreatedUtc { get; init; }

    /// <summary>"lightgbm" (payload: LightGBM text model) or "logistic-regression" (payload: JSON).</summary>
    [JsonPropertyName("model_kind")] public string ModelKind { get; init; } = "";

    /// <summary>Inputs in model order.</summary>
    [JsonPropertyName("features")] public IReadOnlyList<ManifestFeature> Features { get; init; } = [];

    /// <summary>
    /// How NaN and infinities reach the model: "nan-zero-inf-max" (NaN → 0, ±∞ → ±float.MaxValue before any
    /// comparison; what the trainer writes) or "missing" (NaN is LightGBM-missing, infinities compared as values).
    /// </summary>
    [JsonPropertyName("non_finite")] public string NonFinite { get; init; } = "nan-zero-inf-max";

    /// <summary>"class", "family" or "binary".</summary>
    [JsonPropertyName("label_level")] public string LabelLevel { get; init; } = "class";

    /// <summary>Output classes, in the order of the model's probabilities.</summary>
    [JsonPropertyName("classes")] public IReadOnlyList<string> Classes { get; init; } = [];

    /// <summary>The benign class's name (its probability complement is the attack score).</summary>
    [JsonPropertyName("benign_class")] public string BenignClass { get; init; } = "BENIGN";

    /// <summary>Alert when P(attack) = 1 - P(benign) is at least this.</summary>
    [JsonPropertyName("threshold")] public double Threshold { get; init; } = 0.5;

    /// <summary>How the threshold was set ("default", or "calibrated: max FPR 0.001 on N benign flows").</summary>
    [JsonPropertyName("threshold_source")] public string ThresholdSource { get; init; } = "default";

    /// <summary>Training data fingerprint and split.</summary>
    [JsonPropertyName("training")] public ManifestTrainingData Training { get; init; } = new();

    /// <summary>Metrics on the held-out test split (accuracy, macro_f1, ...).</summary>
    [JsonPropertyName("metrics")] public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>Hyperparameters, as the trainer took them.</summary>
    [JsonPropertyName("hyperparameters")] public IReadOnlyDictionary<string, string> Hyperparameters { get; init; } = new Dictionary<string, string>();

    /// <summary>Gain-based importance per feature name, largest first.</summary>
    [JsonPropertyName("feature_importance")] public IReadOnlyDictionary<string, double> FeatureImportance { get; init; } = new Dictionary<string, double>();

    /// <summary>Ancestors, oldest first.</summary>
    [JsonPropertyName("lineage")] public IReadOnlyList<ManifestLineage> Lineage { get; init; } = [];
}
