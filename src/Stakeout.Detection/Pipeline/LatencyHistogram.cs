namespace Stakeout.Detection;

/// <summary>
/// A lock-free latency histogram with log-spaced buckets (about 2 % wide, 1 µs to 100 s): fine enough for p50/p99 in
/// benchmarks, and summed into Prometheus' cumulative buckets for <c>/metrics</c>.
/// </summary>
public sealed class LatencyHistogram
{
    private const double Growth = 1.02;
    private static readonly double LogGrowth = Math.Log(Growth);
    private static readonly int BucketCount = (int)Math.Ceiling(Math.Log(1e8) / LogGrowth) + 2;
    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private long _sumMicros;

    /// <summary>Prometheus bucket upper bounds, in seconds.</summary>
    public static IReadOnlyList<double> PrometheusBounds { get; } = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Observations.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Sum of observations in seconds.</summary>
    public double SumSeconds => Volatile.Read(ref _sumMicros) / 1e6;

    /// <summary>Records one latency.</summary>
    public void Record(TimeSpan latency)
    {
        double micros = Math.Max(latency.Ticks / 10.0, 0);
        Interlocked.Increment(ref _counts[Index(micros)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumMicros, (long)micros);
    }

    /// <summary>The latency at quantile <paramref name="q"/> (0..1), to bucket precision; zero when empty.</summary>
    public TimeSpan Quantile(double q)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(q, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(q, 1);
        long total = Count;
        if (total == 0)
        {
            return TimeSpan.Zero;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return TimeSpan.FromTicks((long)(UpperMicros(i) * 10));
            }
        }

        return TimeSpan.FromTicks((long)(UpperMicros(_counts.Length - 1) * 10));
    }

    /// <summary>Cumulative counts at each of <see cref="PrometheusBounds"/>.</summary>
    public long[] Cumulative()
    {
        var result = new long[PrometheusBounds.Count];
        long seen = 0;
        int b = 0;
        for (int i = 0; i < _counts.Length && b < result.Length; i++)
        {
            while (b < result.Length && UpperMicros(i) > PrometheusBounds[b] * 1e6)
            {
                result[b++] = seen;
            }

            seen += Volatile.Read(ref _counts[i]);
        }

        while (b < result.Length)
        {
            result[b++] = seen;
        }

        return result;
    }

    private static int Index(double micros) =>
        micros <= 1 ? 0 : Math.Min(BucketCount - 1, (int)Math.Ceiling(Math.Log(micros) / LogGrowth));

    private static double UpperMicros(int index) => Math.Pow(Growth, index);
}
