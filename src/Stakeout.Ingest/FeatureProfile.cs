using System.Text.Json.Serialization;
using Stakeout.Core;

namespace Stakeout.Ingest;

/// <summary>Summary statistics of one feature over the rows profiled.</summary>
/// <param name="Name">Canonical feature name.</param>
/// <param name="Finite">Finite values seen.</param>
/// <param name="Missing">NaN values (NaN tokens, empty cells, absent columns).</param>
/// <param name="PositiveInfinity">+Infinity values.</param>
/// <param name="NegativeInfinity">-Infinity values.</param>
/// <param name="Min">Smallest finite value, or null when none.</param>
/// <param name="Max">Largest finite value, or null when none.</param>
/// <param name="Mean">Mean of finite values, or null when none.</param>
/// <param name="Std">Population standard deviation of finite values, or null when none.</param>
public sealed record FeatureStats(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("finite")] long Finite,
    [property: JsonPropertyName("missing")] long Missing,
    [property: JsonPropertyName("positive_infinity")] long PositiveInfinity,
    [property: JsonPropertyName("negative_infinity")] long NegativeInfinity,
    [property: JsonPropertyName("min")] double? Min,
    [property: JsonPropertyName("max")] double? Max,
    [property: JsonPropertyName("mean")] double? Mean,
    [property: JsonPropertyName("std")] double? Std)
{
    /// <summary>Values that are not finite.</summary>
    [JsonPropertyName("non_finite")] public long NonFinite => Missing + PositiveInfinity + NegativeInfinity;

    /// <summary>True when every finite value is the same (the feature carries no information here).</summary>
    [JsonPropertyName("constant")] public bool IsConstant => Finite > 0 && Min == Max;
}

/// <summary>Accumulates per-feature statistics over batches, in one pass and constant memory.</summary>
public sealed class FeatureProfile
{
    private readonly long[] _finite = new long[FeatureSchema.Count];
    private readonly long[] _nan = new long[FeatureSchema.Count];
    private readonly long[] _posInf = new long[FeatureSchema.Count];
    private readonly long[] _negInf = new long[FeatureSchema.Count];
    private readonly double[] _min = new double[FeatureSchema.Count];
    private readonly double[] _max = new double[FeatureSchema.Count];
    private readonly double[] _sum = new double[FeatureSchema.Count];
    private readonly double[] _sumSquares = new double[FeatureSchema.Count];

    /// <summary>Creates an empty profile.</summary>
    public FeatureProfile()
    {
        Array.Fill(_min, double.PositiveInfinity);
        Array.Fill(_max, double.NegativeInfinity);
    }

    /// <summary>Rows added.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds the rows of <paramref name="batch"/>.</summary>
    public void Add(FlowBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ReadOnlySpan<float> all = batch.Features.AsSpan(0, batch.Count * FeatureSchema.Count);
        for (int r = 0; r < batch.Count; r++)
        {
            ReadOnlySpan<float> row = all.Slice(r * FeatureSchema.Count, FeatureSchema.Count);
            for (int f = 0; f < row.Length; f++)
            {
                float v = row[f];
                if (float.IsFinite(v))
                {
                    _finite[f]++;
                    _sum[f] += v;
                    _sumSquares[f] += (double)v * v;
                    if (v < _min[f])
                    {
                        _min[f] = v;
                    }

                    if (v > _max[f])
                    {
                        _max[f] = v;
                    }
                }
                else if (float.IsNaN(v))
                {
                    _nan[f]++;
                }
                else if (v > 0)
                {
                    _posInf[f]++;
                }
                else
                {
                    _negInf[f]++;
                }
            }
        }

        Rows += batch.Count;
    }

    /// <summary>The statistics, one per feature in canonical order.</summary>
    public IReadOnlyList<FeatureStats> Results()
    {
        var result = new FeatureStats[FeatureSchema.Count];
        for (int f = 0; f < FeatureSchema.Count; f++)
        {
            long n = _finite[f];
            double? mean = n > 0 ? _sum[f] / n : null;
            double? std = n > 0 ? Math.Sqrt(Math.Max(0, (_sumSquares[f] / n) - (mean!.Value * mean.Value))) : null;
            result[f] = new FeatureStats(
                FeatureSchema.Names[f], n, _nan[f], _posInf[f], _negInf[f],
                n > 0 ? _min[f] : null, n > 0 ? _max[f] : null, mean, std);
        }

        return result;
    }
}
