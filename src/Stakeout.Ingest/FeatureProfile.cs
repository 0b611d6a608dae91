using System.Runtime.Intrinsics;
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
        int vectorised = Vector256.IsHardwareAccelerated ? AddVectorised(all, batch.Count) : 0;
        AddScalar(all, batch.Count, vectorised);
        Rows += batch.Count;
    }

    /// <summary>Features [<paramref name="from"/>, Count) of every row, one value at a time.</summary>
    private void AddScalar(ReadOnlySpan<float> all, int rows, int from)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = all.Slice(r * FeatureSchema.Count, FeatureSchema.Count);
            for (int f = from; f < row.Length; f++)
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
    }

    /// <summary>
    /// The first features of every row, eight at a time (the profile was a serial, branchy loop over 78 values a row on
    /// the reading thread). Each lane adds its feature's values in row order, in double, exactly as the scalar loop does,
    /// so the sums are the same to the bit. Returns how many features it covered.
    /// </summary>
    private int AddVectorised(ReadOnlySpan<float> all, int rows)
    {
        const int Width = 8;
        const int Blocks = FeatureSchema.Count / Width;
        Span<Vector256<double>> sumLo = stackalloc Vector256<double>[Blocks];
        Span<Vector256<double>> sumHi = stackalloc Vector256<double>[Blocks];
        Span<Vector256<double>> sqLo = stackalloc Vector256<double>[Blocks];
        Span<Vector256<double>> sqHi = stackalloc Vector256<double>[Blocks];
        Span<Vector256<float>> min = stackalloc Vector256<float>[Blocks];
        Span<Vector256<float>> max = stackalloc Vector256<float>[Blocks];
        Span<Vector256<int>> finite = stackalloc Vector256<int>[Blocks];
        Span<Vector256<int>> nan = stackalloc Vector256<int>[Blocks];
        Span<Vector256<int>> posInf = stackalloc Vector256<int>[Blocks];
        Span<Vector256<int>> negInf = stackalloc Vector256<int>[Blocks];
        for (int b = 0; b < Blocks; b++)
        {
            int f = b * Width;
            sumLo[b] = Vector256.Create(_sum.AsSpan(f, 4));
            sumHi[b] = Vector256.Create(_sum.AsSpan(f + 4, 4));
            sqLo[b] = Vector256.Create(_sumSquares.AsSpan(f, 4));
            sqHi[b] = Vector256.Create(_sumSquares.AsSpan(f + 4, 4));
            min[b] = Vector256.Create(float.PositiveInfinity);
            max[b] = Vector256.Create(float.NegativeInfinity);
        }

        var positive = Vector256.Create(float.PositiveInfinity);
        var negative = Vector256.Create(float.NegativeInfinity);
        var zero = Vector256<float>.Zero;

        // Counts are kept in int lanes; a batch is far below 2^31 rows, and they are added to the long totals at the end.
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = all.Slice(r * FeatureSchema.Count, FeatureSchema.Count);
            for (int b = 0; b < Blocks; b++)
            {
                var v = Vector256.Create(row.Slice(b * Width, Width));
                var isFinite = Vector256.Equals(v - v, zero); // inf - inf and NaN - NaN are NaN
                var isNan = ~Vector256.Equals(v, v);
                var kept = Vector256.ConditionalSelect(isFinite, v, zero);
                var (lo, hi) = Vector256.Widen(kept);
                sumLo[b] += lo;
                sumHi[b] += hi;
                sqLo[b] += lo * lo;
                sqHi[b] += hi * hi;
                min[b] = Vector256.Min(min[b], Vector256.ConditionalSelect(isFinite, v, positive));
                max[b] = Vector256.Max(max[b], Vector256.ConditionalSelect(isFinite, v, negative));
                finite[b] -= isFinite.AsInt32();
                nan[b] -= isNan.AsInt32();
                posInf[b] -= Vector256.Equals(v, positive).AsInt32();
                negInf[b] -= Vector256.Equals(v, negative).AsInt32();
            }
        }

        for (int b = 0; b < Blocks; b++)
        {
            int f = b * Width;
            sumLo[b].CopyTo(_sum.AsSpan(f, 4));
            sumHi[b].CopyTo(_sum.AsSpan(f + 4, 4));
            sqLo[b].CopyTo(_sumSquares.AsSpan(f, 4));
            sqHi[b].CopyTo(_sumSquares.AsSpan(f + 4, 4));
            for (int i = 0; i < Width; i++)
            {
                _min[f + i] = Math.Min(_min[f + i], min[b][i]);
                _max[f + i] = Math.Max(_max[f + i], max[b][i]);
                _finite[f + i] += finite[b][i];
                _nan[f + i] += nan[b][i];
                _posInf[f + i] += posInf[b][i];
                _negInf[f + i] += negInf[b][i];
            }
        }

        return Blocks * Width;
    }

    /// <summary>
    /// Adds <paramref name="other"/>'s rows (as if they had been added here after this profile's own). Counts, minima
    /// and maxima are exact whatever the order; sums are added, so a profile merged from the same parts in the same order
    /// is the same to the bit.
    /// </summary>
    public void Merge(FeatureProfile other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int f = 0; f < FeatureSchema.Count; f++)
        {
            _finite[f] += other._finite[f];
            _nan[f] += other._nan[f];
            _posInf[f] += other._posInf[f];
            _negInf[f] += other._negInf[f];
            _min[f] = Math.Min(_min[f], other._min[f]);
            _max[f] = Math.Max(_max[f], other._max[f]);
            _sum[f] += other._sum[f];
            _sumSquares[f] += other._sumSquares[f];
        }

        Rows += other.Rows;
    }

    /// <summary>
    /// The profile of every batch of <paramref name="batches"/>, each profiled on a thread-pool thread while the next ones
    /// are read (at most <paramref name="parallelism"/> at once), merged in batch order: the same result as adding them
    /// one by one on the reading thread, without holding the reader up (issue 23, finding 5).
    /// </summary>
    public static FeatureProfile Collect(IEnumerable<FlowBatch> batches, int parallelism = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        int width = parallelism > 0 ? parallelism : Environment.ProcessorCount;
        var total = new FeatureProfile();
        var pending = new Queue<Task<FeatureProfile>>();
        foreach (var batch in batches)
        {
            pending.Enqueue(Task.Run(
                () =>
                {
                    var part = new FeatureProfile();
                    part.Add(batch);
                    return part;
                },
                cancellationToken));
            while (pending.Count > width)
            {
                total.Merge(pending.Dequeue().GetAwaiter().GetResult());
            }
        }

        while (pending.Count > 0)
        {
            total.Merge(pending.Dequeue().GetAwaiter().GetResult());
        }

        return total;
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
