using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Stakeout.Core;

namespace Stakeout.Models.Drift;

/// <summary>
/// The artifact's <c>profile</c> section (format version 2): a compact picture of the training data that detection
/// compares live traffic with. Per model feature, bin edges at the training rows' deciles (repeated edges merged), and
/// per output class the share of that class's training rows in each bin. A window of live flows is compared with the
/// mixture of class profiles its own class probabilities imply, so a replay of any training-like mix of classes matches,
/// while traffic of another network does not.
/// </summary>
public sealed record TrainingProfile
{
    /// <summary>Canonical feature indices profiled, in order.</summary>
    [JsonPropertyName("features")] public IReadOnlyList<int> Features { get; init; } = [];

    /// <summary>Per feature, ascending bin edges (values after NaN → 0, ±∞ → ±float.MaxValue): bin b holds values in (edge[b-1], edge[b]]; the last bin is above the last edge.</summary>
    [JsonPropertyName("edges")] public IReadOnlyList<IReadOnlyList<double>> Edges { get; init; } = [];

    /// <summary>The classifier's classes, in its probability order.</summary>
    [JsonPropertyName("classes")] public IReadOnlyList<string> Classes { get; init; } = [];

    /// <summary>Training rows per class.</summary>
    [JsonPropertyName("class_rows")] public IReadOnlyList<long> ClassRows { get; init; } = [];

    /// <summary>Per class, per feature, the share of the class's training rows in each bin (edges + 1 entries, summing to 1).</summary>
    [JsonPropertyName("shares")] public IReadOnlyList<IReadOnlyList<IReadOnlyList<double>>> Shares { get; init; } = [];

    /// <summary>Share of benign training flows at or above the anomaly threshold (0 when the artifact has no anomaly model).</summary>
    [JsonPropertyName("anomaly_share")] public double AnomalyShare { get; init; }

    /// <summary>Serialised as the section's content.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ModelArtifact.JsonOptions);

    /// <summary>Parses and checks a section's content against the classifier's classes; throws <see cref="ArtifactException"/> naming the field at fault.</summary>
    public static TrainingProfile Parse(ReadOnlySpan<byte> json, IReadOnlyList<string> classes, string source)
    {
        TrainingProfile? p;
        try
        {
            p = JsonSerializer.Deserialize<TrainingProfile>(json, ModelArtifact.JsonOptions);
        }
        catch (JsonException e)
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, $"the profile section is not valid JSON ({e.Message}).");
        }

        if (p is null)
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, "the profile section is empty.");
        }

        p.Check(classes, source);
        return p;
    }

    private void Check(IReadOnlyList<string> classes, string source)
    {
        void Fail(string what) => throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"profile section: {what}");
        var c = CultureInfo.InvariantCulture;
        if (!Classes.SequenceEqual(classes, StringComparer.Ordinal))
        {
            Fail($"its classes [{string.Join(", ", Classes)}] are not the model's [{string.Join(", ", classes)}].");
        }

        if (Features.Count == 0 || Edges.Count != Features.Count || ClassRows.Count != Classes.Count || Shares.Count != Classes.Count)
        {
            Fail(string.Create(c, $"it needs features, one edge list per feature ({Features.Count} features, {Edges.Count} lists) and one row count and share table per class ({Classes.Count} classes, {ClassRows.Count} counts, {Shares.Count} tables)."));
        }

        if (Features.Any(f => (uint)f >= FeatureSchema.Count) || Features.Distinct().Count() != Features.Count)
        {
            Fail("a feature index is not canonical or is listed twice.");
        }

        for (int j = 0; j < Features.Count; j++)
        {
            var e = Edges[j];
            if (e.Count is < 1 or > 64 || e.Any(v => !double.IsFinite(v)) || e.Zip(e.Skip(1)).Any(t => !(t.First < t.Second)))
            {
                Fail($"feature '{FeatureSchema.Features[Features[j]].Name}' needs 1 to 64 finite, strictly ascending edges.");
            }
        }

        for (int k = 0; k < Classes.Count; k++)
        {
            if (Shares[k].Count != Features.Count)
            {
                Fail($"class '{Classes[k]}' has {Shares[k].Count} feature shares, not {Features.Count}.");
            }

            for (int j = 0; j < Features.Count; j++)
            {
                var s = Shares[k][j];
                if (s.Count != Edges[j].Count + 1 || s.Any(v => !(v >= 0 && v <= 1)) || (ClassRows[k] > 0 && Math.Abs(s.Sum() - 1) > 1e-6))
                {
                    Fail($"class '{Classes[k]}', feature '{FeatureSchema.Features[Features[j]].Name}': shares must be one per bin ({Edges[j].Count + 1}), in [0, 1], summing to 1.");
                }
            }
        }

        if (!(AnomalyShare is >= 0 and <= 1))
        {
            Fail("anomaly_share is not in [0, 1].");
        }
    }

    /// <summary>The bin of one raw value among <paramref name="edges"/> (NaN → 0, ±∞ → ±float.MaxValue first).</summary>
    public static int BinOf(IReadOnlyList<double> edges, float value)
    {
        ArgumentNullException.ThrowIfNull(edges);
        double v = float.IsFinite(value) ? value : float.IsNaN(value) ? 0 : float.IsPositiveInfinity(value) ? float.MaxValue : -float.MaxValue;
        int b = 0;
        while (b < edges.Count && v > edges[b])
        {
            b++;
        }

        return b;
    }
}
