using System.Text.Json;
using System.Text.Json.Serialization;
using Stakeout.Core;

namespace Stakeout.Models.Scoring;

/// <summary>The "logistic-regression" payload (UTF-8 JSON), as docs/model-format.md describes it.</summary>
internal sealed record LogisticRegressionPayload
{
    [JsonPropertyName("features")] public int[]? Features { get; init; }

    [JsonPropertyName("min")] public double[]? Min { get; init; }

    [JsonPropertyName("max")] public double[]? Max { get; init; }

    [JsonPropertyName("weights")] public double[]? Weights { get; init; }

    [JsonPropertyName("bias")] public double? Bias { get; init; }
}

/// <summary>
/// A binary logistic regression over min-max scaled features: x' = clamp((x − min) / (max − min), 0, 1) (0 when
/// max = min), p(class 1) = sigmoid(w·x' + b). Classes are [negative, positive] in manifest order.
/// </summary>
internal sealed class LogisticRegressionScorer : IFlowScorer
{
    private readonly int[] _features;
    private readonly double[] _min;
    private readonly double[] _scale; // 1 / (max − min), or 0 for a constant feature
    private readonly double[] _weights;
    private readonly double _bias;

    private LogisticRegressionScorer(ModelManifest manifest, LogisticRegressionPayload p, string source)
    {
        Manifest = manifest;
        Classes = manifest.Classes;
        BenignClassIndex = manifest.Classes.ToList().IndexOf(manifest.BenignClass);
        if (manifest.Classes.Count != 2)
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"a logistic regression has two classes; the manifest lists {manifest.Classes.Count}.");
        }

        if (manifest.NonFinite != NonFiniteMapping.NanZeroInfMax)
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"a logistic regression needs non_finite '{NonFiniteMapping.NanZeroInfMax}' (it has no missing-value rule); the manifest says '{manifest.NonFinite}'.");
        }

        int n = manifest.Features.Count;
        _features = Field(p.Features, "features", n, source);
        _min = Field(p.Min, "min", n, source);
        double[] max = Field(p.Max, "max", n, source);
        _weights = Field(p.Weights, "weights", n, source);
        _bias = p.Bias ?? throw new ArtifactException(source, ArtifactProblem.Malformed, "the logistic-regression payload has no 'bias'.");
        if (!double.IsFinite(_bias))
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, "the logistic-regression 'bias' is not finite.");
        }

        _scale = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (_features[i] != manifest.Features[i].Index)
            {
                throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"logistic-regression input {i} is canonical feature {_features[i]}, but the manifest's input {i} is {manifest.Features[i].Index} ('{manifest.Features[i].Name}').");
            }

            if (!double.IsFinite(_min[i]) || !double.IsFinite(max[i]) || !double.IsFinite(_weights[i]) || max[i] < _min[i])
            {
                throw new ArtifactException(source, ArtifactProblem.Malformed, $"logistic-regression input {i}: min {_min[i]}, max {max[i]}, weight {_weights[i]} must be finite with min <= max.");
            }

            _scale[i] = max[i] > _min[i] ? 1.0 / (max[i] - _min[i]) : 0;
        }
    }

    /// <inheritdoc />
    public ModelManifest Manifest { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Classes { get; }

    /// <inheritdoc />
    public int BenignClassIndex { get; }

    /// <summary>Parses and checks a "logistic-regression" payload against its manifest.</summary>
    public static LogisticRegressionScorer Compile(ModelManifest manifest, ReadOnlySpan<byte> payload, string source)
    {
        LogisticRegressionPayload? p;
        try
        {
            p = JsonSerializer.Deserialize<LogisticRegressionPayload>(payload);
        }
        catch (JsonException e)
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, $"the logistic-regression payload is not valid JSON ({e.Message}).");
        }

        return new LogisticRegressionScorer(manifest, p ?? throw new ArtifactException(source, ArtifactProblem.Malformed, "the logistic-regression payload is empty."), source);
    }

    /// <inheritdoc />
    public void Score(ReadOnlySpan<float> features, Span<float> probabilities)
    {
        int rows = ScorerShapes.Rows(features, probabilities, 2);
        Span<double> x = stackalloc double[FeatureSchema.Count];
        for (int r = 0; r < rows; r++)
        {
            NonFiniteMapping.Prepare(features.Slice(r * FeatureSchema.Count, FeatureSchema.Count), x, nanZeroInfMax: true);
            double margin = _bias;
            for (int i = 0; i < _features.Length; i++)
            {
                margin += _weights[i] * Scaled(x, i);
            }

            double positive = 1.0 / (1.0 + Math.Exp(-margin));
            probabilities[(r * 2) + 0] = (float)(1.0 - positive);
            probabilities[(r * 2) + 1] = (float)positive;
        }
    }

    /// <inheritdoc />
    public void Explain(ReadOnlySpan<float> row, int classIndex, Span<double> contributions)
    {
        ScorerShapes.CheckExplain(row, classIndex, 2, contributions);
        Span<double> x = stackalloc double[FeatureSchema.Count];
        NonFiniteMapping.Prepare(row, x, nanZeroInfMax: true);
        double sign = classIndex == 1 ? 1 : -1;
        contributions[..(FeatureSchema.Count + 1)].Clear();
        for (int i = 0; i < _features.Length; i++)
        {
            contributions[_features[i]] = sign * _weights[i] * Scaled(x, i);
        }

        contributions[FeatureSchema.Count] = sign * _bias;
    }

    private double Scaled(ReadOnlySpan<double> x, int i) => Math.Clamp((x[_features[i]] - _min[i]) * _scale[i], 0.0, 1.0);

    private static T[] Field<T>(T[]? values, string name, int count, string source)
    {
        if (values is null)
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, $"the logistic-regression payload has no '{name}'.");
        }

        if (values.Length != count)
        {
            throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"the logistic-regression '{name}' has {values.Length} entries; the manifest lists {count} features.");
        }

        return values;
    }
}
