using System.Runtime.CompilerServices;

namespace Stakeout.FlowMeter.Flows;

/// <summary>
/// Count, sum, min, max, mean and variance updated one value at a time, the way Apache Commons Math's
/// SummaryStatistics does it (incremental first and second moments), so the results round like CICFlowMeter's.
/// Variance and standard deviation are the sample (n - 1) forms; 0 for a single value.
/// </summary>
internal struct RunningStats
{
    public long N;
    public double Sum;
    public double Min;
    public double Max;
    private double _mean;
    private double _m2;

    public readonly double Mean => N == 0 ? double.NaN : _mean;

    public readonly double Variance => N == 0 ? double.NaN : N == 1 ? 0 : _m2 / (N - 1);

    public readonly double StandardDeviation => N == 0 ? double.NaN : Math.Sqrt(Variance);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(double value)
    {
        if (N == 0)
        {
            Min = value;
            Max = value;
            _mean = 0;
            _m2 = 0;
        }
        else
        {
            if (value < Min)
            {
                Min = value;
            }

            if (value > Max)
            {
                Max = value;
            }
        }

        N++;
        double dev = value - _mean;
        double nDev = dev / N;
        _mean += nDev;
        _m2 += (N - 1) * dev * nDev;
        Sum += value;
    }
}
