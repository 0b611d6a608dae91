using System.Globalization;
using System.Runtime.CompilerServices;
using Stakeout.Core;

namespace Stakeout.Models.Anomaly;

/// <summary>
/// Scores flows with a <see cref="HistogramAnomalyModel"/>: compiled once into flat arrays, immutable, safe to share
/// between threads, and allocation-free. Inputs are rows of <see cref="FeatureSchema.Count"/> canonical floats, as for
/// <see cref="IFlowScorer"/>; the score is the sum of one table look-up per model feature, so a flow's explanation
/// (<see cref="Explain"/>) is exact: the terms are the score.
/// </summary>
public sealed class AnomalyScorer
{
    private readonly int[] _features;
    private readonly float[] _lower;
    private readonly float[] _inverseWidth;
    private readonly float[] _table;
    private readonly float[] _outside;
    private readonly int _bins;

    private AnomalyScorer(HistogramAnomalyModel model, int[] features, float[] lower, float[] inverseWidth, float[] table, float[] outside)
    {
        Model = model;
        _features = features;
        _lower = lower;
        _inverseWidth = inverseWidth;
        _table = table;
        _outside = outside;
        _bins = model.Bins;
        Threshold = model.Threshold;
    }

    /// <summary>The model this scorer was compiled from.</summary>
    public HistogramAnomalyModel Model { get; }

    /// <summary>Alert at or above this score (the model's, unless overridden by the caller's policy).</summary>
    public double Threshold { get; }

    /// <summary>Canonical indices of the features scored.</summary>
    public IReadOnlyList<int> Features => _features;

    /// <summary>Compiles a model, checking every field; throws <see cref="ArtifactException"/> naming the field at fault.</summary>
    public static AnomalyScorer Compile(HistogramAnomalyModel model, string source)
    {
        ArgumentNullException.ThrowIfNull(model);
        void Fail(string what) => throw new ArtifactException(source, ArtifactProblem.SchemaIncompatible, $"anomaly section: {what}");
        if (model.Kind != HistogramAnomalyModel.HbosKind)
        {
            Fail($"kind '{model.Kind}' is not one this Stakeout scores ('{HistogramAnomalyModel.HbosKind}').");
        }

        if (model.Transform != HistogramAnomalyModel.SignedLog1p)
        {
            Fail($"transform '{model.Transform}' is unknown ('{HistogramAnomalyModel.SignedLog1p}').");
        }

        if (model.Bins is < 2 or > 4096)
        {
            Fail(string.Create(CultureInfo.InvariantCulture, $"bins {model.Bins} is not in 2..4096."));
        }

        int n = model.Features.Count;
        if (n == 0)
        {
            Fail("it scores no features.");
        }

        if (model.Lower.Count != n || model.Width.Count != n || model.Scores.Count != n || model.Outside.Count != n)
        {
            Fail(string.Create(CultureInfo.InvariantCulture, $"features, lower, width, scores and outside must have one entry per feature ({n}); they have {model.Features.Count}, {model.Lower.Count}, {model.Width.Count}, {model.Scores.Count}, {model.Outside.Count}."));
        }

        if (!double.IsFinite(model.Threshold))
        {
            Fail("the threshold is not a finite number.");
        }

        var seen = new HashSet<int>();
        var features = new int[n];
        var lower = new float[n];
        var inverse = new float[n];
        var outside = new float[n];
        var table = new float[n * model.Bins];
        for (int j = 0; j < n; j++)
        {
            int f = model.Features[j];
            string name = (uint)f < FeatureSchema.Count ? FeatureSchema.Features[f].Name : f.ToString(CultureInfo.InvariantCulture);
            if ((uint)f >= FeatureSchema.Count || !seen.Add(f))
            {
                Fail($"feature index {name} is not a canonical feature or is listed twice.");
            }

            if (!double.IsFinite(model.Lower[j]) || !(model.Width[j] > 0) || !double.IsFinite(1 / model.Width[j]))
            {
                Fail($"feature '{name}' has lower {model.Lower[j]} and width {model.Width[j]}; both must be finite and the width positive.");
            }

            var scores = model.Scores[j];
            if (scores.Count != model.Bins)
            {
                Fail(string.Create(CultureInfo.InvariantCulture, $"feature '{name}' has {scores.Count} bin scores, not {model.Bins}."));
            }

            for (int b = 0; b < scores.Count; b++)
            {
                if (!(scores[b] >= 0) || !double.IsFinite(scores[b]))
                {
                    Fail(string.Create(CultureInfo.InvariantCulture, $"feature '{name}' bin {b} has score {scores[b]}; scores are finite and not negative."));
                }

                table[(j * model.Bins) + b] = (float)scores[b];
            }

            if (!(model.Outside[j] >= 0) || !double.IsFinite(model.Outside[j]))
            {
                Fail($"feature '{name}' has outside score {model.Outside[j]}; it must be finite and not negative.");
            }

            features[j] = f;
            lower[j] = (float)model.Lower[j];
            inverse[j] = (float)(1 / model.Width[j]);
            outside[j] = (float)model.Outside[j];
        }

        return new AnomalyScorer(model, features, lower, inverse, table, outside);
    }

    /// <summary>
    /// The transform every anomaly feature goes through (the manifest's "nan-zero-inf-max" mapping first): NaN → 0,
    /// ±∞ → ±float.MaxValue, then sign(x)·ln(1 + |x|). Training bins with this same function.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Transform(float value)
    {
        if (!float.IsFinite(value))
        {
            value = float.IsNaN(value) ? 0f : float.IsPositiveInfinity(value) ? float.MaxValue : -float.MaxValue;
        }

        float t = MathF.Log(1f + MathF.Abs(value));
        return value < 0 ? -t : t;
    }

    /// <summary>
    /// Where a transformed value falls, in bins from the start of bin 0: [0, bins) is inside the benign range.
    /// Training counts its histograms with this function, so training and scoring bin alike.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BinPosition(float transformed, float lower, float inverseWidth) => (transformed - lower) * inverseWidth;

    /// <summary>Scores <c>features.Length / FeatureSchema.Count</c> rows into <paramref name="scores"/> (one per row). Allocates nothing.</summary>
    public void Score(ReadOnlySpan<float> features, Span<float> scores)
    {
        int rows = features.Length / FeatureSchema.Count;
        if (features.Length != rows * FeatureSchema.Count)
        {
            throw new ArgumentException($"the features hold {features.Length} floats, not a whole number of {FeatureSchema.Count}-feature rows.", nameof(features));
        }

        if (scores.Length < rows)
        {
            throw new ArgumentException($"{rows} rows need {rows} scores; the output holds {scores.Length}.", nameof(scores));
        }

        for (int r = 0; r < rows; r++)
        {
            scores[r] = ScoreRow(features.Slice(r * FeatureSchema.Count, FeatureSchema.Count));
        }
    }

    /// <summary>One row's score.</summary>
    public float ScoreRow(ReadOnlySpan<float> row)
    {
        if (row.Length < FeatureSchema.Count)
        {
            throw new ArgumentException($"a row has {FeatureSchema.Count} features; this one has {row.Length}.", nameof(row));
        }

        float sum = 0;
        for (int j = 0; j < _features.Length; j++)
        {
            sum += Term(j, row[_features[j]]);
        }

        return sum;
    }

    /// <summary>
    /// Writes each canonical feature's part of the row's score into <paramref name="contributions"/>
    /// (<see cref="FeatureSchema.Count"/> entries; features not scored get 0); they sum to <see cref="ScoreRow"/>.
    /// </summary>
    public void Explain(ReadOnlySpan<float> row, Span<double> contributions)
    {
        if (row.Length < FeatureSchema.Count || contributions.Length < FeatureSchema.Count)
        {
            throw new ArgumentException($"a row and its contributions have {FeatureSchema.Count} entries.", nameof(contributions));
        }

        contributions[..FeatureSchema.Count].Clear();
        for (int j = 0; j < _features.Length; j++)
        {
            contributions[_features[j]] = Term(j, row[_features[j]]);
        }
    }

    /// <summary>
    /// Scores a large batch on up to <paramref name="maxThreads"/> threads (0: one per processor), one contiguous chunk
    /// each; the result equals <see cref="Score"/>'s. Small batches stay on the calling thread.
    /// </summary>
    public void ScoreParallel(ReadOnlyMemory<float> features, Memory<float> scores, int maxThreads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxThreads);
        int rows = features.Length / FeatureSchema.Count;
        int threads = Math.Min(maxThreads == 0 ? Environment.ProcessorCount : maxThreads, rows / ParallelScoring.MinRowsPerThread);
        if (threads <= 1)
        {
            Score(features.Span, scores.Span);
            return;
        }

        int perThread = (rows + threads - 1) / threads;
        Parallel.For(0, threads, chunk =>
        {
            int first = chunk * perThread;
            int count = Math.Min(perThread, rows - first);
            if (count > 0)
            {
                Score(features.Span.Slice(first * FeatureSchema.Count, count * FeatureSchema.Count), scores.Span.Slice(first, count));
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Term(int j, float value)
    {
        float d = BinPosition(Transform(value), _lower[j], _inverseWidth[j]);
        if (d >= 0 && d < _bins)
        {
            return _table[(j * _bins) + (int)d];
        }

        // Outside the benign range: an empty bin's score, growing slowly with the distance from the edge.
        float beyond = d < 0 ? -d : d - _bins;
        return _outside[j] + MathF.Log(1f + beyond);
    }
}
