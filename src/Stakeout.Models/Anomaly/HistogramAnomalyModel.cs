using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stakeout.Models.Anomaly;

/// <summary>
/// The artifact's <c>anomaly</c> section (format version 2, docs/model-format.md): a histogram-based outlier score
/// (HBOS, Goldstein and Dengel 2012) fitted on benign training flows only. Each input feature is mapped to
/// t = sign(x)·ln(1 + |x|), cut into <see cref="Bins"/> equal-width bins between the benign minimum and maximum, and
/// scored −ln of its bin's smoothed benign share relative to the feature's most common bin; a flow's anomaly score is the
/// sum over features, so each term is exactly that feature's part of the score (the explanation).
/// </summary>
public sealed record HistogramAnomalyModel
{
    /// <summary>The only kind this Stakeout scores.</summary>
    public const string HbosKind = "hbos";

    /// <summary>The only transform this Stakeout applies.</summary>
    public const string SignedLog1p = "signed-log1p";

    /// <summary>"hbos".</summary>
    [JsonPropertyName("kind")] public string Kind { get; init; } = HbosKind;

    /// <summary>"signed-log1p": t = sign(x)·ln(1+|x|), after the manifest's non-finite mapping.</summary>
    [JsonPropertyName("transform")] public string Transform { get; init; } = SignedLog1p;

    /// <summary>Bins per feature.</summary>
    [JsonPropertyName("bins")] public int Bins { get; init; }

    /// <summary>Canonical feature indices scored, in order.</summary>
    [JsonPropertyName("features")] public IReadOnlyList<int> Features { get; init; } = [];

    /// <summary>Per feature: the transformed value where bin 0 starts.</summary>
    [JsonPropertyName("lower")] public IReadOnlyList<double> Lower { get; init; } = [];

    /// <summary>Per feature: the width of one bin in transformed units (positive).</summary>
    [JsonPropertyName("width")] public IReadOnlyList<double> Width { get; init; } = [];

    /// <summary>Per feature, <see cref="Bins"/> scores (≥ 0): −ln(share of the bin / share of the feature's most common bin).</summary>
    [JsonPropertyName("scores")] public IReadOnlyList<IReadOnlyList<double>> Scores { get; init; } = [];

    /// <summary>Per feature: the score of a value outside the benign range (an empty bin's), before the distance term ln(1 + bins beyond the edge).</summary>
    [JsonPropertyName("outside")] public IReadOnlyList<double> Outside { get; init; } = [];

    /// <summary>An anomaly alert is raised at or above this score.</summary>
    [JsonPropertyName("threshold")] public double Threshold { get; init; }

    /// <summary>How the threshold was set.</summary>
    [JsonPropertyName("threshold_source")] public string ThresholdSource { get; init; } = "";

    /// <summary>Benign flows the histograms were counted on.</summary>
    [JsonPropertyName("benign_rows")] public long BenignRows { get; init; }

    /// <summary>Serialised as the section's content.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ModelArtifact.JsonOptions);

    /// <summary>Parses a section's content; throws <see cref="ArtifactException"/> naming the field at fault.</summary>
    public static HistogramAnomalyModel Parse(ReadOnlySpan<byte> json, string source)
    {
        HistogramAnomalyModel? m;
        try
        {
            m = JsonSerializer.Deserialize<HistogramAnomalyModel>(json, ModelArtifact.JsonOptions);
        }
        catch (JsonException e)
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, $"the anomaly section is not valid JSON ({e.Message}).");
        }

        return m ?? throw new ArtifactException(source, ArtifactProblem.Malformed, "the anomaly section is empty.");
    }
}
